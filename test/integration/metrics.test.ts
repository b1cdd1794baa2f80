/**
 * `GET /_bridge/metrics`: after a few legacy calls (ok, fault, upstream down) the Prometheus text
 * holds the expected counts, bounded labels, and no key, password or db name.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BridgeMetrics, MODEL_LABEL_CAP } from '../../src/server/metrics.ts';
import { jsonrpcCall, xmlrpcCall } from '../support/clients.ts';
import { closedPortUrl, KEYS, startStack, type Stack } from '../support/harness.ts';

const stacks: Stack[] = [];
afterEach(async () => {
  await Promise.all(stacks.splice(0).map((s) => s.close()));
});

async function stack(opts: Parameters<typeof startStack>[0] = {}): Promise<Stack> {
  const s = await startStack(opts);
  stacks.push(s);
  return s;
}

const WRONG_KEY = 'not-an-api-key-5f3a9c';

const call = (s: Stack, key: string, model: string, method: string, args: unknown[]) =>
  xmlrpcCall(`${s.bridge.url}/xmlrpc/2/object`, 'execute_kw', ['lab', 2, key, model, method, args]);

async function metrics(s: Stack): Promise<string> {
  const r = await fetch(`${s.bridge.url}/_bridge/metrics`);
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return r.text();
}

/** The value of the sample `name` whose labels include `labels` (summed if several match). */
function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries(
      [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) sum = (sum ?? 0) + Number(m[3]);
  }
  return sum;
}

describe('/_bridge/metrics', () => {
  it('counts calls by protocol, service, method and outcome, upstream time and errors, cache, auth', async () => {
    // No retries, so that each injected fault is one upstream error (retries: retry.test.ts).
    const s = await stack({ config: { retryMax: 0 } });
    expect((await call(s, KEYS.labAdmin, 'res.partner', 'search_count', [[]])).fault).toBeUndefined();
    // Not a built-in signature: read from /doc-bearer once (a miss), then from the cache (a hit).
    for (let i = 0; i < 2; i++)
      expect(
        (await call(s, KEYS.labAdmin, 'ir.config_parameter', 'get_param', ['web.base.url', 'x'])).fault,
      ).toBeUndefined();
    expect((await call(s, WRONG_KEY, 'res.partner', 'search_count', [[]])).fault).toBeDefined();
    s.odoo.setFault({ kind: 'status', status: 502, times: 1 });
    expect((await call(s, KEYS.labAdmin, 'res.partner', 'search_count', [[]])).fault).toBeDefined();
    s.odoo.setFault({ kind: 'garbage', times: 1 });
    expect((await call(s, KEYS.labAdmin, 'res.partner', 'search_count', [[]])).fault).toBeDefined();
    expect((await jsonrpcCall(s.bridge.url, 'common', 'version', [])).json?.result).toBeDefined();
    expect((await jsonrpcCall(s.bridge.url, 'nope', 'whatever', [])).json?.error).toBeDefined();

    const text = await metrics(s);
    const req = 'odoo_bridge_requests_total';
    const object = { protocol: 'xmlrpc/2', service: 'object', method: 'execute_kw' };
    expect(value(text, req, { ...object, outcome: 'ok' })).toBe(3);
    expect(value(text, req, { ...object, outcome: 'fault' })).toBe(3);
    expect(
      value(text, req, { protocol: 'jsonrpc', service: 'common', method: 'version', outcome: 'ok' }),
    ).toBe(1);
    // An unknown service is not a label value of its own.
    expect(
      value(text, req, { protocol: 'jsonrpc', service: 'other', method: 'other', outcome: 'fault' }),
    ).toBe(1);
    expect(text).not.toContain('nope');
    expect(value(text, req)).toBe(8);

    expect(value(text, 'odoo_bridge_request_duration_seconds_count')).toBe(8);
    expect(
      value(text, 'odoo_bridge_request_duration_seconds_count', { service: 'object', outcome: 'ok' }),
    ).toBe(3);
    expect(
      value(text, 'odoo_bridge_upstream_duration_seconds_count', { endpoint: 'json2' }),
    ).toBeGreaterThanOrEqual(5);
    expect(value(text, 'odoo_bridge_upstream_duration_seconds_count', { endpoint: 'doc' })).toBe(1);
    expect(value(text, 'odoo_bridge_upstream_errors_total', { endpoint: 'json2', kind: 'status' })).toBe(1);
    expect(value(text, 'odoo_bridge_upstream_errors_total', { endpoint: 'json2', kind: 'garbage' })).toBe(1);
    expect(value(text, 'odoo_bridge_upstream_errors_total', { kind: 'refused' })).toBeUndefined();
    expect(value(text, 'odoo_bridge_signature_cache_total', { result: 'miss' })).toBe(1);
    expect(value(text, 'odoo_bridge_signature_cache_total', { result: 'hit' })).toBe(1);
    expect(value(text, 'odoo_bridge_auth_failures_total', { mode: 'passthrough' })).toBe(1);

    // No secrets, no db, model or login without the opt-in.
    for (const secret of [KEYS.labAdmin, WRONG_KEY]) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/db="|model="|res\.partner|admin/);
  });

  it('counts an upstream that is down as refused', async () => {
    const s = await stack({ odooUrl: await closedPortUrl(), config: { retryMax: 0 } });
    expect((await call(s, KEYS.labAdmin, 'res.partner', 'search_count', [[]])).fault).toBeDefined();
    const text = await metrics(s);
    expect(value(text, 'odoo_bridge_requests_total', { service: 'object', outcome: 'fault' })).toBe(1);
    expect(value(text, 'odoo_bridge_upstream_errors_total', { endpoint: 'json2', kind: 'refused' })).toBe(1);
    expect(text).not.toContain(KEYS.labAdmin);
  });

  it('labels db, model and method only with BRIDGE_METRICS_MODELS, each bridge on its own registry', async () => {
    const [plain, labelled] = await Promise.all([stack(), stack({ config: { metricsModels: true } })]);
    for (const s of [plain, labelled])
      expect((await call(s, KEYS.labAdmin, 'res.partner', 'search_count', [[]])).fault).toBeUndefined();
    const text = await metrics(labelled);
    expect(
      value(text, 'odoo_bridge_requests_total', {
        db: 'lab',
        model: 'res.partner',
        model_method: 'search_count',
        outcome: 'ok',
      }),
    ).toBe(1);
    expect(text).not.toContain(KEYS.labAdmin);
    expect(value(await metrics(plain), 'odoo_bridge_requests_total')).toBe(1);
  });

  it('caps the model.method label values, then counts the rest as other', async () => {
    const m = new BridgeMetrics({ models: true });
    for (let i = 0; i < MODEL_LABEL_CAP + 50; i++)
      m.call({
        protocol: 'xmlrpc/2',
        service: 'object',
        method: 'execute_kw',
        outcome: 'ok',
        seconds: 0.01,
        db: 'lab',
        model: `x.model${i}`,
        modelMethod: 'read',
      });
    const text = await m.text();
    expect(value(text, 'odoo_bridge_requests_total', { model: 'other', model_method: 'other' })).toBe(50);
    expect(text.split('\n').filter((l) => l.startsWith('odoo_bridge_requests_total{'))).toHaveLength(
      MODEL_LABEL_CAP + 1,
    );
  });
});
