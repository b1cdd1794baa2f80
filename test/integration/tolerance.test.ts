/**
 * Tolerance for what real legacy clients send (issue 6, item 2), through the xmlrpc npm client and
 * raw XML bodies, asserting what reached Odoo's JSON-2 API.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { xmlrpcCall } from '../support/clients.ts';
import { KEYS, startStack, type Stack } from '../support/harness.ts';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});
const object = (s: Stack) => `${s.bridge.url}/xmlrpc/2/object`;
const sent = (s: Stack, path: string) => s.odoo.requests.filter((r) => r.path === path).map((r) => r.json);

/** An execute_kw methodCall whose args (and optional kw) are given as raw XML `<value>`s. */
const executeKw = (uid: string, model: string, method: string, args: string, kw = '') =>
  `<?xml version="1.0"?><methodCall><methodName>execute_kw</methodName><params>` +
  `<param><value>lab</value></param><param><value>${uid}</value></param>` +
  `<param><value>${KEYS.labAdmin}</value></param><param><value>${model}</value></param>` +
  `<param><value>${method}</value></param><param><value>${args}</value></param>` +
  (kw ? `<param><value>${kw}</value></param>` : '') +
  `</params></methodCall>`;
const arr = (...values: string[]) =>
  `<array><data>${values.map((v) => `<value>${v}</value>`).join('')}</data></array>`;

async function postXml(s: Stack, body: string | Buffer, contentType = 'text/xml'): Promise<string> {
  const res = await fetch(object(s), { method: 'POST', body, headers: { 'content-type': contentType } });
  expect(res.status).toBe(200);
  return res.text();
}

describe('what the xmlrpc npm client sends', () => {
  it('ids as a bare int', async () => {
    stack = await startStack();
    const a = await xmlrpcCall(object(stack), 'execute_kw', [
      'lab',
      2,
      KEYS.labAdmin,
      'res.partner',
      'read',
      [3, ['name']],
    ]);
    expect(a.value).toEqual([{ id: 3, name: expect.any(String) }]);
    expect(sent(stack, '/json/2/res.partner/read')).toEqual([{ ids: [3], fields: ['name'] }]);
  });

  it('kw as an empty array', async () => {
    stack = await startStack();
    const a = await xmlrpcCall(object(stack), 'execute_kw', [
      'lab',
      2,
      KEYS.labAdmin,
      'res.partner',
      'search',
      [[['id', '=', 3]]],
      [],
    ]);
    expect(a.value).toEqual([3]);
    expect(sent(stack, '/json/2/res.partner/search')).toEqual([{ domain: [['id', '=', 3]] }]);
  });

  it('a Date (dateTime.iso8601) reaches JSON-2 as "YYYY-MM-DD HH:MM:SS", a Buffer (base64) as its base64', async () => {
    stack = await startStack();
    const when = new Date(2024, 0, 31, 13, 5, 9); // the npm client writes local time, without a zone
    const a = await xmlrpcCall(object(stack), 'execute_kw', [
      'lab',
      2,
      KEYS.labAdmin,
      'res.partner',
      'search_count',
      [
        [
          ['write_date', '<', when],
          ['name', '!=', Buffer.from('héllo')],
        ],
      ],
    ]);
    expect(a.fault).toBeUndefined();
    expect(sent(stack, '/json/2/res.partner/search_count')).toEqual([
      {
        domain: [
          ['write_date', '<', '2024-01-31 13:05:09'],
          ['name', '!=', Buffer.from('héllo').toString('base64')],
        ],
      },
    ]);
  });

  it('positional context after the fields of read(): forwarded as the named parameter it fills (load)', async () => {
    stack = await startStack();
    // Legacy Odoo 19's call_kw passes it positionally to read(fields, load): the faithful answer is
    // whatever Odoo makes of load={...}; the bridge must name it and pass it on.
    const a = await xmlrpcCall(object(stack), 'execute_kw', [
      'lab',
      2,
      KEYS.labAdmin,
      'res.partner',
      'read',
      [[3], ['name'], { lang: 'en_US' }],
    ]);
    expect(a.value ?? a.fault).toBeDefined();
    expect(sent(stack, '/json/2/res.partner/read')).toEqual([
      { ids: [3], fields: ['name'], load: { lang: 'en_US' } },
    ]);
  });
});

describe('raw XML-RPC values', () => {
  it('<nil/> in arguments and as kw', async () => {
    stack = await startStack();
    const text = await postXml(
      stack,
      executeKw('<int>2</int>', 'res.partner', 'search', arr(arr(), '<int>0</int>', '<nil/>'), '<nil/>'),
    );
    expect(text).toContain('<methodResponse>');
    expect(text).not.toContain('<fault>');
    expect(sent(stack, '/json/2/res.partner/search')).toEqual([{ domain: [], offset: 0, limit: null }]);
  });

  it('<i8> for the uid and for arguments', async () => {
    stack = await startStack();
    const text = await postXml(
      stack,
      executeKw(
        '<i8>2</i8>',
        'res.partner',
        'search',
        arr(
          arr(),
          '<i8>0</i8>',
          '<ex:i8 xmlns:ex="http://ws.apache.org/xmlrpc/namespaces/extensions">2</ex:i8>',
        ),
      ),
    );
    expect(text).not.toContain('<fault>');
    expect(sent(stack, '/json/2/res.partner/search')).toEqual([{ domain: [], offset: 0, limit: 2 }]);
  });

  it('<dateTime.iso8601> and <base64> values', async () => {
    stack = await startStack();
    await postXml(
      stack,
      executeKw(
        '<int>2</int>',
        'res.partner',
        'search_count',
        arr(
          arr(
            arr('write_date', '&lt;', '<dateTime.iso8601>20240131T13:05:09</dateTime.iso8601>'),
            arr('name', '!=', '<base64>aMOpbGxv\n</base64>'),
          ),
        ),
      ),
    );
    expect(sent(stack, '/json/2/res.partner/search_count')).toEqual([
      {
        domain: [
          ['write_date', '<', '2024-01-31 13:05:09'],
          ['name', '!=', 'aMOpbGxv'],
        ],
      },
    ]);
  });

  it('an ISO-8859-1 body with a non-ASCII name', async () => {
    stack = await startStack();
    const xml = executeKw(
      '<int>2</int>',
      'res.partner',
      'create',
      arr('<struct><member><name>name</name><value>Café Zoë</value></member></struct>'),
    ).replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="ISO-8859-1"?>');
    const text = await postXml(stack, Buffer.from(xml, 'latin1'));
    expect(text).toMatch(/<value><int>\d+<\/int><\/value>/);
    expect(sent(stack, '/json/2/res.partner/create')).toEqual([{ vals_list: { name: 'Café Zoë' } }]);
    const id = Number(/<int>(\d+)<\/int>/.exec(text)?.[1]);
    const back = await xmlrpcCall(object(stack), 'execute_kw', [
      'lab',
      2,
      KEYS.labAdmin,
      'res.partner',
      'read',
      [id, ['name']],
    ]);
    expect(back.value).toEqual([{ id, name: 'Café Zoë' }]);
  });

  it('positional context through execute (old clients): named, forwarded, no crash', async () => {
    stack = await startStack();
    const body =
      `<?xml version="1.0"?><methodCall><methodName>execute</methodName><params>` +
      `<param><value>lab</value></param><param><value><int>2</int></value></param>` +
      `<param><value>${KEYS.labAdmin}</value></param><param><value>res.partner</value></param>` +
      `<param><value>search_read</value></param><param><value>${arr(arr(arr('id', '=', '<int>3</int>')))}</value></param>` +
      `<param><value>${arr('name')}</value></param><param><value><int>0</int></value></param>` +
      `<param><value><int>1</int></value></param><param><value>id</value></param>` +
      `<param><value><struct><member><name>lang</name><value>en_US</value></member></struct></value></param>` +
      `</params></methodCall>`;
    const text = await postXml(stack, body);
    // Odoo 19: search_read(domain, fields, offset, limit, order, **read_kwargs) has no 6th
    // positional parameter, so Python's TypeError; the bridge says the same before calling Odoo.
    expect(text).toContain('<name>faultCode</name>\n<value><int>1</int></value>');
    expect(text).toMatch(
      /TypeError: BaseModel.search_read\(\) takes from 1 to 6 positional arguments but 7 were given/,
    );
    expect(sent(stack, '/json/2/res.partner/search_read')).toEqual([]);
    // read(ids, fields, context) through execute: the context fills `load`, named and forwarded.
    const read =
      body
        .replace('search_read', 'read')
        .split('<param><value>' + arr(arr(arr('id', '=', '<int>3</int>'))))[0] +
      `<param><value>${arr('<int>3</int>')}</value></param><param><value>${arr('name')}</value></param>` +
      `<param><value><struct><member><name>lang</name><value>en_US</value></member></struct></value></param>` +
      `</params></methodCall>`;
    expect(await postXml(stack, read)).toContain('<methodResponse>');
    expect(sent(stack, '/json/2/res.partner/read')).toEqual([
      { ids: [3], fields: ['name'], load: { lang: 'en_US' } },
    ]);
  });
});
