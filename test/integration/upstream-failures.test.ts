/**
 * Odoo down, slow, or answering garbage: the legacy client gets a clear fault within the
 * configured timeout, never a hang, a crash or a truncated answer.
 */
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeFault } from '../support/fake-odoo.ts';
import { jsonrpcCall, lastLine, xmlrpcCall } from '../support/clients.ts';
import { KEYS, startStack, type Stack } from '../support/harness.ts';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const search = (s: Stack) =>
  xmlrpcCall(`${s.bridge.url}/xmlrpc/2/object`, 'execute_kw', [
    'lab',
    2,
    KEYS.labAdmin,
    'res.partner',
    'search_count',
    [[]],
  ]);

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('upstream failures', () => {
  it('connection refused → a fault naming the upstream', async () => {
    const port = await closedPort();
    stack = await startStack({ odooUrl: `http://127.0.0.1:${port}` });
    const a = await search(stack);
    expect(a.fault?.faultCode).toBe(1);
    expect(lastLine(a.fault?.faultString ?? '')).toBe(
      `odoo_rpc_bridge.UpstreamError: cannot reach Odoo at http://127.0.0.1:${port}/json/2/res.users/context_get: connection refused`,
    );
    const v = await xmlrpcCall(`${stack.bridge.url}/xmlrpc/2/common`, 'version', []);
    expect(lastLine(v.fault?.faultString ?? '')).toMatch(
      /^odoo_rpc_bridge\.UpstreamError: cannot reach Odoo/,
    );
  });

  it('the listener closed (refused at its port) → a fault, and calls work once it listens again', async () => {
    stack = await startStack({ config: { retryBackoffMs: 5 } });
    await search(stack);
    await stack.odoo.stopListening();
    const port = new URL(stack.odoo.url).port;
    const a = await search(stack);
    expect(lastLine(a.fault?.faultString ?? '')).toBe(
      `odoo_rpc_bridge.UpstreamError: cannot reach Odoo at http://127.0.0.1:${port}/json/2/res.partner/search_count: connection refused`,
    );
    const j = await jsonrpcCall(stack.bridge.url, 'object', 'execute_kw', [
      'lab',
      2,
      KEYS.labAdmin,
      'res.partner',
      'search_count',
      [[]],
    ]);
    expect(j.json?.error?.data.message).toMatch(/connection refused$/);
    await stack.odoo.listenAgain();
    expect((await search(stack)).value).toBeTypeOf('number');
  });

  it('garbage where the bridge checks a key (its own call) → the same one wording', async () => {
    stack = await startStack();
    stack.odoo.setFault({ kind: 'truncated-json' });
    const x = await search(stack);
    expect(lastLine(x.fault?.faultString ?? '')).toMatch(
      /^odoo_rpc_bridge\.UpstreamError: Odoo at http:\/\/127\.0\.0\.1:\d+ answered res\.users\.context_get with something that is not JSON: it begins /,
    );
  });

  it('slow upstream → a timeout fault within the configured time', async () => {
    stack = await startStack({ config: { upstreamTimeoutMs: 300 } });
    await search(stack); // warm the key cache
    stack.odoo.setFault({ kind: 'delay', ms: 3000 });
    const started = Date.now();
    const a = await search(stack);
    const took = Date.now() - started;
    expect(lastLine(a.fault?.faultString ?? '')).toMatch(
      /did not answer within 300 ms \(BRIDGE_UPSTREAM_TIMEOUT_MS\)$/,
    );
    expect(took).toBeLessThan(2500);
  });

  // One wording wherever a garbage answer is found (issue 20, A.6).
  const NOT_JSON =
    /Odoo at http:\/\/127\.0\.0\.1:\d+ answered res\.partner\.search_count with something that is not JSON: /;
  const cases: Array<[string, FakeFault, RegExp]> = [
    [
      'a 502 HTML page',
      { kind: 'status', status: 502 },
      /answered HTTP 502 \(text\/html.*\) for res\.partner\.search_count: .*Bad Gateway/,
    ],
    ['garbage with a JSON content type', { kind: 'garbage' }, NOT_JSON],
    ['a body cut short', { kind: 'truncate' }, /closed the connection before its answer was complete/],
    ['a reset connection', { kind: 'reset' }, /closed the connection|failed/],
    ['a slow body', { kind: 'slow-body', ms: 3000 }, /did not answer within/],
    [
      'a reset in the middle of a chunked body',
      { kind: 'reset-mid-body' },
      /closed the connection before its answer was complete/,
    ],
    ['a complete answer whose JSON is cut short', { kind: 'truncated-json' }, NOT_JSON],
    ['10 MB of garbage with a JSON content type', { kind: 'big-garbage' }, NOT_JSON],
  ];
  for (const [what, fault, expected] of cases) {
    it(`${what} → a clear fault on XML-RPC and JSON-RPC`, async () => {
      stack = await startStack({ config: { upstreamTimeoutMs: 500 } });
      await search(stack);
      stack.odoo.setFault(fault);
      const x = await search(stack);
      expect(x.fault?.faultCode).toBe(1);
      expect(lastLine(x.fault?.faultString ?? '')).toMatch(/^odoo_rpc_bridge\.UpstreamError: /);
      expect(lastLine(x.fault?.faultString ?? '')).toMatch(expected);
      const j = await jsonrpcCall(stack.bridge.url, 'object', 'execute_kw', [
        'lab',
        2,
        KEYS.labAdmin,
        'res.partner',
        'search_count',
        [[]],
      ]);
      expect(j.status).toBe(200);
      expect(j.json?.error?.data.name).toBe('odoo_rpc_bridge.UpstreamError');
      expect(j.json?.error?.data.message).toMatch(expected);
      expect(x.fault?.faultString.length).toBeLessThan(4000);
      expect(j.text.length).toBeLessThan(8000);
      // A write under the same fault is sent exactly once (src/upstream/retry.ts).
      const from = stack.odoo.requests.length;
      const w = await xmlrpcCall(`${stack.bridge.url}/xmlrpc/2/object`, 'execute_kw', [
        'lab',
        2,
        KEYS.labAdmin,
        'res.partner',
        'create',
        [{ name: `under ${fault.kind}` }],
      ]);
      expect(lastLine(w.fault?.faultString ?? '')).toMatch(/^odoo_rpc_bridge\.UpstreamError: /);
      expect(stack.odoo.requests.slice(from).filter((r) => r.path.endsWith('/create'))).toHaveLength(1);
      stack.odoo.setFault(null);
      expect((await search(stack)).value).toBeTypeOf('number');
    });
  }
});
