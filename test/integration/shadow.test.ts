/**
 * Shadow mode (issue 18, item 4): a translate upstream with `shadow: 1` whose legacy endpoint
 * (`/jsonrpc`) answers one read differently from what the bridge translated. The upstream here is
 * the JSON-2 fake for `/json/2/*` and the Python legacy stand-in for `/jsonrpc` behind one port (a
 * small proxy), their records set alike but for the number of partners.
 *
 * Pinned: exactly that read is reported as a mismatch (metric, log line with the difference,
 * inventory counts), the other read matches; the client got the translated answer before the
 * legacy endpoint was even asked (the shadow call waits 1.5 s there; the client's answer does not);
 * writes are never shadowed; the password never reaches the shadow call (the API key does).
 */
import { createServer, request, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfigFile } from '../../src/config.ts';
import { xmlrpcCall } from '../support/clients.ts';
import { startFakeOdoo, type FakeOdoo } from '../support/fake-odoo.ts';
import { KEYS, startStack, type Stack } from '../support/harness.ts';
import { startLegacyOdoo, type LegacyOdoo } from '../support/legacy-odoo.ts';

let json2: FakeOdoo;
let legacy: LegacyOdoo;
let front: Server;
let frontUrl: string;
let stack: Stack;
let dir: string;

/** One upstream URL: /jsonrpc and /xmlrpc to the legacy stand-in, the rest to the JSON-2 fake. */
async function startFront(): Promise<void> {
  front = createServer((req, res) => {
    const target = new URL(
      (req.url ?? '/').startsWith('/jsonrpc') || (req.url ?? '').startsWith('/xmlrpc')
        ? legacy.url
        : json2.url,
    );
    const up = request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const address = front.address();
  frontUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

const call = (method: string, args: unknown[]) =>
  xmlrpcCall(
    `${stack.bridge.url}/xmlrpc/2/object`,
    'execute_kw',
    ['lab', 2, KEYS.labAdmin, 'res.partner', method, args],
    {
      headers: { 'User-Agent': 'shadowed-integration/1' },
    },
  );

async function shadowCounts(): Promise<Record<string, number>> {
  const text = await (await fetch(`${stack.bridge.url}/_bridge/metrics`)).text();
  return Object.fromEntries(
    [...text.matchAll(/^odoo_bridge_shadow_total\{outcome="(\w+)"\} (\d+)$/gm)].map((m) => [
      m[1],
      Number(m[2]),
    ]),
  );
}

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = await read();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  return read();
}

describe('shadow mode', () => {
  beforeAll(async () => {
    json2 = await startFakeOdoo();
    legacy = await startLegacyOdoo('lab', { admin: [2, KEYS.labAdmin] });
    await startFront();
    dir = mkdtempSync(join(tmpdir(), 'bridge-shadow-'));
    const file = join(dir, 'bridge.yaml');
    writeFileSync(
      file,
      `upstreams:\n  - name: new\n    url: ${frontUrl}\n    databases: ["*"]\n    shadow: 1\n`,
    );
    stack = await startStack({ odooUrl: frontUrl, config: { configPath: file, file: readConfigFile(file) } });
  });

  afterAll(async () => {
    await stack?.close();
    legacy?.close();
    await json2?.close();
    front?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports exactly the read answered differently, after the client has its answer', async () => {
    // The legacy endpoint's partner 7 as the JSON-2 fake has it; its count of partners is not.
    const seven = (await call('read', [[7], ['name']])).value as Array<{ id: number; name: string }>;
    await until(shadowCounts, (c) => (c['match'] ?? 0) + (c['mismatch'] ?? 0) + (c['error'] ?? 0) >= 1);
    await legacy.partners({ 7: { id: 7, name: seven[0]?.name ?? '' } });
    const before = await shadowCounts();

    await legacy.delay(1500);
    const started = Date.now();
    const read = await call('read', [[7], ['name']]);
    const count = await call('search_count', [[]]);
    const tookMs = Date.now() - started;
    // The translated answers, at once: neither waited for the legacy endpoint's 1.5 s.
    expect(read.value).toEqual(seven);
    expect(count.value).toEqual(expect.any(Number));
    expect(count.value).not.toBe(1);
    expect(tookMs).toBeLessThan(1500);
    // A write is never shadowed.
    await call('write', [[7], { phone: '+32 2 555 0123' }]);

    const after = await until(
      shadowCounts,
      (c) =>
        (c['match'] ?? 0) + (c['mismatch'] ?? 0) >= (before['match'] ?? 0) + (before['mismatch'] ?? 0) + 2,
    );
    expect((after['match'] ?? 0) - (before['match'] ?? 0)).toBe(1);
    expect((after['mismatch'] ?? 0) - (before['mismatch'] ?? 0)).toBe(1);
    const asked = (await legacy.requests()).filter((r) => r.path === '/jsonrpc').map((r) => r.model_method);
    expect(asked).not.toContain('write');

    // The log line names the difference: the bridge's count (the JSON-2 fake's) → the legacy one (1).
    const mismatch = stack.logs.find((l) => l.includes('shadow mismatch') && l.includes('search_count'));
    expect(mismatch).toContain(`"differences":["(value): ${String(count.value)} → 1"]`);
    expect(mismatch).toContain('"method":"search_count"');
    expect(stack.logs.join('')).not.toContain(KEYS.labAdmin);

    // The inventory counts them per kind of call.
    const inv = (await (await fetch(`${stack.bridge.url}/_bridge/inventory`)).json()) as {
      clients: Array<{
        userAgent: string;
        calls: Array<{
          method: string;
          shadow: { match: number; mismatch: number; lastDiff: string | null } | null;
        }>;
      }>;
    };
    const calls = inv.clients.find((c) => c.userAgent === 'shadowed-integration/1')?.calls ?? [];
    expect(calls.find((c) => c.method === 'search_count')?.shadow).toMatchObject({
      match: 0,
      mismatch: 1,
      lastDiff: `(value): ${String(count.value)} → 1`,
    });
    // The read: one mismatch before the stand-in's partner was set like the fake's, one match after.
    expect(calls.find((c) => c.method === 'read')?.shadow).toMatchObject({ match: 1, mismatch: 1 });
    expect(calls.find((c) => c.method === 'write')?.shadow).toBeNull();
  }, 30_000);
});
