import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { accessDenied, accessError, OdooFault, pythonError, userError } from '../../src/errors.ts';
import { parseJsonValue } from '../../src/protocol/json/parse.ts';
import { toPythonJson } from '../../src/protocol/json/stringify.ts';
import {
  encodeFault,
  encodeResponse,
  encodeResponseBytes,
  encodeResponseChunks,
  encodeValue,
  transcodeJson,
} from '../../src/protocol/xmlrpc/encode.ts';
import { Binary, DateTime, jsonResult, PyFloat, struct, valueResult, type Value } from '../../src/values.ts';
import { CHUNK_BYTES, freeBytes } from '../../src/protocol/chunk-pool.ts';
import { CAPTURES_DIR } from '../support/captures.ts';
import { picker, prng } from '../support/random.ts';
import { isUtf8 } from 'node:buffer';
import { checkedUtf8, isUtf8Chunks } from '../../src/utf8-bytes.ts';

type Capture = Map<string, Value>;

function loadCapture(id: string): Capture {
  // Parsed losslessly: a captured 1740.0 stays a float, as in Odoo's result.
  return parseJsonValue(readFileSync(`${CAPTURES_DIR}/${id}.json`, 'utf8')) as Capture;
}

function path(v: Value | undefined, ...keys: string[]): Value | undefined {
  let cur = v;
  for (const k of keys) cur = cur instanceof Map ? cur.get(k) : undefined;
  return cur;
}

function thrown(f: () => unknown): OdooFault {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(OdooFault);
    return e as OdooFault;
  }
  throw new Error('expected a fault');
}

const xmlrpcCaptures = readdirSync(CAPTURES_DIR)
  .filter((f) => f.startsWith('4b-') && f.endsWith('.json'))
  .map((f) => f.slice(0, -5))
  .sort()
  .map((id) => ({ id, capture: loadCapture(id) }))
  .filter(({ capture }) => typeof path(capture, 'response', 'body_raw') === 'string');

describe('encodeResponse reproduces Odoo 19 byte for byte', () => {
  const successes = xmlrpcCaptures.filter(
    ({ capture }) =>
      path(capture, 'decoded_response') instanceof Map &&
      (path(capture, 'decoded_response') as Map<string, Value>).has('result'),
  );

  it('has successful XML-RPC captures to compare with', () => {
    expect(successes.length).toBeGreaterThan(20);
  });

  for (const { id, capture } of successes) {
    const result = path(capture, 'decoded_response', 'result') as Value;
    const body = path(capture, 'response', 'body_raw') as string;

    it(`${id}: from the result value`, () => {
      expect(encodeResponse(valueResult(result))).toBe(body);
    });

    it(`${id}: from the JSON-2 text of the same result`, () => {
      // What Odoo 19's JSON-2 endpoint writes for it: json.dumps(result, ensure_ascii=False).
      expect(encodeResponse(jsonResult(toPythonJson(result)))).toBe(body);
    });
  }

  it('4d-03 (real JSON-2 answer) transcodes to 4b-18 (real XML-RPC answer of the same call)', () => {
    const json2 = loadCapture('4d-03-json2-search-read-rich');
    const text = toPythonJson(path(json2, 'response', 'body') as Value);
    // The capture kept the parsed body; its re-serialization is the exact answer (Content-Length).
    expect(String(Buffer.byteLength(text))).toBe(path(json2, 'response', 'headers', 'Content-Length'));
    expect(text).toContain('"amount_total": 1740.0');
    const xmlrpc = loadCapture('4b-18-xmlrpc-object-sale-order-read');
    expect(encodeResponse(jsonResult(text))).toBe(path(xmlrpc, 'response', 'body_raw'));
  });
});

describe('encodeFault reproduces Odoo 19 byte for byte', () => {
  const body = (id: string): string => path(loadCapture(id), 'response', 'body_raw') as string;
  const faultString = (id: string): string =>
    path(loadCapture(id), 'decoded_response', 'fault', 'faultString') as string;

  it('4b-30: AccessDenied on /xmlrpc/2 (code 3)', () => {
    expect(encodeFault(accessDenied(), 'int')).toBe(body('4b-30-xmlrpc-err-bad-password'));
  });

  it('4b-39: AccessDenied on /xmlrpc (faultCode "AccessDenied")', () => {
    expect(encodeFault(accessDenied(), 'string')).toBe(body('4b-39-xmlrpc-legacy-endpoint-fault'));
  });

  it('4b-40: AccessError on /xmlrpc ("warning -- AccessError")', () => {
    const message = (
      path(
        loadCapture('4b-40-xmlrpc-legacy-endpoint-access'),
        'decoded_response',
        'fault',
        'faultCode',
      ) as string
    ).replace('warning -- AccessError\n\n', '');
    expect(encodeFault(accessError(message), 'string')).toBe(body('4b-40-xmlrpc-legacy-endpoint-access'));
  });

  it('4b-31, 4b-37: UserError and ValidationError on /xmlrpc/2 (code 2)', () => {
    expect(encodeFault(userError(faultString('4b-31-xmlrpc-err-unknown-model')), 'int')).toBe(
      body('4b-31-xmlrpc-err-unknown-model'),
    );
    const validation = new OdooFault({
      kind: 'user_error',
      name: 'odoo.exceptions.ValidationError',
      message: faultString('4b-37-xmlrpc-err-validation'),
    });
    expect(encodeFault(validation, 'int')).toBe(body('4b-37-xmlrpc-err-validation'));
  });

  it('4b-33, 4b-35: AccessError on /xmlrpc/2 (code 4)', () => {
    expect(encodeFault(accessError(faultString('4b-33-xmlrpc-err-private-method')), 'int')).toBe(
      body('4b-33-xmlrpc-err-private-method'),
    );
    expect(encodeFault(accessError(faultString('4b-35-xmlrpc-err-access-demo')), 'int')).toBe(
      body('4b-35-xmlrpc-err-access-demo'),
    );
  });

  it('4b-36b: MissingError on /xmlrpc/2 (code 2)', () => {
    const missing = new OdooFault({
      kind: 'missing_error',
      name: 'odoo.exceptions.MissingError',
      message: faultString('4b-36b-xmlrpc-err-missing-record-write'),
    });
    expect(encodeFault(missing, 'int')).toBe(body('4b-36b-xmlrpc-err-missing-record-write'));
  });

  it('4b-32, 4b-34, 4b-38, 4b-45: generic errors carry their traceback (code 1)', () => {
    for (const id of [
      '4b-32-xmlrpc-err-unknown-method',
      '4b-34-xmlrpc-err-wrong-kwarg',
      '4b-38-xmlrpc-err-unknown-db',
      '4b-45-xmlrpc-err-unknown-service',
    ]) {
      const traceback = faultString(id);
      const last = traceback.trimEnd().split('\n').pop() as string;
      const f = pythonError(last.slice(0, last.indexOf(':')), last.slice(last.indexOf(':') + 2));
      const withTraceback = new OdooFault({
        kind: 'generic',
        name: f.pyName,
        message: f.message,
        debug: traceback,
      });
      expect(encodeFault(withTraceback, 'int'), id).toBe(body(id));
    }
  });

  it('writes the string-style codes of /xmlrpc', () => {
    const tail = '</member>\n</struct></value>\n</fault>\n\n</methodResponse>\n';
    const head =
      '<?xml version="1.0"?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n';
    const expectFault = (f: OdooFault, code: string, text: string): void =>
      expect(encodeFault(f, 'string')).toBe(
        `${head}<value><string>${code}</string></value>\n</member>\n<member>\n<name>faultString</name>\n<value><string>${text}</string></value>\n${tail}`,
      );
    expectFault(userError('No & <way>'), 'warning -- UserError\n\nNo &amp; &lt;way&gt;', '');
    expectFault(
      new OdooFault({ kind: 'missing_error', name: 'odoo.exceptions.MissingError', message: 'gone' }),
      'warning -- MissingError\n\ngone',
      '',
    );
    expectFault(
      new OdooFault({
        kind: 'redirect_warning',
        name: 'odoo.exceptions.RedirectWarning',
        message: 'go\n42',
        str: "('go', 42, 'Button', None)",
      }),
      "warning -- Warning\n\n('go', 42, 'Button', None)",
      '',
    );
    const generic = pythonError('KeyError', 'nosuchservice', { str: "'nosuchservice'" });
    expectFault(generic, 'nosuchservice', generic.debug.replace(/</g, '&lt;').replace(/>/g, '&gt;'));
    expect(generic.debug).toContain("KeyError: 'nosuchservice'\n");
  });

  it('uses str(e) for RedirectWarning on /xmlrpc/2, as Odoo does', () => {
    const f = new OdooFault({
      kind: 'redirect_warning',
      name: 'odoo.exceptions.RedirectWarning',
      message: 'go\n42',
      str: "('go', 42, 'Button', None)",
    });
    expect(encodeFault(f, 'int')).toContain(
      "<value><int>2</int></value>\n</member>\n<member>\n<name>faultString</name>\n<value><string>('go', 42, 'Button', None)</string>",
    );
  });

  it('deletes control characters from the fault strings', () => {
    const out = encodeFault(userError('a\x00b\x07c\td\ne\rf\x1fg'), 'int');
    expect(out).toContain('<value><string>abc\td\ne\rfg</string></value>');
    expect(encodeFault(userError('x\x01'), 'string')).toContain(
      '<value><string>warning -- UserError\n\nx</string></value>',
    );
  });
});

describe('encodeValue marshals like OdooMarshaller', () => {
  it('writes scalars', () => {
    expect(encodeValue(true)).toBe('<value><boolean>1</boolean></value>\n');
    expect(encodeValue(false)).toBe('<value><boolean>0</boolean></value>\n');
    expect(encodeValue(42)).toBe('<value><int>42</int></value>\n');
    expect(encodeValue(-0)).toBe('<value><int>0</int></value>\n');
    expect(encodeValue(2147483647)).toBe('<value><int>2147483647</int></value>\n');
    expect(encodeValue(-2147483648n)).toBe('<value><int>-2147483648</int></value>\n');
    expect(encodeValue(new PyFloat(1740))).toBe('<value><double>1740.0</double></value>\n');
    expect(encodeValue(new PyFloat(1e16))).toBe('<value><double>1e+16</double></value>\n');
    expect(encodeValue(new PyFloat(Number.NaN))).toBe('<value><double>nan</double></value>\n');
    expect(encodeValue(new PyFloat(-Infinity))).toBe('<value><double>-inf</double></value>\n');
    expect(encodeValue('a&b<c>d"e\'f')).toBe('<value><string>a&amp;b&lt;c&gt;d"e\'f</string></value>\n');
    expect(encodeValue(new Binary('AAEC'))).toBe('<value><string>AAEC</string></value>\n');
    expect(encodeValue(new DateTime('2024-01-01 10:00:00'))).toBe(
      '<value><string>2024-01-01 10:00:00</string></value>\n',
    );
  });

  it('deletes control characters from string values but not from keys', () => {
    expect(encodeValue('\x00a\x08\x09\x0a\x0b\x0c\x0d\x0e\x1fé\x7f😀')).toBe(
      '<value><string>a\t\n\ré\x7f😀</string></value>\n',
    );
    expect(encodeValue(struct({ 'k\x01<': 'v\x01' }))).toBe(
      '<value><struct>\n<member>\n<name>k\x01&lt;</name>\n<value><string>v</string></value>\n</member>\n</struct></value>\n',
    );
  });

  it('writes containers', () => {
    expect(encodeValue([])).toBe('<value><array><data>\n</data></array></value>\n');
    expect(encodeValue(new Map())).toBe('<value><struct>\n</struct></value>\n');
    expect(encodeValue([1, [true], struct({ a: [] })])).toBe(
      '<value><array><data>\n<value><int>1</int></value>\n<value><array><data>\n<value><boolean>1</boolean></value>\n</data></array></value>\n' +
        '<value><struct>\n<member>\n<name>a</name>\n<value><array><data>\n</data></array></value>\n</member>\n</struct></value>\n</data></array></value>\n',
    );
  });

  it('refuses None anywhere, as allow_none=False does', () => {
    for (const v of [null, [1, null], struct({ a: struct({ b: null }) })]) {
      const f = thrown(() => encodeValue(v));
      expect(f.pyName).toBe('builtins.TypeError');
      expect(f.message).toBe('cannot marshal None unless allow_none is enabled');
      expect(f.kind).toBe('generic');
    }
    expect(() => encodeResponse(valueResult(null))).toThrow(
      'cannot marshal None unless allow_none is enabled',
    );
  });

  it('refuses ints outside 32 bits', () => {
    for (const v of [2147483648, -2147483649, 2n ** 63n, [1, 2 ** 40]]) {
      const f = thrown(() => encodeValue(v));
      expect(f.pyName).toBe('builtins.OverflowError');
      expect(f.message).toBe('int exceeds XML-RPC limits');
    }
  });
});

describe('encodeResponseBytes', () => {
  it('is encodeResponse as UTF-8, for values and for JSON text', () => {
    const value = struct({ name: 'Café 😀 & <co>', amount: new PyFloat(1.5), ids: [1, 2], ok: true });
    const json = '{"name": "Caf\\u00e9 😀 & <co>", "amount": 1.5, "ids": [1, 2], "ok": true}';
    for (const result of [valueResult(value), jsonResult(json)]) {
      const bytes = encodeResponseBytes(result);
      expect(bytes.equals(Buffer.from(encodeResponse(result), 'utf8'))).toBe(true);
    }
    expect(encodeResponse(valueResult(value))).toBe(encodeResponse(jsonResult(json)));
  });

  it('writes a lone surrogate as U+FFFD, as a UTF-8 encoder does', () => {
    expect(encodeValue('a\ud800b\udc00')).toBe('<value><string>a\ufffdb\ufffd</string></value>\n');
    expect(transcodeJson('"a\\ud800b\\udc00c\\ud83d\\ude00"')).toBe(
      '<value><string>a\ufffdb\ufffdc😀</string></value>\n',
    );
  });

  it('grows its buffer for answers much larger than their JSON', () => {
    const ids = Array.from({ length: 50_000 }, (_, i) => i % 10);
    const text = `[${ids.join(', ')}]`;
    const xml = transcodeJson(text);
    expect(xml.length).toBe(
      '<value><array><data>\n</data></array></value>\n'.length +
        ids.length * '<value><int>0</int></value>\n'.length,
    );
    expect(xml).toBe(encodeValue(ids));
  });
});

describe('transcodeJson (JSON-2 text to XML-RPC)', () => {
  const wrap = (json: string): string => encodeResponse(jsonResult(json));

  it('maps numbers without losing their type or precision', () => {
    expect(transcodeJson('1')).toBe('<value><int>1</int></value>\n');
    expect(transcodeJson('-0')).toBe('<value><int>0</int></value>\n');
    expect(transcodeJson('2147483647')).toBe('<value><int>2147483647</int></value>\n');
    expect(transcodeJson('-2147483648')).toBe('<value><int>-2147483648</int></value>\n');
    expect(transcodeJson('1.0')).toBe('<value><double>1.0</double></value>\n');
    expect(transcodeJson('1e+16')).toBe('<value><double>1e+16</double></value>\n');
    expect(transcodeJson('1E16')).toBe('<value><double>1e+16</double></value>\n');
    expect(transcodeJson('1.50')).toBe('<value><double>1.5</double></value>\n');
    expect(transcodeJson('0.1000000000000000055511151231257827')).toBe(
      '<value><double>0.1</double></value>\n',
    );
    expect(transcodeJson('1e400')).toBe('<value><double>inf</double></value>\n');
    expect(transcodeJson('[NaN, Infinity, -Infinity]')).toBe(
      '<value><array><data>\n<value><double>nan</double></value>\n<value><double>inf</double></value>\n<value><double>-inf</double></value>\n</data></array></value>\n',
    );
  });

  it('refuses null and out-of-range ints like the marshaller', () => {
    expect(thrown(() => wrap('[1, {"a": null}]')).message).toBe(
      'cannot marshal None unless allow_none is enabled',
    );
    expect(thrown(() => wrap('2147483648')).message).toBe('int exceeds XML-RPC limits');
    expect(thrown(() => wrap('-2147483649')).pyName).toBe('builtins.OverflowError');
    expect(thrown(() => wrap('123456789012345678901234567890')).pyName).toBe('builtins.OverflowError');
    // The first one met wins, as in Python's depth-first walk.
    expect(thrown(() => wrap('[99999999999, null]')).pyName).toBe('builtins.OverflowError');
    expect(thrown(() => wrap('[null, 99999999999]')).pyName).toBe('builtins.TypeError');
  });

  it.each([
    ['empty', ''],
    ['truncated', '[1, 2'],
    ['trailing comma', '[1, 2,]'],
    ['single quotes', "{'a': 1}"],
    ['unquoted key', '{a: 1}'],
    ['bad literal', 'nul'],
    ['leading zero', '01'],
    ['bare minus', '-'],
    ['dot without digits', '1.'],
    ['bad escape', '"\\x41"'],
    ['short unicode escape', '"\\u12"'],
    ['raw control character', '"a\nb"'],
    ['unterminated string', '"abc'],
    ['extra data', '[1] [2]'],
    ['HTML error page', '<!doctype html><title>404 Not Found</title>'],
    ['null inside malformed text', '[null, '],
  ])('answers malformed upstream JSON (%s) with a bridge fault', (_name, json) => {
    const f = thrown(() => transcodeJson(json));
    expect(f.pyName).toBe('odoo_rpc_bridge.UpstreamError');
    expect(f.kind).toBe('generic');
    expect(f.message).toMatch(/^the upstream Odoo answered invalid JSON: /);
  });

  it('agrees with CPython json.loads + Odoo marshalling on edge and random JSON, read in small pieces', () => {
    const edge = [
      '1',
      '-0',
      '0',
      '2147483647',
      '2147483648',
      '-2147483648',
      '-2147483649',
      '99999999999999999999',
      '1.0',
      '-0.0',
      '1740.0',
      '0.1',
      '1e+16',
      '1e-05',
      '0.0001',
      '0.00001',
      '1.5e+300',
      '5e-324',
      '2.2250738585072014e-308',
      '1.7976931348623157e+308',
      '1E5',
      '1.50',
      '1e5',
      '1e-5',
      '0.30000000000000004',
      '0.3000000000000000444',
      '1e400',
      '-1e400',
      '123456789012345678.0',
      '1234567890123456.0',
      '9007199254740993.0',
      '12345.678901234567',
      '100.0e-2',
      'NaN',
      'Infinity',
      '-Infinity',
      'true',
      'false',
      '[]',
      '{}',
      '""',
      '"a\\u0000b\\u0001\\b\\f\\n\\r\\t\\u001fc\\u007f"',
      '"<&>\\"\\\\\\/"',
      '"\\ud83d\\ude00 😀 é € \\u00e9"',
      '{"a\\u0001<&>": "x\\u0002"}',
      '"\\u2028\\u2029\\u00ad\\ufeff\\ufffe"',
      ' [ 1 , 2 ]\n',
      '{"a": 1, "b": [true, false, {"c": "d"}]}',
      '{"__proto__": {"x": 1}}',
      '[[], {}, [1, [2, {"k": [true, false]}]]]',
      '{"a": null}',
      '[1, null, 99999999999]',
      '"]]>"',
    ];
    const rnd = prng(20240101);
    const random = Array.from({ length: 400 }, () => randomJson(rnd, 0));
    const texts = [...edge, ...random];
    const expected = odooMarshal(texts);
    const cuts = prng(4242);
    const mismatches = texts
      .map((text, i) => {
        let got: { ok: string } | { err: [string, string] };
        try {
          // Read as a socket may deliver it: in pieces of 1 to 16 bytes.
          const bytes = Buffer.from(text, 'utf8');
          const chunks: Buffer[] = [];
          for (let k = 0; k < bytes.length;) {
            const n = 1 + Math.floor(cuts() * 16);
            chunks.push(bytes.subarray(k, k + n));
            k += n;
          }
          const xml = transcodeJson({ chunks, length: bytes.length });
          got = { ok: `<params>\n<param>\n${xml}</param>\n</params>\n` };
        } catch (e) {
          got = e instanceof OdooFault ? { err: [e.shortName, e.message] } : { err: ['thrown', String(e)] };
        }
        return { text, got, expected: expected[i] };
      })
      .filter((r) => JSON.stringify(r.got) !== JSON.stringify(r.expected));
    expect(mismatches.slice(0, 3)).toEqual([]);
  });

  it('writes XML that CPython reads back as the JSON value (control characters deleted, CR read as LF)', () => {
    const rnd = prng(99);
    const texts = Array.from({ length: 150 }, () => randomJson(rnd, 0, false)).filter(
      (t) => !t.includes('null'),
    );
    const xml = texts.map((t) => {
      try {
        return wrap(t);
      } catch (e) {
        return e instanceof OdooFault ? null : String(e);
      }
    });
    const check = String.raw`
import sys, json, math, xmlrpc.client as x
CONTROL = dict.fromkeys(set(range(32)) - {9, 10, 13})
def norm(v):
    # Odoo writes a CR raw; an XML parser reads it back as a line feed.
    if isinstance(v, str): return v.translate(CONTROL).replace('\r\n', '\n').replace('\r', '\n')
    if isinstance(v, float) and math.isnan(v): return 'nan'
    if isinstance(v, list): return [norm(i) for i in v]
    if isinstance(v, dict): return [[k, norm(i)] for k, i in v.items()]
    return v
bad = []
for text, doc in json.load(sys.stdin):
    if doc is None: continue
    want = norm(json.loads(text))
    (got,), _ = x.loads(doc.encode('utf-8', 'surrogatepass'))
    if norm(got) != want or type(got) != type(json.loads(text)): bad.append(text)
print(json.dumps(bad))
`;
    const pairs = texts.map((t, i) => [t, xml[i]]);
    const bad = JSON.parse(
      execFileSync('python3', ['-I', '-c', check], {
        input: JSON.stringify(pairs),
        maxBuffer: 1 << 28,
      }).toString(),
    ) as string[];
    expect(bad).toEqual([]);
  });
});

/** CPython: json.loads, then Odoo's marshalling (Marshaller + control characters deleted from str). */
function odooMarshal(texts: string[]): ({ ok: string } | { err: [string, string] })[] {
  const script = String.raw`
import sys, json, xmlrpc.client as x
CONTROL = dict.fromkeys(set(range(32)) - {9, 10, 13})
class OdooLike(x.Marshaller):
    dispatch = dict(x.Marshaller.dispatch)
    def dump_str(self, value, write):
        return super().dump_unicode(value.translate(CONTROL), write)
    dispatch[str] = dump_str
out = []
for text in json.load(sys.stdin):
    try:
        out.append({'ok': OdooLike(allow_none=False).dumps((json.loads(text),))})
    except Exception as e:
        out.append({'err': [type(e).__name__, str(e)]})
print(json.dumps(out))
`;
  const stdout = execFileSync('python3', ['-I', '-c', script], {
    input: JSON.stringify(texts),
    maxBuffer: 1 << 28,
  });
  return JSON.parse(stdout.toString()) as ({ ok: string } | { err: [string, string] })[];
}

/**
 * Random JSON text in the spellings Python's json.dumps produces and a few it does not (escaped
 * astral characters, `\u` escapes of ordinary characters, other float spellings, extra spaces).
 */
function randomJson(rnd: () => number, depth: number, withNull = true): string {
  /** Keys without control characters when the XML must stay readable (Odoo writes them raw). */
  const keyChars = withNull ? undefined : ['a', 'Z', ' ', '<', '&', 'é', '😀', '\\u00e9', '\\"'];
  const pick = picker(rnd);
  const strChars = [
    'a',
    'Z',
    ' ',
    '<',
    '>',
    '&',
    'é',
    '€',
    '😀',
    '\\n',
    '\\r',
    '\\t',
    '\\b',
    '\\f',
    '\\u0000',
    '\\u0001',
    '\\u001f',
    '\\u007f',
    '\\"',
    '\\\\',
    '\\/',
    '\\u00e9',
    '\\ud83d\\ude00',
    '\\u2028',
    '\\ufeff',
  ];
  const str = (chars = strChars): string =>
    `"${Array.from({ length: Math.floor(rnd() * 8) }, () => pick(chars)).join('')}"`;
  const float = (): string => {
    const r = rnd();
    if (r < 0.5) {
      const x = (rnd() - 0.5) * 10 ** Math.floor(rnd() * 40 - 20);
      const repr = String(x); // JS spelling: often Python's, sometimes not (1e21 vs 1e+21)
      return /[.e]/.test(repr) ? repr : `${repr}.0`;
    }
    return pick([
      '1.0',
      '-0.0',
      '0.1',
      '1e+16',
      '1e-05',
      '1E+16',
      '2.50',
      '1e400',
      '123456789.123456789',
      'NaN',
      'Infinity',
      '-Infinity',
      '5e-324',
      '0.30000000000000004',
    ]);
  };
  const int = (): string =>
    pick([
      '0',
      '7',
      '-42',
      '2147483647',
      '-2147483648',
      String(Math.floor(rnd() * 1e6)),
      '2147483648',
      '12345678901234567890',
    ]);
  const sp = (): string => pick(['', ' ', '', '\n  ']);
  if (depth > 3 || rnd() < 0.45) {
    const r = Math.floor(rnd() * 6);
    if (r === 0) return str();
    if (r === 1) return float();
    if (r === 2) return int();
    if (r === 3) return pick(['true', 'false']);
    if (r === 4 && withNull && rnd() < 0.2) return 'null';
    return str();
  }
  const n = Math.floor(rnd() * 4);
  if (rnd() < 0.5)
    return `[${sp()}${Array.from({ length: n }, () => randomJson(rnd, depth + 1, withNull)).join(`,${sp()}`)}${sp()}]`;
  // Distinct keys once decoded: a repeated key is the one thing json.dumps never writes.
  const keys = new Map<string, string>();
  while (keys.size < n) {
    const k = str(keyChars);
    keys.set(JSON.parse(k) as string, k);
  }
  return `{${sp()}${[...keys.values()].map((k) => `${k}${sp()}:${sp()}${randomJson(rnd, depth + 1, withNull)}`).join(`,${sp()}`)}${sp()}}`;
}

describe('large answers, written into pooled chunks', () => {
  /** The XML of one string value, escaped by hand (no control characters in these strings). */
  const stringXml = (v: string): string =>
    `<value><string>${v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}</string></value>\n`;
  const recordXml = (id: number, name: string): string =>
    `<value><struct>\n<member>\n<name>id</name>\n<value><int>${id}</int></value>\n</member>\n` +
    `<member>\n<name>name</name>\n${stringXml(name)}</member>\n</struct></value>\n`;

  it('writes the same bytes whatever falls on a chunk boundary (multi-byte characters, entities, a string over a chunk)', () => {
    const rnd = prng(7);
    const pieces = ['a', 'é', '日', '😀', '&', '<', '>', ' ', 'Partner '];
    // About 100 bytes of XML per record: a dozen chunks of records around the one long string.
    const records = Array.from({ length: Math.ceil((12 * CHUNK_BYTES) / 100) }, (_, id) => {
      const len = id === 1500 ? 3 * CHUNK_BYTES : Math.floor(rnd() * 60);
      let name = '';
      while (name.length < len) name += pieces[Math.floor(rnd() * pieces.length)];
      return { id, name };
    });
    const text = JSON.stringify(records);
    const expected =
      '<value><array><data>\n' +
      records.map((r) => recordXml(r.id, r.name)).join('') +
      '</data></array></value>\n';
    expect(Buffer.byteLength(expected)).toBeGreaterThan(10 * CHUNK_BYTES);
    expect(transcodeJson(text)).toBe(expected);
    const answer = encodeResponseChunks(jsonResult(text));
    expect(answer.chunks.length).toBeGreaterThan(5);
    expect(answer.length).toBe(answer.chunks.reduce((n, c) => n + c.length, 0));
    expect(Buffer.concat(answer.chunks).equals(encodeResponseBytes(jsonResult(text)))).toBe(true);
    expect(Buffer.concat(answer.chunks).toString('utf8')).toContain(expected);
    answer.release();
  });

  it('gives its chunks back on release, once, and the next large answer takes them again', () => {
    const text = JSON.stringify(
      Array.from({ length: 5000 }, (_, id) => ({ id, name: `Partner ${id} & Co` })),
    );
    encodeResponseChunks(jsonResult(text)).release(); // the pool now holds at least one answer's chunks
    const before = freeBytes();
    const a = encodeResponseChunks(jsonResult(text));
    expect(a.pooled).toBe(true);
    const taken = before - freeBytes();
    expect(taken).toBeGreaterThan(0);
    expect(taken).toBe(Math.ceil(a.length / CHUNK_BYTES) * CHUNK_BYTES);
    const copy = Buffer.concat(a.chunks);
    a.release();
    expect(freeBytes()).toBe(before);
    a.release();
    expect(freeBytes()).toBe(before);
    // The reused chunks hold the same answer again.
    const b = encodeResponseChunks(jsonResult(text));
    expect(Buffer.concat(b.chunks).equals(copy)).toBe(true);
    b.release();
  });

  it('gives its chunks back when the answer turns out to be a marshalling fault', () => {
    const text = JSON.stringify(Array.from({ length: 5000 }, (_, id) => ({ id, name: `Partner ${id}` })));
    encodeResponseChunks(jsonResult(text)).release();
    const before = freeBytes();
    expect(() => encodeResponseChunks(jsonResult(text.slice(0, -1) + ', null]'))).toThrow(OdooFault);
    expect(freeBytes()).toBe(before);
  });

  it('gives a small answer a buffer of its own, outside the pool', () => {
    const before = freeBytes();
    const a = encodeResponseChunks(jsonResult('[1, 2, 3]'));
    expect(a.pooled).toBe(false);
    expect(a.chunks).toHaveLength(1);
    expect(freeBytes()).toBe(before);
  });
});

describe("the upstream's bytes, read chunk by chunk as the socket delivers them", () => {
  /** The XML, or the fault without its `(near …)` context (which shows the chunk at hand). */
  function outcome(chunks: Buffer[]): string {
    try {
      return transcodeJson({ chunks, length: chunks.reduce((n, c) => n + c.length, 0) });
    } catch (e) {
      if (!(e instanceof OdooFault)) throw e;
      return `${e.shortName}: ${e.message.replace(/ \(near .*\)$/s, '')}`;
    }
  }

  /** `bytes` cut into pieces of 1 to `max` bytes. */
  function cut(bytes: Buffer, rnd: () => number, max: number): Buffer[] {
    const out: Buffer[] = [];
    for (let i = 0; i < bytes.length;) {
      const n = 1 + Math.floor(rnd() * max);
      out.push(bytes.subarray(i, i + n));
      i += n;
    }
    return out;
  }

  /** Long strings: plain runs (found natively) with every character that needs work here and there. */
  function longString(rnd: () => number): string {
    const pick = picker(rnd);
    const specials = [
      '\\"',
      '\\\\',
      '\\/',
      '\\n',
      '\\u0001',
      '\\u00e9',
      '\\ud83d\\ude00',
      '&',
      '<',
      '>',
      'é',
      '😀',
      '\\ud800',
    ];
    let s = '';
    const n = 1 + Math.floor(rnd() * 4);
    for (let k = 0; k < n; k++) s += 'QUJD'.repeat(Math.floor(rnd() * 40)) + pick(specials);
    return `"${s}"`;
  }

  it('writes the same XML, or the same fault, however the text is cut', () => {
    const rnd = prng(2026);
    const texts = [
      ...Array.from({ length: 300 }, () => randomJson(rnd, 0)),
      ...Array.from({ length: 200 }, () => longString(rnd)),
      `[${Array.from({ length: 20 }, () => longString(rnd)).join(', ')}]`,
      '{"a\\u0001<&>": "x\\u0002", "b": [1, -2.5e-7, NaN, -Infinity, true, false]}',
      '[1, 2',
      '"abc',
      '"a\\u12"',
      '"a\nb"',
      '[1] [2]',
      '-',
      '-Inf',
      '{"a" 1}',
      ' ',
      '',
    ];
    const bad: string[] = [];
    for (const text of texts) {
      const bytes = Buffer.from(text, 'utf8');
      const whole = outcome([bytes]);
      const ways =
        bytes.length <= 80
          ? Array.from({ length: bytes.length + 1 }, (_, k) => [bytes.subarray(0, k), bytes.subarray(k)])
          : [cut(bytes, rnd, 1), cut(bytes, rnd, 7), cut(bytes, rnd, 64)];
      for (const chunks of ways)
        if (outcome(chunks) !== whole) bad.push(`${JSON.stringify(text)} in ${chunks.length} chunks`);
    }
    expect(bad.slice(0, 3)).toEqual([]);
  });

  it('copies a large base64 string as it is, and reads it across chunks of any size', () => {
    const b64 = Buffer.from(Array.from({ length: 3 * CHUNK_BYTES }, (_, i) => (i * 7919) % 256)).toString(
      'base64',
    );
    const text = `[{"id": 1, "datas": "${b64}"}]`;
    const expected =
      '<value><array><data>\n<value><struct>\n<member>\n<name>id</name>\n<value><int>1</int></value>\n</member>\n' +
      `<member>\n<name>datas</name>\n<value><string>${b64}</string></value>\n</member>\n</struct></value>\n</data></array></value>\n`;
    const bytes = Buffer.from(text);
    for (const size of [1 << 16, 65_535, 4096, 13]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
      expect(outcome(chunks)).toBe(expected);
    }
  });

  it("reads numbers as long as Python writes (4,300 digits) across one-byte chunks, and refuses longer ones cut by a chunk's end", () => {
    const one = (text: string): Buffer[] => [...Buffer.from(text)].map((b) => Buffer.from([b]));
    expect(outcome(one(`[${'9'.repeat(4300)}]`))).toBe(outcome([Buffer.from(`[${'9'.repeat(4300)}]`)]));
    expect(outcome(one(`[${'9'.repeat(4300)}]`))).toMatch(/^OverflowError: int exceeds XML-RPC limits/);
    expect(outcome(one(`[${'9'.repeat(6000)}]`))).toMatch(/^UpstreamError: .*invalid number at offset 1$/);
  });

  it('refuses a raw control character anywhere in a long string, at its offset', () => {
    const text = `"${'A'.repeat(300)}\u0007${'B'.repeat(300)}"`;
    for (const at of [1, 100, 250, 301, 302, 400]) {
      const bytes = Buffer.from(text);
      const f = thrown(() =>
        transcodeJson({ chunks: [bytes.subarray(0, at), bytes.subarray(at)], length: bytes.length }),
      );
      expect(f.message).toMatch(
        /^the upstream Odoo answered invalid JSON: raw control character in a string at offset 301 /,
      );
    }
  });
});

describe('UTF-8 checked across chunks (protocol/utf8-bytes.ts)', () => {
  it('agrees with a check of the joined bytes, whatever the cuts', () => {
    const rnd = prng(8);
    const pieces = [
      [0x61],
      [0xc3, 0xa9],
      [0xe2, 0x82, 0xac],
      [0xf0, 0x9f, 0x98, 0x80],
      [0xff],
      [0xc3],
      [0x80],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xe2, 0x82],
    ];
    for (let n = 0; n < 2000; n++) {
      const bytes = Buffer.from(
        Array.from(
          { length: Math.floor(rnd() * 8) },
          () => pieces[Math.floor(rnd() * pieces.length)] as number[],
        ).flat(),
      );
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length;) {
        const k = 1 + Math.floor(rnd() * 5);
        chunks.push(bytes.subarray(i, i + k));
        i += k;
      }
      expect(isUtf8Chunks(chunks), bytes.toString('hex')).toBe(isUtf8(bytes));
      const fixed = checkedUtf8({ chunks, length: bytes.length });
      expect(Buffer.concat(fixed.chunks).toString('utf8')).toBe(bytes.toString('utf8'));
    }
  });

  it('turns bad bytes from upstream into U+FFFD, in the XML as a decoder would', () => {
    const bytes = Buffer.concat([
      Buffer.from('["caf'),
      Buffer.from([0xc3]),
      Buffer.from([0xff]),
      Buffer.from('", "\u00e9"]'),
    ]);
    const chunks = [bytes.subarray(0, 6), bytes.subarray(6, 7), bytes.subarray(7)];
    expect(transcodeJson(checkedUtf8({ chunks, length: bytes.length }))).toBe(
      '<value><array><data>\n<value><string>caf\ufffd\ufffd</string></value>\n<value><string>é</string></value>\n</data></array></value>\n',
    );
  });
});
