/**
 * Every bad input gets a clear fault or error, in the protocol the client spoke, and nothing
 * reaches Odoo.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonrpcCall, lastLine, postRaw, xmlrpcCall } from '../support/clients.ts';
import { KEYS, startStack, type Stack } from '../support/harness.ts';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ config: { maxBodyBytes: 64 * 1024 } });
});
afterAll(() => stack.close());

const object = () => `${stack.bridge.url}/xmlrpc/2/object`;
const call = (method: string, params: string) =>
  `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${params}</params></methodCall>`;
const faultOf = (xml: string) => ({
  code: /<name>faultCode<\/name>\n<value><int>(\d+)<\/int>/.exec(xml)?.[1],
  last: lastLine(/<name>faultString<\/name>\n<value><string>([\s\S]*?)<\/string>/.exec(xml)?.[1] ?? ''),
});

describe('XML-RPC', () => {
  it.each([
    [
      'not XML at all',
      'this is not xml',
      /^xml\.parsers\.expat\.ExpatError: syntax error: line 1, column 0$/,
    ],
    ['an empty body', '', /^xml\.parsers\.expat\.ExpatError: no element found: line 1, column 0$/],
    [
      'truncated XML',
      '<?xml version="1.0"?><methodCall><methodName>about',
      /^xml\.parsers\.expat\.ExpatError: /,
    ],
    [
      'a DOCTYPE (entity expansion)',
      '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><methodCall><methodName>&a;</methodName></methodCall>',
      /DTD|DOCTYPE/i,
    ],
    [
      'an unknown entity',
      '<?xml version="1.0"?><methodCall><methodName>&xxe;</methodName></methodCall>',
      /ExpatError/,
    ],
    [
      'a bad boolean',
      call('about', '<param><value><boolean>yes</boolean></value></param>'),
      /^TypeError: bad boolean value/,
    ],
    [
      'a bad int',
      call('about', '<param><value><int>12a</int></value></param>'),
      /^ValueError: invalid literal for int\(\) with base 10/,
    ],
    [
      'an ISO datetime Python refuses',
      call('about', '<param><value><dateTime.iso8601>2024-01-01T10:00:00</dateTime.iso8601></value></param>'),
      /^ValueError: time data/,
    ],
    [
      'nesting 1,000 deep',
      call(
        'about',
        '<param>' +
          '<value><array><data>'.repeat(1_000) +
          '</data></array></value>'.repeat(1_000) +
          '</param>',
      ),
      /deep|depth|nest/i,
    ],
  ])('%s → a fault, HTTP 200', async (_what, body, expected) => {
    const res = await postRaw(`${stack.bridge.url}/xmlrpc/2/common`, body, 'text/xml');
    expect(res.status).toBe(200);
    expect(res.contentType).toBe('text/xml; charset=utf-8');
    const f = faultOf(res.text);
    expect(f.code).toBe('1');
    expect(f.last).toMatch(expected);
  });

  it('an oversized body → the werkzeug 413 fault Odoo answers, without buffering it', async () => {
    const res = await postRaw(
      `${stack.bridge.url}/xmlrpc/2/common`,
      call('about', `<param><value>${'x'.repeat(200_000)}</value></param>`),
      'text/xml',
    );
    expect(res.status).toBe(200);
    expect(faultOf(res.text).last).toMatch(
      /^werkzeug\.exceptions\.RequestEntityTooLarge: 413 Request Entity Too Large/,
    );
  });

  it('a struct member named __proto__ is just a key, passed on by name', async () => {
    const p = (v: string) => `<param><value>${v}</value></param>`;
    const body = call(
      'execute_kw',
      p('lab') +
        p('<int>2</int>') +
        p(KEYS.labAdmin) +
        p('res.partner') +
        p('search_count') +
        p('<array><data><value><array><data/></array></value></data></array>') +
        p(
          '<struct><member><name>__proto__</name><value><struct><member><name>polluted</name><value><int>1</int></value></member></struct></value></member></struct>',
        ),
    );
    const res = await postRaw(object(), body, 'text/xml');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(faultOf(res.text)).toEqual({
      code: '1',
      last: "TypeError: BaseModel.search_count() got an unexpected keyword argument '__proto__'",
    });
    expect(stack.odoo.requests.at(-1)?.body).toBe('{"domain": [], "__proto__": {"polluted": 1}}');
  });

  it.each([
    [
      'a uid that is not a number',
      ['lab', 'abc', KEYS.labAdmin, 'res.partner', 'search', [[]]],
      1,
      "ValueError: invalid literal for int() with base 10: 'abc'",
    ],
    [
      'too few params',
      ['lab', 2, KEYS.labAdmin],
      1,
      'ValueError: not enough values to unpack (expected at least 5, got 3)',
    ],
    [
      'execute_kw without args',
      ['lab', 2, KEYS.labAdmin, 'res.partner', 'search'],
      1,
      'ValueError: not enough values to unpack (expected 2, got 1)',
    ],
    [
      'args that are not a list',
      ['lab', 2, KEYS.labAdmin, 'res.partner', 'search', { a: 1 }],
      1,
      'TypeError: execute_kw() args must be a list, not dict',
    ],
    [
      'a model name that cannot exist',
      ['lab', 2, KEYS.labAdmin, '../web/database/drop', 'search', [[]]],
      2,
      "Object ../web/database/drop doesn't exist",
    ],
    [
      'a method name that cannot exist',
      ['lab', 2, KEYS.labAdmin, 'res.partner', 'search/../../x', [[]]],
      1,
      "AttributeError: The method 'res.partner.search/../../x' does not exist",
    ],
  ])('%s → the fault Odoo gives', async (_what, params, code, text) => {
    const before = stack.odoo.requests.filter((r) => !r.path.includes('context_get')).length;
    const a = await xmlrpcCall(object(), 'execute_kw', params);
    expect(a.fault?.faultCode).toBe(code);
    expect(code === 1 ? lastLine(a.fault?.faultString ?? '') : a.fault?.faultString).toBe(text);
    expect(stack.odoo.requests.filter((r) => !r.path.includes('context_get')).length).toBe(before);
  });

  it('an unknown object method → NameError, an unknown common method → Method not found', async () => {
    const o = await xmlrpcCall(object(), 'frobnicate', ['lab', 2, KEYS.labAdmin, 'res.partner', 'search']);
    expect(lastLine(o.fault?.faultString ?? '')).toBe('NameError: Method not available frobnicate');
    const c = await xmlrpcCall(`${stack.bridge.url}/xmlrpc/2/common`, 'frobnicate', []);
    expect(lastLine(c.fault?.faultString ?? '')).toBe('Exception: Method not found: frobnicate');
    const v1 = await xmlrpcCall(`${stack.bridge.url}/xmlrpc/common`, 'frobnicate', []);
    expect(v1.fault?.faultCode).toBe('Method not found: frobnicate');
  });

  it('GET on an XML-RPC endpoint → 405, like Odoo', async () => {
    const res = await fetch(`${stack.bridge.url}/xmlrpc/2/common`);
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });
});

describe('JSON-RPC', () => {
  it('invalid JSON → HTTP 400 "Invalid JSON data", as Odoo', async () => {
    const res = await postRaw(`${stack.bridge.url}/jsonrpc`, '{not json', 'application/json');
    expect([res.status, res.text]).toEqual([400, 'Invalid JSON data']);
  });

  it('a batch array → HTTP 400 "Invalid JSON-RPC data"', async () => {
    const res = await postRaw(`${stack.bridge.url}/jsonrpc`, '[1,2]', 'application/json');
    expect([res.status, res.text]).toEqual([400, 'Invalid JSON-RPC data']);
  });

  it('a text/plain body → 415', async () => {
    const res = await postRaw(`${stack.bridge.url}/jsonrpc`, '{}', 'text/plain');
    expect(res.status).toBe(415);
  });

  it('params without args → an error object, code 0', async () => {
    const res = await postRaw(
      `${stack.bridge.url}/jsonrpc`,
      JSON.stringify({ jsonrpc: '2.0', id: 3, params: { service: 'common', method: 'version' } }),
      'application/json',
    );
    expect(res.status).toBe(200);
    expect(res.json?.id).toBe(3);
    expect(res.json?.error?.code).toBe(0);
    expect(res.json?.error?.message).toBe('Odoo Server Error');
    expect(res.json?.error?.data.name).toBe('builtins.TypeError');
  });

  it('an unknown service → KeyError, as Odoo', async () => {
    const res = await jsonrpcCall(stack.bridge.url, 'nosuch', 'x', []);
    expect(res.json?.error?.data).toMatchObject({
      name: 'builtins.KeyError',
      message: 'nosuch',
      arguments: ['nosuch'],
    });
  });

  it('an oversized body → an error object, not a crash', async () => {
    const res = await postRaw(
      `${stack.bridge.url}/jsonrpc`,
      JSON.stringify({ params: { service: 'common', method: 'version', args: ['x'.repeat(200_000)] } }),
      'application/json',
    );
    expect(res.json?.error?.data.name).toBe('werkzeug.exceptions.RequestEntityTooLarge');
  });
});
