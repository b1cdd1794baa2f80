/**
 * The probes under /_bridge/ and graceful shutdown: SIGTERM while slow calls are in flight loses
 * none of them and exits 0; BRIDGE_SHUTDOWN_GRACE_SECONDS bounds the wait.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOdoo, type FakeOdoo } from '../support/fake-odoo.ts';
import { closedPortUrl, KEYS, startStack, type Stack } from '../support/harness.ts';

const MAIN = new URL('../../src/main.ts', import.meta.url).pathname;

describe('health', () => {
  let stack: Stack;
  let down: Stack;
  beforeAll(async () => {
    stack = await startStack();
    down = await startStack({ odooUrl: await closedPortUrl() });
  });
  afterAll(async () => {
    await stack.close();
    await down.close();
  });

  it('livez answers 200 {"status":"ok"}, whatever the upstream', async () => {
    for (const s of [stack, down]) {
      const r = await fetch(`${s.bridge.url}/_bridge/livez`);
      expect(r.status).toBe(200);
      expect(await r.json()).toEqual({ status: 'ok' });
    }
    expect(stack.odoo.requests.filter((q) => q.path === '/web/version')).toHaveLength(0);
  });

  it('readyz asks /web/version every time: 200 when Odoo answers it', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await fetch(`${stack.bridge.url}/_bridge/readyz`);
      expect(r.status).toBe(200);
      expect(await r.json()).toEqual({ status: 'ok', upstream: { version: '19.0' } });
    }
    expect(stack.odoo.requests.filter((q) => q.path === '/web/version')).toHaveLength(2);
  });

  it('readyz answers 503 with the reason when Odoo cannot be reached', async () => {
    const r = await fetch(`${down.bridge.url}/_bridge/readyz`);
    expect(r.status).toBe(503);
    const body = (await r.json()) as { status: string; reason: string };
    expect(body.status).toBe('unavailable');
    expect(body.reason).toMatch(
      /cannot reach Odoo at http:\/\/127\.0\.0\.1:\d+\/web\/version: connection refused/,
    );
  });

  it("other /_bridge/ paths are the bridge's 404, never forwarded", async () => {
    const r = await fetch(`${stack.bridge.url}/_bridge/nothing`);
    expect(r.status).toBe(404);
    expect(stack.odoo.requests.some((q) => q.path.startsWith('/_bridge'))).toBe(false);
  });
});

describe('graceful shutdown (node src/main.ts)', () => {
  let odoo: FakeOdoo;
  beforeAll(async () => {
    odoo = await startFakeOdoo();
  });
  afterAll(() => odoo.close());

  async function start(
    env: Record<string, string> = {},
  ): Promise<{ child: ChildProcessWithoutNullStreams; url: string; out: () => string }> {
    const child = spawn(process.execPath, [MAIN, '--listen', '127.0.0.1:0'], {
      env: { PATH: process.env['PATH'] ?? '', ODOO_URL: odoo.url, ...env },
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    while (!/"url":"([^"]+)"/.test(out)) await once(child.stdout, 'data');
    return { child, url: /"url":"([^"]+)"/.exec(out)?.[1] ?? '', out: () => out };
  }

  const call = (url: string, id: number): Promise<Response> =>
    fetch(`${url}/jsonrpc`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
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

  it('SIGTERM during slow calls: every call gets its real answer, then exit 0', async () => {
    const { child, url, out } = await start();
    const expected = (await (await call(url, 0)).json()) as { result: number };
    expect(typeof expected.result).toBe('number');
    odoo.setFault({ kind: 'delay', ms: 1000 });
    try {
      const before = odoo.requests.length;
      const calls = [1, 2, 3, 4, 5].map((id) => call(url, id));
      while (odoo.requests.length < before + 5) await new Promise((r) => setTimeout(r, 20));
      const t0 = Date.now();
      child.kill('SIGTERM');
      const answers = await Promise.all(calls.map(async (p) => (await p).json()));
      expect(answers).toEqual([1, 2, 3, 4, 5].map((id) => ({ jsonrpc: '2.0', id, result: expected.result })));
      const [code] = (await once(child, 'exit')) as [number];
      expect(code).toBe(0);
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(out()).toMatch(/"msg":"shutting down"/);
      expect(out()).toMatch(/"clean":true/);
    } finally {
      odoo.setFault(null);
      child.kill('SIGKILL');
    }
  });

  it('BRIDGE_SHUTDOWN_GRACE_SECONDS bounds the wait: calls still running are cut, exit 0', async () => {
    const { child, url, out } = await start({ BRIDGE_SHUTDOWN_GRACE_SECONDS: '1' });
    odoo.setFault({ kind: 'delay', ms: 8000 });
    try {
      const before = odoo.requests.length;
      const slow = call(url, 1).then(
        () => 'answered',
        () => 'cut',
      );
      while (odoo.requests.length < before + 1) await new Promise((r) => setTimeout(r, 20));
      const t0 = Date.now();
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number];
      expect(code).toBe(0);
      expect(Date.now() - t0).toBeLessThan(4000);
      expect(await slow).toBe('cut');
      expect(out()).toMatch(/"clean":false/);
    } finally {
      odoo.setFault(null);
      child.kill('SIGKILL');
    }
  });
});
