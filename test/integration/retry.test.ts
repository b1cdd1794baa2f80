/**
 * Retries of requests to Odoo (src/upstream/retry.ts) end to end: a write is never sent twice
 * once it may have reached Odoo; a read cut off is sent again; a call that never reached Odoo
 * (connection refused) is sent again, write or not; the retry budget bounds it all.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { BridgeConfig } from '../../src/config.ts';
import { jsonrpcCall, lastLine, xmlrpcCall, type XmlRpcAnswer } from '../support/clients.ts';
import type { FakeFault } from '../support/fake-odoo.ts';
import { KEYS, startStack, type Stack } from '../support/harness.ts';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

async function start(config: Partial<BridgeConfig> = {}): Promise<Stack> {
  stack = await startStack({ config: { upstreamTimeoutMs: 3000, retryBackoffMs: 5, ...config } });
  await count(stack); // verifies the key (res.users.context_get) outside the faults
  return stack;
}

const execute = (s: Stack, method: string, args: unknown[]): Promise<XmlRpcAnswer> =>
  xmlrpcCall(`${s.bridge.url}/xmlrpc/2/object`, 'execute_kw', [
    'lab',
    2,
    KEYS.labAdmin,
    'res.partner',
    method,
    args,
  ]);
const count = (s: Stack) => execute(s, 'search_count', [[]]);
const create = (s: Stack, name: string) => execute(s, 'create', [{ name }]);

/** Requests the fake received for `res.partner.<method>` since `from`. */
const sent = (s: Stack, method: string, from = 0): number =>
  s.odoo.requests.slice(from).filter((r) => r.path === `/json/2/res.partner/${method}`).length;

async function metric(s: Stack, series: string): Promise<number> {
  const text = await (await fetch(`${s.bridge.url}/_bridge/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? NaN : Number(line.slice(series.length + 1));
}

const partnersNamed = (s: Stack, name: string): number =>
  [...(s.odoo.data['lab']?.models['res.partner']?.records.values() ?? [])].filter((r) => r['name'] === name)
    .length;

describe('retries', () => {
  const cutOff: FakeFault[] = [
    { kind: 'reset', times: 1 },
    { kind: 'reset-mid-body', times: 1 },
    { kind: 'truncate', times: 1 },
  ];
  for (const fault of cutOff) {
    it(`a write whose connection is cut (${fault.kind}) is sent once and answered a fault`, async () => {
      const s = await start();
      const from = s.odoo.requests.length;
      s.odoo.setFault(fault);
      const a = await create(s, `once-${fault.kind}`);
      expect(a.fault?.faultCode).toBe(1);
      expect(lastLine(a.fault?.faultString ?? '')).toMatch(
        /^odoo_rpc_bridge\.UpstreamError: Odoo at .*closed the connection before its answer was complete$/,
      );
      expect(sent(s, 'create', from)).toBe(1);
      // reset: Odoo never ran it; reset-mid-body and truncate: it did, exactly once.
      expect(partnersNamed(s, `once-${fault.kind}`)).toBe(fault.kind === 'reset' ? 0 : 1);
      expect(await metric(s, 'odoo_bridge_upstream_retries_total{reason="reset"}')).toBe(0);
    });

    it(`a read whose connection is cut once (${fault.kind}) is sent again and answered`, async () => {
      const s = await start();
      const expected = (await count(s)).value;
      const from = s.odoo.requests.length;
      s.odoo.setFault(fault);
      const a = await count(s);
      expect(a.fault).toBeUndefined();
      expect(a.value).toBe(expected);
      expect(sent(s, 'search_count', from)).toBe(2);
      expect(await metric(s, 'odoo_bridge_upstream_retries_total{reason="reset"}')).toBe(1);
      const warn = s.logs.find((l) => l.includes('retrying a request to Odoo'));
      expect(warn).toBeDefined();
      expect(JSON.parse(warn ?? '{}')).toMatchObject({
        level: 40,
        path: '/json/2/res.partner/search_count',
        reason: 'reset',
        attempt: 1,
      });
      expect(warn).not.toContain(KEYS.labAdmin);
    });
  }

  it('a read a proxy answered 502 once is sent again; a write is not', async () => {
    const s = await start();
    let from = s.odoo.requests.length;
    s.odoo.setFault({ kind: 'status', status: 502, times: 1 });
    const j = await jsonrpcCall(s.bridge.url, 'object', 'execute_kw', [
      'lab',
      2,
      KEYS.labAdmin,
      'res.partner',
      'search_count',
      [[]],
    ]);
    expect(j.json?.result).toBeTypeOf('number');
    expect(sent(s, 'search_count', from)).toBe(2);
    expect(await metric(s, 'odoo_bridge_upstream_retries_total{reason="status"}')).toBe(1);

    from = s.odoo.requests.length;
    s.odoo.setFault({ kind: 'status', status: 502, times: 1 });
    const w = await create(s, 'behind a proxy');
    expect(lastLine(w.fault?.faultString ?? '')).toMatch(/answered HTTP 502/);
    expect(sent(s, 'create', from)).toBe(1);
  });

  it('a timed-out read is not sent again', async () => {
    const s = await start({ upstreamTimeoutMs: 300 });
    const from = s.odoo.requests.length;
    s.odoo.setFault({ kind: 'delay', ms: 1500, times: 1 });
    const a = await count(s);
    expect(lastLine(a.fault?.faultString ?? '')).toMatch(/did not answer within 300 ms/);
    expect(sent(s, 'search_count', from)).toBe(1);
  });

  it('reads and writes refused at connect are sent again once Odoo listens again', async () => {
    // Long backoffs (0.5–1.5 s, then twice that) leave time to see the refusals and re-open.
    const s = await start({ retryBackoffMs: 1000, retryMax: 3, upstreamTimeoutMs: 20_000 });
    const before = (await count(s)).value as number;
    await s.odoo.stopListening();
    const from = s.odoo.requests.length;
    const read = count(s);
    const write = create(s, 'after the outage');
    while ((await metric(s, 'odoo_bridge_upstream_retries_total{reason="connect"}')) < 2)
      await new Promise((r) => setTimeout(r, 20));
    expect(
      await metric(s, 'odoo_bridge_upstream_errors_total{endpoint="json2",kind="refused"}'),
    ).toBeGreaterThanOrEqual(2);
    await s.odoo.listenAgain();
    const [r, w] = await Promise.all([read, write]);
    // Both were retried with random backoffs: the count sees the new partner if the create landed first.
    const order = s.odoo.requests.slice(from).map((q) => q.path);
    const createdFirst =
      order.findIndex((p) => p.endsWith('/create')) < order.findIndex((p) => p.endsWith('/search_count'));
    expect(r.value).toBe(createdFirst ? before + 1 : before);
    expect(w.value).toBeTypeOf('number');
    expect(sent(s, 'create', from)).toBe(1);
    expect(partnersNamed(s, 'after the outage')).toBe(1);
  });

  it('an empty retry budget answers the fault without retrying', async () => {
    // Budget: no share of the traffic, 0.1 retry/s over the 10 s window = one retry.
    const s = await start({ retryBudgetRatio: 0, retryBudgetPerSecond: 0.1 });
    const from = s.odoo.requests.length;
    s.odoo.setFault({ kind: 'reset' });
    const first = await count(s);
    const second = await count(s);
    for (const a of [first, second])
      expect(lastLine(a.fault?.faultString ?? '')).toMatch(/closed the connection before its answer/);
    expect(sent(s, 'search_count', from)).toBe(3); // 2 attempts, then 1
    expect(await metric(s, 'odoo_bridge_upstream_retries_total{reason="reset"}')).toBe(1);
    expect(await metric(s, 'odoo_bridge_upstream_retry_budget_exhausted_total{reason="reset"}')).toBe(1);
    expect(s.logs.some((l) => l.includes('retry budget spent'))).toBe(true);
  });

  it('BRIDGE_RETRY_MAX=0 never retries', async () => {
    const s = await start({ retryMax: 0 });
    const from = s.odoo.requests.length;
    s.odoo.setFault({ kind: 'reset', times: 1 });
    expect((await count(s)).fault?.faultCode).toBe(1);
    expect(sent(s, 'search_count', from)).toBe(1);
  });
});
