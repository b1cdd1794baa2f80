/**
 * Compatibility shims (src/translate/shims.ts), each off (Odoo 19's own answer) and on (the
 * legacy answer from one JSON-2 call), through the xmlrpc npm client and /jsonrpc.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigFile } from '../../src/config.ts';
import { fileURLToPath } from 'node:url';
import { jsonrpcCall, lastLine, xmlrpcCall } from '../support/clients.ts';
import { KEYS, startStack, type Stack } from '../support/harness.ts';
import { runPython } from '../support/run-python.ts';

const PY_CALLS = fileURLToPath(new URL('../clients/py_calls.py', import.meta.url));

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
  it("answers garbage from Odoo with the bridge's one wording for it, not an internal error", async () => {
    stack = await withShims({ name_get: true });
    await call(stack, 'res.partner', 'read', [[1], ['name']]); // the key verified first
    stack.odoo.setFault({ kind: 'truncated-json' });
    const a = await call(stack, 'res.partner', 'name_get', [[1, 3]]);
    expect(lastLine(a.fault?.faultString ?? '')).toMatch(
      /^odoo_rpc_bridge\.UpstreamError: Odoo at http:\/\/127\.0\.0\.1:\d+ answered res\.partner\.\w+ with something that is not JSON: it begins /,
    );
  });

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
      /^TypeError: BaseModel.search\(\) takes from 2 to 5 positional arguments but 6 were given$/,
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

/** An object-service call as another user (`key` of uid `uid`). */
const callAs = (
  s: Stack,
  uid: number,
  key: string,
  model: string,
  method: string,
  args: unknown[],
  kw?: Record<string, unknown>,
) => xmlrpcCall(object(s), 'execute_kw', ['lab', uid, key, model, method, args, ...(kw ? [kw] : [])]);
const fakeAt = (serverVersion: string, shims: Record<string, boolean> = {}) =>
  startStack({ fake: { serverVersion }, config: { file: parseConfigFile({ shims }, 'test') } });

describe('read_group, pre-19 signature (deprecated in 19.0, gone after it)', () => {
  const DOMAIN = [['active', '=', true]];
  // Lazy with two levels, eager, and a plain field summed by its field's aggregator.
  const CALLS: [unknown[], Record<string, unknown>?][] = [
    [[DOMAIN, ['__count'], ['is_company', 'country_id']]],
    [[DOMAIN, ['message_bounce'], ['country_id']], { lazy: false, limit: 3 }],
    [[[], ['n:count_distinct(country_id)'], 'is_company', 1]],
  ];
  const readGroups = async (s: Stack) => {
    const out: unknown[] = [];
    for (const [args, kw] of CALLS) {
      const a = await call(s, 'res.partner', 'read_group', args, kw);
      expect(a.fault).toBeUndefined();
      out.push(a.value);
    }
    return out;
  };

  it('off, or on against 19.0: the upstream read_group answers (the shim does not apply)', async () => {
    stack = await startStack();
    const off = await readGroups(stack);
    expect(off[0]).toContainEqual(
      expect.objectContaining({ is_company: true, is_company_count: expect.any(Number) as number }),
    );
    await stack.close();
    stack = await fakeAt('19.0', { read_group: true });
    expect(await readGroups(stack)).toEqual(off);
    expect(new Set(modelCalls(stack).map(([p]) => p))).toEqual(new Set(['/json/2/res.partner/read_group']));
  });

  it('off against a release without it: the upstream error, as that Odoo answers', async () => {
    stack = await fakeAt('20.0');
    const a = await call(stack, 'res.partner', 'read_group', [[], ['__count'], ['is_company']]);
    expect(lastLine(a.fault?.faultString ?? '')).toBe(
      "AttributeError: The method 'res.partner.read_group' does not exist",
    );
  });

  it('on against a release without it: fields_get + formatted_read_group give 19.0 read_group rows', async () => {
    stack = await startStack();
    const expected = await readGroups(stack);
    await stack.close();
    stack = await fakeAt('saas~19.2', { read_group: true });
    expect(await readGroups(stack)).toEqual(expected);
    expect(modelCalls(stack).slice(0, 2)).toEqual([
      [
        '/json/2/res.partner/fields_get',
        { allfields: ['is_company'], attributes: ['type', 'store', 'aggregator'] },
      ],
      [
        '/json/2/res.partner/formatted_read_group',
        {
          domain: DOMAIN,
          groupby: ['is_company'],
          aggregates: ['__count'],
          context: { read_group_expand: true },
        },
      ],
    ]);
    // Through /jsonrpc and with Python-style errors as well.
    const j = await jsonrpcCall(stack.bridge.url, 'object', 'execute', [
      'lab',
      2,
      KEYS.labAdmin,
      'res.partner',
      'read_group',
      DOMAIN,
      ['__count'],
      ['is_company', 'country_id'],
    ]);
    expect(j.json?.result).toEqual(expected[0]);
    const bad = await call(stack, 'res.partner', 'read_group', [[], ['__count']]);
    expect(lastLine(bad.fault?.faultString ?? '')).toBe(
      "TypeError: BaseModel.read_group() missing 1 required positional argument: 'groupby'",
    );
  });
});

describe('the two version-aware shims through Python’s xmlrpc.client', () => {
  it('answers an unmigrated Python integration as its old Odoo did', async () => {
    stack = await fakeAt('20.0', { read_group: true, check_access_rights: true });
    const params = (method: string, args: unknown[], kw: Record<string, unknown> = {}) => ({
      service: 'object',
      method: 'execute_kw',
      params: ['lab', 2, KEYS.labAdmin, 'res.partner', method, args, kw],
    });
    const rg: unknown[] = [[['active', '=', true]], ['__count'], ['is_company', 'country_id']];
    const node = await call(stack, 'res.partner', 'read_group', rg);
    const answers = await runPython<{ value?: unknown; fault?: unknown }[]>(PY_CALLS, {
      url: stack.bridge.url,
      calls: [
        params('read_group', rg),
        params('check_access_rights', ['read']),
        params('check_access_rights', [], { operation: 'write', raise_exception: false }),
      ],
    });
    expect(answers).toEqual([{ value: node.value }, { value: true }, { value: true }]);
    expect(node.value).toContainEqual(expect.objectContaining({ __context: { group_by: ['country_id'] } }));
  });
});

describe('check_access_rights (None from 18.0, gone after 19.0)', () => {
  it('off against 19.0: Odoo 19 answers None, so an XML-RPC fault even when allowed', async () => {
    stack = await startStack();
    const a = await call(stack, 'res.partner', 'check_access_rights', ['read']);
    expect(lastLine(a.fault?.faultString ?? '')).toMatch(/cannot marshal None/);
    const b = await call(stack, 'res.partner', 'check_access_rights', ['read'], { raise_exception: false });
    expect(b.value).toBe(true);
  });

  it('on: has_access on no records; True, False, or an AccessError (fault 4)', async () => {
    stack = await withShims({ check_access_rights: true });
    expect((await call(stack, 'res.partner', 'check_access_rights', ['read'])).value).toBe(true);
    expect(modelCalls(stack)).toEqual([['/json/2/res.partner/has_access', { ids: [], operation: 'read' }]]);
    stack.odoo.requests.length = 0;
    // Refused: on 19.0 the deprecated method itself raises Odoo's AccessError (capture 4d-34's text).
    const denied = await callAs(stack, 5, KEYS.labDemo, 'res.users', 'check_access_rights', ['write']);
    expect(denied.fault?.faultCode).toBe(4);
    expect(denied.fault?.faultString).toBe(
      "You are not allowed to modify 'User' (res.users) records.\n\nThis operation is allowed for the following groups:\n\t- Access Rights\n\nContact your administrator to request access if necessary.",
    );
    expect(modelCalls(stack)).toEqual([
      ['/json/2/res.users/has_access', { ids: [], operation: 'write' }],
      ['/json/2/res.users/check_access_rights', { operation: 'write' }],
    ]);
    const quiet = await callAs(stack, 5, KEYS.labDemo, 'res.users', 'check_access_rights', ['write', false]);
    expect(quiet.value).toBe(false);
    const j = await jsonrpcCall(stack.bridge.url, 'object', 'execute', [
      'lab',
      2,
      KEYS.labAdmin,
      'res.partner',
      'check_access_rights',
      'unlink',
    ]);
    expect(j.json?.result).toBe(true);
  });

  it('on against a release before 18.0 (pretended): the call goes through as it is', async () => {
    stack = await fakeAt('17.0', { check_access_rights: true });
    await call(stack, 'res.partner', 'check_access_rights', ['read']);
    expect(modelCalls(stack)).toEqual([['/json/2/res.partner/check_access_rights', { operation: 'read' }]]);
  });

  it('off against a release without it: the upstream error; on: still True', async () => {
    stack = await fakeAt('20.0');
    const a = await call(stack, 'res.partner', 'check_access_rights', ['read']);
    expect(lastLine(a.fault?.faultString ?? '')).toMatch(/does not exist/);
    await stack.close();
    stack = await fakeAt('20.0', { check_access_rights: true });
    expect((await call(stack, 'res.partner', 'check_access_rights', ['read'])).value).toBe(true);
    // Refused, with no method left to raise Odoo's own AccessError: the bridge writes one.
    const denied = await callAs(stack, 5, KEYS.labDemo, 'res.users', 'check_access_rights', ['write']);
    expect(denied.fault?.faultCode).toBe(4);
    expect(denied.fault?.faultString).toBe(
      "You are not allowed to modify 'res.users' (res.users) records.\n\nContact your administrator to request access if necessary.",
    );
  });
});

describe('the upstream version the shims read', () => {
  it('common.version of a SaaS build: server_serie joins version_info as Odoo does', async () => {
    stack = await fakeAt('saas~19.2');
    const a = await xmlrpcCall(`${stack.bridge.url}/xmlrpc/2/common`, 'version', []);
    expect(a.value).toEqual({
      server_version: 'saas~19.2',
      server_version_info: ['saas~19', 2, 0, 'final', 0, ''],
      server_serie: 'saas~19.2',
      protocol_version: 1,
    });
  });
});
