/**
 * object.execute / execute_kw through the bridge: authentication, named arguments from each
 * signature source, result shapes, and what reaches the upstream.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readConfigFile } from '../../src/config.ts';
import { jsonrpcCall, lastLine, xmlrpcCall } from '../support/clients.ts';
import { KEYS, startStack, type Stack } from '../support/harness.ts';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});
const object = (s: Stack) => `${s.bridge.url}/xmlrpc/2/object`;
const json2Calls = (s: Stack, path?: string) =>
  s.odoo.requests.filter((r) => r.path.startsWith('/json/2/') && (!path || r.path === path));

describe('authentication (pass-through: the password is an API key)', () => {
  it('answers Access Denied when the uid is not the key owner, and forwards nothing', async () => {
    stack = await startStack();
    const a = await xmlrpcCall(object(stack), 'execute_kw', [
      'lab',
      5,
      KEYS.labAdmin,
      'res.partner',
      'search',
      [[]],
    ]);
    expect(a.fault).toEqual({ faultCode: 3, faultString: 'Access Denied' });
    // Only the key check reached Odoo, never the call itself.
    expect(json2Calls(stack).map((r) => r.path)).toEqual(['/json/2/res.users/context_get']);
  });

  it('answers Access Denied for a refused key and for an empty password, without calling the model', async () => {
    stack = await startStack();
    const bad = await xmlrpcCall(object(stack), 'execute_kw', [
      'lab',
      2,
      'f'.repeat(40),
      'res.partner',
      'search',
      [[]],
    ]);
    expect(bad.fault).toEqual({ faultCode: 3, faultString: 'Access Denied' });
    const empty = await xmlrpcCall(object(stack), 'execute_kw', [
      'lab',
      2,
      '',
      'res.partner',
      'search',
      [[]],
    ]);
    expect(empty.fault).toEqual({ faultCode: 3, faultString: 'Access Denied' });
    expect(json2Calls(stack, '/json/2/res.partner/search')).toHaveLength(0);
  });

  it('does not use a key of one database for another', async () => {
    stack = await startStack();
    const a = await xmlrpcCall(object(stack), 'execute_kw', [
      'lab2',
      2,
      KEYS.labAdmin,
      'res.partner',
      'search',
      [[]],
    ]);
    expect(a.fault).toEqual({ faultCode: 3, faultString: 'Access Denied' });
  });

  it('verifies a key once, then trusts the cache', async () => {
    stack = await startStack();
    for (let i = 0; i < 3; i++)
      expect(
        (
          await xmlrpcCall(object(stack), 'execute_kw', [
            'lab',
            2,
            KEYS.labAdmin,
            'res.partner',
            'search_count',
            [[]],
          ])
        ).value,
      ).toBeTypeOf('number');
    expect(stack.bridge.parts.keys.verifications).toBe(1);
    const sent = json2Calls(stack, '/json/2/res.partner/search_count')[0];
    expect(sent?.headers['authorization']).toBe(`bearer ${KEYS.labAdmin}`);
    expect(sent?.headers['x-odoo-database']).toBe('lab');
  });

  it('sends no X-Odoo-Database with ODOO_DB_HEADER=never', async () => {
    stack = await startStack({ config: { dbHeader: 'never' }, fake: { dbs: ['lab'] } });
    await xmlrpcCall(object(stack), 'execute_kw', [
      'lab',
      2,
      KEYS.labAdmin,
      'res.partner',
      'search_count',
      [[]],
    ]);
    expect(json2Calls(stack).every((r) => r.headers['x-odoo-database'] === undefined)).toBe(true);
  });
});

describe('named arguments', () => {
  it('sends what JSON-2 expects for the captured legacy calls', async () => {
    stack = await startStack();
    const url = object(stack);
    await xmlrpcCall(url, 'execute', [
      'lab',
      2,
      KEYS.labAdmin,
      'res.partner',
      'search',
      [['is_company', '=', true]],
      0,
      2,
    ]);
    await xmlrpcCall(url, 'execute_kw', [
      'lab',
      2,
      KEYS.labAdmin,
      'res.partner',
      'read',
      [[1, 2], ['name']],
      { context: { lang: 'en_US' } },
    ]);
    await xmlrpcCall(url, 'execute_kw', [
      'lab',
      2,
      KEYS.labAdmin,
      'res.partner',
      'write',
      [7, { phone: '1' }],
    ]);
    expect(
      json2Calls(stack)
        .filter((r) => !r.path.includes('context_get'))
        .map((r) => [r.path, r.json]),
    ).toEqual([
      ['/json/2/res.partner/search', { domain: [['is_company', '=', true]], offset: 0, limit: 2 }],
      ['/json/2/res.partner/read', { ids: [1, 2], fields: ['name'], context: { lang: 'en_US' } }],
      ['/json/2/res.partner/write', { ids: [7], vals: { phone: '1' } }],
    ]);
  });

  it('reads signatures of other methods from /doc-bearer once per model, even under concurrent calls', async () => {
    stack = await startStack();
    const url = object(stack);
    const answers = await Promise.all(
      Array.from({ length: 5 }, () =>
        xmlrpcCall(url, 'execute_kw', [
          'lab',
          2,
          KEYS.labAdmin,
          'ir.config_parameter',
          'get_param',
          ['web.base.url', 'none'],
        ]),
      ),
    );
    for (const a of answers) expect(a.fault).toBeUndefined();
    expect(stack.odoo.requests.filter((r) => r.path === '/doc-bearer/ir.config_parameter.json')).toHaveLength(
      1,
    );
    expect(json2Calls(stack, '/json/2/ir.config_parameter/get_param')[0]?.json).toEqual({
      key: 'web.base.url',
      default: 'none',
    });
  });

  it('says how to fix a call it cannot name when the docs are refused, and uses ODOO_DOCS_KEY when given', async () => {
    stack = await startStack();
    const call = ['lab', 5, KEYS.labDemo, 'ir.config_parameter', 'get_param', ['web.base.url', 'x']];
    const refused = await xmlrpcCall(object(stack), 'execute_kw', call);
    expect(refused.fault?.faultCode).toBe(1);
    expect(lastLine(refused.fault?.faultString ?? '')).toMatch(
      /^TypeError: cannot pass positional arguments to ir.config_parameter.get_param: .*set ODOO_DOCS_KEY.*signatures:/,
    );
    await stack.close();

    stack = await startStack({ config: { docsKey: KEYS.labAdmin } });
    const withDocs = await xmlrpcCall(object(stack), 'execute_kw', call);
    // Named correctly now; the demo user may not read system parameters: Odoo's AccessError.
    expect(withDocs.fault?.faultCode).toBe(4);
    expect(json2Calls(stack, '/json/2/ir.config_parameter/get_param')[0]?.json).toEqual({
      key: 'web.base.url',
      default: 'x',
    });
    const docReq = stack.odoo.requests.filter((r) => r.path.startsWith('/doc-bearer/'));
    expect(docReq.map((r) => r.headers['authorization'])).toEqual([
      `bearer ${KEYS.labDemo}`,
      `bearer ${KEYS.labAdmin}`,
    ]);
  });

  it('lets overrides from BRIDGE_CONFIG name the arguments', async () => {
    const file = join(tmpdir(), `bridge-sig-${process.pid}.yaml`);
    writeFileSync(
      file,
      'signatures:\n  ir.config_parameter:\n    get_param: { params: [key, default], model: true }\n',
    );
    stack = await startStack({ config: { file: readConfigFile(file) } });
    const a = await xmlrpcCall(object(stack), 'execute_kw', [
      'lab',
      2,
      KEYS.labAdmin,
      'ir.config_parameter',
      'get_param',
      ['nope', 'dflt'],
    ]);
    expect(a.value).toBe('dflt');
    expect(stack.odoo.requests.some((r) => r.path.startsWith('/doc-bearer/'))).toBe(false);
  });

  it('takes new overrides when BRIDGE_CONFIG is read again (SIGHUP, or a change), and keeps them past an invalid file', async () => {
    const file = join(tmpdir(), `bridge-sig-reload-${process.pid}.yaml`);
    writeFileSync(file, 'signatures: {}\n');
    stack = await startStack({ config: { configPath: file, file: readConfigFile(file) } });
    // The demo user may not read the docs: without an override the call cannot be named.
    const call = ['lab', 5, KEYS.labDemo, 'ir.config_parameter', 'get_param', ['web.base.url', 'x']];
    const before = await xmlrpcCall(object(stack), 'execute_kw', call);
    expect(lastLine(before.fault?.faultString ?? '')).toMatch(/^TypeError: cannot pass positional arguments/);
    writeFileSync(
      file,
      'signatures:\n  ir.config_parameter:\n    get_param: { params: [key, default], model: true }\n',
    );
    await stack.bridge.parts.credentials.reload('SIGHUP');
    const after = await xmlrpcCall(object(stack), 'execute_kw', call);
    expect(after.fault?.faultCode).toBe(4); // named now; the demo user may not read system parameters
    expect(json2Calls(stack, '/json/2/ir.config_parameter/get_param').at(-1)?.json).toEqual({
      key: 'web.base.url',
      default: 'x',
    });
    expect(stack.logs.join('')).toContain(
      '"msg":"signature overrides, shims, frozen databases and upstreams reloaded"',
    );
    writeFileSync(file, 'signatures: [unclosed\n');
    await stack.bridge.parts.credentials.reload('SIGHUP');
    expect(stack.logs.join('')).toContain('the config file is invalid; keeping the current ones');
    const kept = await xmlrpcCall(object(stack), 'execute_kw', call);
    expect(kept.fault?.faultCode).toBe(4);
    expect(json2Calls(stack, '/json/2/ir.config_parameter/get_param')).toHaveLength(2);
  });

  it('passes a one-argument call of an undescribed method as record ids', async () => {
    stack = await startStack();
    await xmlrpcCall(object(stack), 'execute_kw', [
      'lab',
      2,
      KEYS.labAdmin,
      'res.partner',
      'no_such_method',
      [[3]],
    ]);
    expect(json2Calls(stack, '/json/2/res.partner/no_such_method')[0]?.json).toEqual({ ids: [3] });
  });
});

describe('result shapes', () => {
  it('create(dict) answers one id, create(list) a list', async () => {
    stack = await startStack();
    const one = await xmlrpcCall(object(stack), 'execute_kw', [
      'lab',
      2,
      KEYS.labAdmin,
      'res.partner',
      'create',
      [{ name: 'A' }],
    ]);
    const many = await xmlrpcCall(object(stack), 'execute_kw', [
      'lab',
      2,
      KEYS.labAdmin,
      'res.partner',
      'create',
      [[{ name: 'B' }, { name: 'C' }]],
    ]);
    expect(one.value).toBeTypeOf('number');
    expect(many.value).toEqual([(one.value as number) + 1, (one.value as number) + 2]);
    const j = await jsonrpcCall(stack.bridge.url, 'object', 'execute_kw', [
      'lab',
      2,
      KEYS.labAdmin,
      'res.partner',
      'create',
      [{ name: 'D' }],
    ]);
    expect(j.json?.result).toBe((one.value as number) + 3);
  });

  it('a None result is the marshalling fault on XML-RPC (after the call ran) and no result key on JSON-RPC', async () => {
    stack = await startStack();
    const x = await xmlrpcCall(object(stack), 'execute_kw', [
      'lab',
      2,
      KEYS.labAdmin,
      'res.partner',
      'action_archive',
      [[8]],
    ]);
    expect(x.fault?.faultCode).toBe(1);
    expect(lastLine(x.fault?.faultString ?? '')).toBe(
      'TypeError: cannot marshal None unless allow_none is enabled',
    );
    expect(json2Calls(stack, '/json/2/res.partner/action_archive')).toHaveLength(1);
    const j = await jsonrpcCall(stack.bridge.url, 'object', 'execute_kw', [
      'lab',
      2,
      KEYS.labAdmin,
      'res.partner',
      'action_unarchive',
      [[8]],
    ]);
    expect(j.text).toBe('{"jsonrpc": "2.0", "id": 7}');
  });

  it('keeps floats as doubles and Python types intact (Python xmlrpc.client sees 1740.0, a float)', async () => {
    stack = await startStack();
    const a = await xmlrpcCall(object(stack), 'execute_kw', [
      'lab',
      2,
      KEYS.labAdmin,
      'sale.order',
      'search_read',
      [[]],
      { fields: ['amount_total'], limit: 1, order: 'id' },
    ]);
    expect(a.value).toEqual([{ id: 1, amount_total: 1740 }]);
    const res = await fetch(object(stack), {
      method: 'POST',
      body: `<?xml version="1.0"?><methodCall><methodName>execute_kw</methodName><params><param><value>lab</value></param><param><value><int>2</int></value></param><param><value>${KEYS.labAdmin}</value></param><param><value>sale.order</value></param><param><value>search_read</value></param><param><value><array><data><value><array><data/></array></value></data></array></value></param><param><value><struct><member><name>fields</name><value><array><data><value>amount_total</value></data></array></value></member><member><name>limit</name><value><int>1</int></value></member><member><name>order</name><value>id</value></member></struct></value></param></params></methodCall>`,
    });
    expect(await res.text()).toContain('<name>amount_total</name>\n<value><double>1740.0</double></value>');
  });
});
