/**
 * The one log line per call, as `node src/main.ts` writes it to standard output (in batches,
 * src/log.ts): every call's line is there once the process has exited after SIGTERM, none is
 * lost, and a line holds only what it is meant to (no key, no parameters).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOdoo, type FakeOdoo } from '../support/fake-odoo.ts';
import { KEYS } from '../support/harness.ts';

const MAIN = new URL('../../src/main.ts', import.meta.url).pathname;
const CALLS = 40;

describe('call log lines (node src/main.ts)', () => {
  let odoo: FakeOdoo;
  beforeAll(async () => {
    odoo = await startFakeOdoo();
  });
  afterAll(() => odoo.close());

  it('writes one line per call, all of them by the time the process has exited after SIGTERM', async () => {
    const child = spawn(process.execPath, [MAIN, '--listen', '127.0.0.1:0'], {
      env: { PATH: process.env['PATH'] ?? '', ODOO_URL: odoo.url },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const closed = once(child.stdout, 'close');
    try {
      while (!/"url":"([^"]+)"/.test(out)) await once(child.stdout, 'data');
      const url = /"url":"([^"]+)"/.exec(out)?.[1] ?? '';
      const answers = await Promise.all(
        Array.from({ length: CALLS }, async (_, id) => {
          const r = await fetch(`${url}/jsonrpc`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-request-id': `call-log-${id}` },
            body: JSON.stringify({
              jsonrpc: '2.0',
              method: 'call',
              id,
              params: {
                service: 'object',
                method: 'execute_kw',
                args: ['lab', 2, KEYS.labAdmin, 'res.partner', 'search_count', [[]]],
              },
            }),
          });
          return (await r.json()) as { result?: unknown };
        }),
      );
      expect(answers.every((a) => typeof a.result === 'number')).toBe(true);
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number];
      await closed;
      expect(code).toBe(0);

      const lines = out
        .split('\n')
        .filter((l) => l.includes('"msg":"legacy call"'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.map((l) => l['requestId']).sort()).toEqual(
        Array.from({ length: CALLS }, (_, id) => `call-log-${id}`).sort(),
      );
      for (const line of lines) {
        expect(line).toMatchObject({
          level: 30,
          app: 'odoo-rpc-bridge',
          protocol: 'jsonrpc',
          service: 'object',
          call: 'execute_kw',
          db: 'lab',
          uid: 2,
          model: 'res.partner',
          method: 'search_count',
          upstreamStatus: 200,
          outcome: 'ok',
        });
        expect(typeof line['ms']).toBe('number');
        // The upstream's share of the call: measured, and part of the call's own time.
        expect(typeof line['upstreamMs']).toBe('number');
        expect(line['upstreamMs'] as number).toBeGreaterThan(0);
        expect(line['upstreamMs'] as number).toBeLessThanOrEqual((line['ms'] as number) + 0.1);
      }
      expect(out).not.toContain(KEYS.labAdmin);
      expect(out).toMatch(/"msg":"stopped"/);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
