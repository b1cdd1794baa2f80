/**
 * The legacy routes are served before express (src/server/app.ts `createListener`) and must match
 * exactly the paths express matched: any case, one optional trailing slash, any query string,
 * percent-escapes decoded (those go through express itself). Other paths and methods are
 * unchanged: 405 on GET, forwarded to Odoo otherwise.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postRaw } from '../support/clients.ts';
import { startStack, type Stack } from '../support/harness.ts';

const VERSION_XML = `<?xml version='1.0'?>\n<methodCall>\n<methodName>version</methodName>\n<params>\n</params>\n</methodCall>\n`;
const VERSION_JSON = JSON.stringify({
  jsonrpc: '2.0',
  method: 'call',
  id: 1,
  params: { service: 'common', method: 'version', args: [] },
});

describe('legacy routes', () => {
  let stack: Stack;
  let xml: string;
  let json: string;
  beforeAll(async () => {
    stack = await startStack();
    xml = (await postRaw(`${stack.bridge.url}/xmlrpc/2/common`, VERSION_XML, 'text/xml')).text;
    json = (await postRaw(`${stack.bridge.url}/jsonrpc`, VERSION_JSON, 'application/json')).text;
  });
  afterAll(() => stack.close());

  it('answers the version call on the canonical paths', () => {
    expect(xml).toContain('<name>server_version</name>');
    expect(json).toContain('"server_version"');
  });

  it.each([
    '/xmlrpc/2/common/',
    '/XMLRPC/2/common',
    '/xmlrpc/2/common?x=1',
    '/xmlrpc/2/c%6Fmmon',
    '/xmlrpc/common',
  ])('POST %s is the same XML-RPC call', async (path) => {
    const r = await postRaw(`${stack.bridge.url}${path}`, VERSION_XML, 'text/xml');
    expect(r.status).toBe(200);
    expect(r.text).toBe(xml);
  });

  it.each(['/jsonrpc/', '/JSONRPC', '/jsonrpc?x=1'])('POST %s is the same JSON-RPC call', async (path) => {
    const r = await postRaw(`${stack.bridge.url}${path}`, VERSION_JSON, 'application/json');
    expect(r.status).toBe(200);
    expect(r.text).toBe(json);
  });

  it('the service name keeps its case, as with express: /xmlrpc/2/Common is an unknown service', async () => {
    const r = await postRaw(`${stack.bridge.url}/xmlrpc/2/Common`, VERSION_XML, 'text/xml');
    expect(r.status).toBe(200);
    expect(r.text).toContain("KeyError: 'Common'");
  });

  it('an unknown service is the fault Odoo answers, on both path styles', async () => {
    for (const path of ['/xmlrpc/2/nope', '/xmlrpc/nope']) {
      const r = await postRaw(`${stack.bridge.url}${path}`, VERSION_XML, 'text/xml');
      expect(r.status).toBe(200);
      expect(r.text).toContain('<name>faultString</name>');
      expect(r.text).toContain('KeyError');
    }
  });

  it('GET on a legacy path is 405; other paths go to Odoo', async () => {
    const get = await fetch(`${stack.bridge.url}/xmlrpc/2/common`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    const before = stack.odoo.requests.length;
    await postRaw(`${stack.bridge.url}/jsonrpc//`, VERSION_JSON, 'application/json');
    await postRaw(`${stack.bridge.url}/xmlrpc/2/common//`, VERSION_XML, 'text/xml');
    const forwarded = stack.odoo.requests.slice(before).map((q) => q.path);
    expect(forwarded).toEqual(['/jsonrpc//', '/xmlrpc/2/common//']);
  });
});
