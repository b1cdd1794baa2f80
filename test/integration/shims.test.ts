/**
 * Compatibility shims (src/translate/shims.ts), each off (Odoo 19's own answer) and on (the
 * legacy answer from one JSON-2 call), through the xmlrpc npm client and /jsonrpc.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigFile } from '../../src/config.ts';
import { jsonrpcCall, lastLine, xmlrpcCall } from '../support/clients.ts';
import { KEYS, startStack, type Stack } from '../support/harness.ts';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});
const object = (s: Stack) => `${s.bridge.url}/xmlrpc/2/object`;
const modelCalls = (s: Stack) =>
  s.odoo.requests
    .filter((r) => r.path.startsWith('/json/2/') && !r.path.includes('context_get'))
    .map((r) => [r.path, r.json]);
const withShims = (shims: Record<string, boolean>) =>
  startStack({ config: { file: parseConfigFile({ shims }, 'test') } });
const call = (s: Stack, model: string, method: string, args: unknown[], kw?: Record<string, unknown>) =>
  xmlrpcCall(object(s), 'execute_kw', ['lab', 2, KEYS.labAdmin, model, method, args, ...(kw ? [kw] : [])]);

describe('name_get (removed in Odoo 17.0)', () => {
  it('off: the upstream answers, as Odoo 19 does', async () => {
    stack = await startStack();
    const a = await call(stack, 'res.partner', 'name_get', [[1, 3]]);
    expect(a.fault?.faultCode).toBe(1);
    expect(lastLine(a.fault?.faultString ?? '')).toMatch(/name_get/);
    expect(modelCalls(stack)).toEqual([['/json/2/res.partner/name_get', { ids: [1, 3] }]]);
  });

  it('on: one read of display_name, answered as [[id, name], ...]', async () => {
    stack = await withShims({ name_get: true });
    const names = await call(stack, 'res.partner', 'read', [[3, 1], ['display_name']]);
    const expected = (names.value as { id: number; display_name: string }[]).map((r) => [
      r.id,
      r.display_name,
    ]);
    stack.odoo.requests.length = 0;
    const a = await call(stack, 'res.partner', 'name_get', [[3, 1]], { context: { lang: 'en_US' } });
    expect(a.value).toEqual(expected);
    expect(modelCalls(stack)).toEqual([
      ['/json/2/res.partner/read', { ids: [3, 1], fields: ['display_name'], context: { lang: 'en_US' } }],
    ]);
    const bare = await call(stack, 'res.partner', 'name_get', [3]);
    expect(bare.value).toEqual([expected[0]]);
    const j = await jsonrpcCall(stack.bridge.url, 'object', 'execute', [
      'lab',
      2,
      KEYS.labAdmin,
      'res.partner',
      'name_get',
      [1],
    ]);
    expect(j.json?.result).toEqual([expected[1]]);
  });
});

describe('search(count=True) (removed in Odoo 17.0)', () => {
  it('off: the upstream answers, as Odoo 19 does', async () => {
    stack = await startStack();
    const kwCount = await call(stack, 'res.partner', 'search', [[]], { count: true });
    expect(kwCount.fault?.faultCode).toBe(1);
    expect(lastLine(kwCount.fault?.faultString ?? '')).toMatch(/count/);
    expect(modelCalls(stack)).toEqual([['/json/2/res.partner/search', { domain: [], count: true }]]);
    const positional = await call(stack, 'res.partner', 'search', [[], 0, 0, false, true]);
    expect(lastLine(positional.fault?.faultString ?? '')).toMatch(
      /^TypeError: .*takes 4 positional arguments/,
    );
  });

  it('on: one search_count, an int; count as kw or 5th positional; limit kept', async () => {
    stack = await withShims({ search_count: true });
    const total = (await call(stack, 'res.partner', 'search_count', [[['is_company', '=', true]]]))
      .value as number;
    stack.odoo.requests.length = 0;
    const a = await call(stack, 'res.partner', 'search', [[['is_company', '=', true]]], { count: true });
    expect(a.value).toBe(total);
    const b = await call(stack, 'res.partner', 'search', [[['is_company', '=', true]], 0, 1, false, true]);
    expect(b.value).toBe(Math.min(total, 1));
    const c = await call(stack, 'res.partner', 'search', [[['is_company', '=', true]]], {
      count: false,
      limit: 1,
    });
    expect(c.value).toHaveLength(1);
    expect(modelCalls(stack)).toEqual([
      ['/json/2/res.partner/search_count', { domain: [['is_company', '=', true]] }],
      ['/json/2/res.partner/search_count', { domain: [['is_company', '=', true]], limit: 1 }],
      ['/json/2/res.partner/search', { domain: [['is_company', '=', true]], limit: 1 }],
    ]);
  });
});

describe('fields_get_keys (removed in Odoo 17.0)', () => {
  it('off: the upstream answers, as Odoo 19 does', async () => {
    stack = await startStack();
    const a = await call(stack, 'res.partner', 'fields_get_keys', []);
    expect(a.fault?.faultCode).toBe(1);
    expect(modelCalls(stack)).toEqual([['/json/2/res.partner/fields_get_keys', {}]]);
  });

  it('on: one fields_get(attributes=[type]), answered as the list of field names', async () => {
    stack = await withShims({ fields_get_keys: true });
    const fields = (await call(stack, 'res.partner', 'fields_get', [], { attributes: ['type'] }))
      .value as object;
    stack.odoo.requests.length = 0;
    const a = await call(stack, 'res.partner', 'fields_get_keys', []);
    expect(a.value).toEqual(Object.keys(fields));
    expect(modelCalls(stack)).toEqual([['/json/2/res.partner/fields_get', { attributes: ['type'] }]]);
  });

  it('enabling one shim leaves the others off', async () => {
    stack = await withShims({ fields_get_keys: true });
    const a = await call(stack, 'res.partner', 'name_get', [[1]]);
    expect(a.fault?.faultCode).toBe(1);
  });
});
