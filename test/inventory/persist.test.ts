/**
 * The inventory file: saved atomically (temporary file + rename, nothing left behind), saved
 * periodically only when something changed, once more on close; loading tolerates a missing,
 * unreadable, corrupt or foreign file with a warning.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Inventory, type Observation } from '../../src/inventory/store.ts';
import { InventoryPersister, loadInventory, saveInventory } from '../../src/inventory/persist.ts';
import { createLogger } from '../../src/log.ts';
import { struct } from '../../src/values.ts';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inventory-persist-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  vi.useRealTimers();
});

function logger(): { log: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { log: createLogger('info', sink), lines };
}

const call: Observation = {
  protocol: 'xmlrpc/2',
  service: 'object',
  function: 'execute_kw',
  params: undefined,
  notes: { db: 'lab', uid: 2, model: 'res.partner', method: 'read' },
  json2: { model: 'res.partner', method: 'read', body: struct({ ids: [1], fields: ['name'] }) },
  fault: undefined,
  userAgent: 'saved/1',
  address: '127.0.0.1',
};

describe('inventory file', () => {
  it('saves atomically and loads back the same inventory', async () => {
    const file = join(dir, 'roundtrip.json');
    const a = new Inventory();
    a.record(call);
    await saveInventory(a, file);
    expect((await readdir(dir)).filter((f) => f.startsWith('roundtrip'))).toEqual(['roundtrip.json']);
    const b = new Inventory();
    const { log } = logger();
    expect(await loadInventory(b, file, log)).toBe(true);
    expect(b.snapshot({ dbHeader: true }).clients).toEqual(a.snapshot({ dbHeader: true }).clients);
  });

  it('starts empty, with a warning, from a missing, unreadable, corrupt or foreign file', async () => {
    const { log, lines } = logger();
    const inv = new Inventory();
    expect(await loadInventory(inv, join(dir, 'absent.json'), log)).toBe(false);
    expect(lines.at(-1)).toContain('inventory file absent');

    const folder = join(dir, 'a-directory.json');
    await mkdir(folder);
    expect(await loadInventory(inv, folder, log)).toBe(false);
    expect(lines.at(-1)).toContain('inventory file cannot be read');

    const corrupt = join(dir, 'corrupt.json');
    await writeFile(corrupt, '{"format": "odoo-rpc-bridge inventory", "clie');
    expect(await loadInventory(inv, corrupt, log)).toBe(false);
    expect(lines.at(-1)).toContain('inventory file is not JSON');
    expect(lines.at(-1)).toContain('"level":40');

    const foreign = join(dir, 'foreign.json');
    await writeFile(foreign, '{"some": "other file"}');
    expect(await loadInventory(inv, foreign, log)).toBe(false);
    expect(lines.at(-1)).toContain('inventory file is not an inventory');
    expect(inv.snapshot({ dbHeader: true }).clients).toEqual([]);
  });

  it('saves every interval only when something changed, and on close', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const file = join(dir, 'periodic.json');
    const { log } = logger();
    const inv = new Inventory();
    const p = new InventoryPersister(inv, file, log, 30_000);
    await vi.advanceTimersByTimeAsync(30_000);
    await p.save(); // waits for a save in flight, if any
    await expect(readFile(file, 'utf8')).rejects.toThrow(/ENOENT/); // nothing changed: nothing written

    inv.record(call);
    await vi.advanceTimersByTimeAsync(30_000);
    await p.save();
    const first = JSON.parse(await readFile(file, 'utf8')) as { clients: Array<{ count: number }> };
    expect(first.clients[0]?.count).toBe(1);

    inv.record(call);
    await p.close();
    const last = JSON.parse(await readFile(file, 'utf8')) as { clients: Array<{ count: number }> };
    expect(last.clients[0]?.count).toBe(2);
    // Closed: the timer is gone, later changes are not written.
    inv.record(call);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(
      (JSON.parse(await readFile(file, 'utf8')) as { clients: Array<{ count: number }> }).clients[0]?.count,
    ).toBe(2);
  });

  it('logs a failed save and carries on', async () => {
    const { log, lines } = logger();
    const inv = new Inventory();
    const p = new InventoryPersister(inv, join(dir, 'no-such-dir', 'x.json'), log);
    inv.record(call);
    await p.close();
    expect(lines.join('')).toContain('inventory file cannot be written');
    expect((await readdir(dir)).some((f) => f.endsWith('.tmp'))).toBe(false);
  });
});
