import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OdooFault } from '../../src/errors.ts';
import { parseJsonValue } from '../../src/protocol/json/parse.ts';
import { pyFloatRepr } from '../../src/protocol/py-float.ts';
import { decodeMethodCall, DEFAULT_XML_LIMITS, type XmlLimits } from '../../src/protocol/xmlrpc/decode.ts';
import { Binary, DateTime, LargeText, PyFloat, type Value } from '../../src/values.ts';
import { CAPTURES_DIR } from '../support/captures.ts';
import { picker, prng } from '../support/random.ts';

/**
 * A value as plain JSON that keeps what matters to Python: int vs float (with repr), key order,
 * Binary and datetime. CPython's side (ORACLE below) produces the same shape.
 */
type Tagged =
  | null
  | boolean
  | string
  | Tagged[]
  | { int: string }
  | { float: string }
  | { b64: string }
  | { dt: string }
  | { dict: [Tagged, Tagged][] };

function tag(v: Value): Tagged {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return { int: String(v) };
  if (v instanceof PyFloat) return { float: pyFloatRepr(v.value) };
  if (v instanceof Binary) return { b64: v.base64 };
  if (v instanceof DateTime) return { dt: v.odoo };
  if (v instanceof LargeText) return v.text();
  if (Array.isArray(v)) return v.map(tag);
  return { dict: Array.from(v, ([k, x]): [Tagged, Tagged] => [k, tag(x)]) };
}

/** What CPython's `xmlrpc.client.loads(body, use_datetime=True)` gives for each base64 body. */
const ORACLE = String.raw`
import sys, json, base64, decimal, datetime, xmlrpc.client as x
def tag(v):
    if v is None or isinstance(v, (bool, str)): return v
    if isinstance(v, int): return {'int': str(v)}
    if isinstance(v, float): return {'float': repr(v)}
    if isinstance(v, decimal.Decimal): return {'float': repr(float(v))}
    if isinstance(v, x.Binary): return {'b64': base64.b64encode(v.data).decode()}
    if isinstance(v, datetime.datetime): return {'dt': '%04d-%02d-%02d %02d:%02d:%02d' % (v.year, v.month, v.day, v.hour, v.minute, v.second)}
    if isinstance(v, (list, tuple)): return [tag(i) for i in v]
    if isinstance(v, dict): return {'dict': [[tag(k), tag(i)] for k, i in v.items()]}
    return {'other': repr(v)}
out = []
for b in json.load(sys.stdin):
    try:
        params, method = x.loads(base64.b64decode(b), use_datetime=True)
        out.append({'ok': [method, tag(list(params))]})
    except Exception as e:
        t = type(e)
        name = ('builtins.' if t.__module__ == 'builtins' else t.__module__ + '.') + t.__qualname__
        out.append({'err': [name, '\n'.join(str(a) for a in e.args) if e.args else str(e), str(e)]})
print(json.dumps(out))
`;

/** A value, or an exception as [class, Odoo's message (args joined), str(e)]. */
type Outcome = { ok: [string | null, Tagged] } | { err: [string, string, string] } | { thrown: string };

function cpython(bodies: Buffer[]): Outcome[] {
  const out = execFileSync('python3', ['-I', '-c', ORACLE], {
    input: JSON.stringify(bodies.map((b) => b.toString('base64'))),
    maxBuffer: 1 << 30,
  });
  return JSON.parse(out.toString()) as Outcome[];
}

function ours(body: Buffer | string, limits?: Partial<XmlLimits>): Outcome {
  try {
    const r = decodeMethodCall(body, limits);
    return { ok: [r.methodName, tag(r.params)] };
  } catch (e) {
    if (e instanceof OdooFault) return { err: [e.pyName, e.message, e.str] };
    return { thrown: String(e) };
  }
}

function fault(body: Buffer | string, limits?: Partial<XmlLimits>): OdooFault {
  try {
    decodeMethodCall(body, limits);
  } catch (e) {
    expect(e).toBeInstanceOf(OdooFault);
    return e as OdooFault;
  }
  throw new Error('expected a fault');
}

const call = (inner: string): string =>
  `<?xml version='1.0'?>\n<methodCall>\n<methodName>m</methodName>\n<params>\n<param>\n<value>${inner}</value>\n</param>\n</params>\n</methodCall>\n`;

describe('decodeMethodCall on the real captures', () => {
  const ids = readdirSync(CAPTURES_DIR)
    .filter((f) => f.startsWith('4b-') && f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();

  it('finds the XML-RPC captures', () => {
    expect(ids.length).toBeGreaterThan(30);
  });

  for (const id of ids) {
    const raw = readFileSync(`${CAPTURES_DIR}/${id}.json`, 'utf8');
    // Parsed losslessly so that a captured 1.0 stays a float.
    const capture = parseJsonValue(raw) as Map<string, Value>;
    const request = capture.get('request') as Map<string, Value>;
    const bodyRaw = request.get('body_raw');
    if (typeof bodyRaw !== 'string' || !bodyRaw.startsWith('<?xml')) continue;
    const decoded = capture.get('decoded_request') as Map<string, Value>;
    it(`${id}: request body decodes to decoded_request`, () => {
      const got = decodeMethodCall(Buffer.from(bodyRaw, 'utf8'));
      expect(got.methodName).toBe(decoded.get('methodName'));
      expect(tag(got.params)).toEqual(tag(decoded.get('params') as Value));
      // The same body given as a string decodes the same.
      expect(tag(decodeMethodCall(bodyRaw).params)).toEqual(tag(got.params));
    });
  }

  it('4b-46: a body that is not XML is the fault Odoo answered', () => {
    const f = fault(Buffer.from('this is not xml'));
    expect(f.pyName).toBe('xml.parsers.expat.ExpatError');
    expect(f.message).toBe('syntax error: line 1, column 0');
    expect(f.kind).toBe('generic');
    // Odoo's traceback ends with the same line.
    const capture = JSON.parse(
      readFileSync(`${CAPTURES_DIR}/4b-46-xmlrpc-err-malformed-xml.json`, 'utf8'),
    ) as {
      response: { body: string };
    };
    expect(capture.response.body).toContain(`${f.pyName}: ${f.message}\n`);
  });
});

describe('decodeMethodCall mirrors CPython xmlrpc.client.loads', () => {
  const xml = (s: string): Buffer => Buffer.from(s, 'utf8');
  const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');
  /** Bodies where our answer must equal CPython's exactly: value, or exception class and message. */
  const same: [string, Buffer][] = [
    // Scalars.
    [
      'int forms',
      xml(
        call(
          '<array><data><value><int> +1_000 </int></value><value><i4>-7</i4></value><value><i8>9007199254740993</i8></value><value><i1>0</i1></value><value><i2>-0</i2></value><value><biginteger>123456789012345678901234567890</biginteger></value></data></array>',
        ),
      ),
    ],
    [
      'int with unicode digits and spaces',
      xml(
        call(
          '<array><data><value><int>٣٤</int></value><value><int>\u0085 5\u00a0</int></value><value><int>１２</int></value></data></array>',
        ),
      ),
    ],
    ['int: not an int', xml(call('<int>1.5</int>'))],
    ['int: \\x1c is not whitespace for int()', xml(call('<int>\x1c5</int>'))],
    ['int: bad underscores', xml(call('<int>1__0</int>'))],
    ['int: repr truncated to 200 characters', xml(call(`<int>${'1'.repeat(250)}x</int>`))],
    ['int: more than 4300 digits', xml(call(`<int>${'1'.repeat(4301)}</int>`))],
    ['int: 4300 digits with underscores', xml(call(`<int>${'1_'.repeat(2200)}1</int>`))],
    ['int: empty', xml(call('<int></int>'))],
    [
      'double forms',
      xml(
        call(
          '<array><data><value><double>1_0.5e1_0</double></value><value><double> -InFinity </double></value><value><double>1.</double></value><value><double>.5e-3</double></value><value><double>-0.0</double></value><value><double>1e500</double></value><value><double>nan</double></value><value><float>١.٥</float></value><value><double>1740</double></value></data></array>',
        ),
      ),
    ],
    ['double: not a float', xml(call('<double>abc</double>'))],
    ['double: underscore before the point', xml(call('<double>1_.5</double>'))],
    ['double: long repr is not truncated', xml(call(`<double>${'x'.repeat(300)}</double>`))],
    [
      'bigdecimal',
      xml(
        call(
          '<array><data><value><bigdecimal> 1_0.5 </bigdecimal></value><value><bigdecimal>-Inf</bigdecimal></value><value><bigdecimal>0.1</bigdecimal></value></data></array>',
        ),
      ),
    ],
    ['bigdecimal: invalid', xml(call('<bigdecimal>abc</bigdecimal>'))],
    [
      'boolean',
      xml(
        call(
          '<array><data><value><boolean>0</boolean></value><value><boolean>1</boolean></value></data></array>',
        ),
      ),
    ],
    ['boolean: 2', xml(call('<boolean>2</boolean>'))],
    ['boolean: padded', xml(call('<boolean> 1</boolean>'))],
    [
      'nil and namespaced nil',
      xml(call('<array><data><value><nil/></value><value><ex:nil/></value></data></array>')),
    ],
    // Dates.
    ['dateTime', xml(call('<dateTime.iso8601>20240229T23:59:59</dateTime.iso8601>'))],
    [
      'dateTime: one-digit fields and lowercase t',
      xml(call('<dateTime.iso8601>2024011t1:2:3</dateTime.iso8601>')),
    ],
    ['dateTime: space-padded day', xml(call('<dateTime.iso8601>202401 1T10:00:00</dateTime.iso8601>'))],
    ['dateTime: unicode digits', xml(call('<dateTime.iso8601>٢٠٢٤0101T10:00:00</dateTime.iso8601>'))],
    ['dateTime: ISO with dashes', xml(call('<dateTime.iso8601>2024-01-01T10:00:00</dateTime.iso8601>'))],
    ['dateTime: trailing Z', xml(call('<dateTime.iso8601>20240101T10:00:00Z</dateTime.iso8601>'))],
    ['dateTime: leading space', xml(call('<dateTime.iso8601> 20240101T10:00:00</dateTime.iso8601>'))],
    ['dateTime: February 30', xml(call('<dateTime.iso8601>20230229T10:00:00</dateTime.iso8601>'))],
    ['dateTime: leap second', xml(call('<dateTime.iso8601>20240101T10:00:61</dateTime.iso8601>'))],
    ['dateTime: year 0', xml(call('<dateTime.iso8601>00000101T10:00:00</dateTime.iso8601>'))],
    // base64.
    [
      'base64 forms',
      xml(
        call(
          '<array><data><value><base64>\n  QUJD\nREVG\n</base64></value><value><base64>QUJD=REVG</base64></value><value><base64>QR==xyz</base64></value><value><base64>====</base64></value><value><base64></base64></value><value><base64>QUJ=</base64></value><value><base64>Q!U@J#D=</base64></value></data></array>',
        ),
      ),
    ],
    ['base64: incorrect padding', xml(call('<base64>QQ=</base64>'))],
    ['base64: one data character too many', xml(call('<base64>QUJDR</base64>'))],
    ['base64: padding in the middle', xml(call('<base64>Q=QUJD</base64>'))],
    ['base64: non-ASCII character', xml(call('<base64>QQé==</base64>'))],
    ['base64: non-ASCII characters', xml(call('<base64>QQéé==</base64>'))],
    // Strings.
    [
      'untyped, empty and self-closed values',
      xml(
        call(
          '<array><data><value>plain</value><value></value><value/><value><string/></value></data></array>',
        ),
      ),
    ],
    [
      'entities, character references, CDATA, comments, PIs',
      xml(
        call(
          '<array><data><value>&lt;&#x1F600;&#65;&amp;&quot;&apos;&gt;</value><value><![CDATA[x<y&z]]></value><value><string>a<!-- c -->b<?pi x?>c</string></value></data></array>',
        ),
      ),
    ],
    [
      'line ends are normalized, &#13; is kept',
      xml('<methodCall><methodName>a\r\nb&#13;c\rd</methodName></methodCall>'),
    ],
    [
      'XML 1.1 declaration is read as 1.0',
      xml('<?xml version="1.1"?><methodCall><methodName>a\u0085b</methodName></methodCall>'),
    ],
    // Structure.
    [
      'struct: a repeated name keeps its place and takes the last value',
      xml(
        call(
          '<struct><member><name>a</name><value>1</value></member><member><name>b</name><value>2</value></member><member><name>a</name><value>3</value></member></struct>',
        ),
      ),
    ],
    ['struct: odd member list', xml(call('<struct><member><name>a</name></member></struct>'))],
    [
      'struct: list as a key',
      xml(call('<struct><value><array><data/></array></value><value>1</value></struct>')),
    ],
    [
      'struct: Binary as a key',
      xml(call('<struct><member><value><base64>QQ==</base64></value><value>2</value></member></struct>')),
    ],
    ['values outside <param> and bare typed elements', xml(call('<i4>1</i4><i4>2</i4>'))],
    ['nested value', xml(call('<value>x</value>'))],
    ['params inside value', xml(call('<params/>'))],
    ['unknown tag inside value', xml(call('<foo>1</foo>'))],
    ['unknown tag <param> inside value', xml(call('<param/>'))],
    [
      'unknown tags elsewhere are ignored',
      xml(
        '<methodCall><x:y/><methodName>a</methodName><params><junk>t</junk><param><value><i4>1</i4></value></param></params></methodCall>',
      ),
    ],
    [
      'namespaced tags',
      xml(
        '<ex:methodCall xmlns:ex="u"><ex:methodName>a</ex:methodName><params><param><value><ex:i8>5</ex:i8></value></param><a:b:nil/></params></ex:methodCall>',
      ),
    ],
    [
      'attributes are ignored',
      xml(
        '<methodCall attr="1"><methodName>a</methodName><params><param><value x="y"><string>q</string></value></param></params></methodCall>',
      ),
    ],
    ['no <params>', xml('<methodCall><methodName>a</methodName></methodCall>')],
    ['empty <params>', xml('<methodCall><methodName>a</methodName><params/></methodCall>')],
    ['no methodCall content', xml('<methodCall/>')],
    ['another root element', xml('<foo/>')],
    [
      'fault in a request',
      xml(
        '<methodCall><methodName>a</methodName><fault><value><struct><member><name>faultCode</name><value><int>1</int></value></member><member><name>faultString</name><value>x</value></member></struct></value></fault></methodCall>',
      ),
    ],
    [
      'fault with a string code and extra members',
      xml(
        '<methodCall><methodName>a</methodName><fault><value><struct><member><name>faultCode</name><value>warning -- x</value></member><member><name>faultString</name><value><int>3</int></value></member><member><name>extra</name><value>e</value></member></struct></value></fault></methodCall>',
      ),
    ],
    [
      'fault that is not a struct',
      xml('<methodCall><methodName>a</methodName><fault><value><int>1</int></value></fault></methodCall>'),
    ],
    ['empty fault', xml('<methodCall><methodName>a</methodName><fault></fault></methodCall>')],
    [
      'fault without faultString',
      xml(
        '<methodCall><methodName>a</methodName><fault><value><struct><member><name>faultCode</name><value>1</value></member></struct></value></fault></methodCall>',
      ),
    ],
    // XML errors, worded and placed like expat.
    ['empty body', xml('')],
    ['not XML', xml('this is not xml')],
    ['truncated after a start tag', xml('<a>')],
    ['truncated methodCall', xml('<methodCall>')],
    ['truncated inside a tag', xml('<methodCall><methodName>a</methodName></methodCall')],
    ['mismatched tag', xml('<methodCall><methodName>a</methodName></methodCallx>')],
    ['junk text after the root', xml('<methodCall><methodName>a</methodName></methodCall>  x')],
    ['junk element after the root', xml('<methodCall><methodName>a</methodName></methodCall><x/>')],
    ['comment after the root', xml('<methodCall><methodName>a</methodName></methodCall><!-- c -->')],
    ['text before the root: JSON', xml('{"jsonrpc": "2.0"}')],
    ['text before the root: a list', xml('[1]')],
    ['text before the root: a question mark', xml('?x')],
    ['text before the root: a quoted string', xml('"a" <a/>')],
    ['text before the root: a name running into a tag', xml('  \n  x<a/>')],
    ['text after the prolog', xml('<?xml version="1.0"?>\n<!-- c -->\n junk<a/>')],
    ['after the root: a question mark', xml('<a/>  ?')],
    ['after the root: an open quote', xml('<a/>"')],
    ['after the root: a bracket', xml('<a/>]')],
    ['text before the root: non-ASCII', xml('été')],
    ['mismatched tag closing a typed element', xml(call('<i4>12</value>'))],
    ['closing tag with an invalid name', xml(call('<i4>12</4>'))],
    ['malformed reference in text', xml(call('<string>a&value></string>'))],
    ['malformed reference before a later semicolon', xml(call('<string>a&b c;</string>'))],
    ['text ends inside a reference', xml('<methodCall><methodName>a&am')],
    ['unclosed comment', xml(call('<string>a</string><!-- c ->'))],
    ['unclosed CDATA', xml('<methodCall><methodName><![CDATA[x]')],
    ['unterminated XML declaration', xml("<?xml version='1.0'?x\n<methodCall/>")],
    ['whitespace around the root', xml('  <methodCall><methodName>a</methodName></methodCall>  ')],
    ['undefined entity', xml('<methodCall><methodName>&x;</methodName></methodCall>')],
    ['reference to character 0', xml('<methodCall><methodName>&#0;</methodName></methodCall>')],
    ['raw control character', xml('<methodCall><methodName>\x01</methodName></methodCall>')],
    ['XML declaration not at the start', xml('\n<?xml version="1.0"?><a/>')],
    ['invalid UTF-8', xml('<methodCall><methodName>a').subarray(0, 24)],
    ['invalid UTF-8 after multi-byte characters', Buffer.concat([xml('<a>\n éé😀'), Buffer.from([0xff])])],
    [
      'invalid UTF-8 after an unmarshalling error',
      Buffer.concat([xml(call('<boolean>7</boolean>')), Buffer.from([0xff])]),
    ],
    // Encodings.
    [
      'ISO-8859-1 body',
      latin1(
        '<?xml version="1.0" encoding="iso-8859-1"?><methodCall><methodName>\x80\xe9</methodName></methodCall>',
      ),
    ],
    [
      'latin-1 alias',
      latin1(
        '<?xml version="1.0" encoding="latin-1"?><methodCall><methodName>\xe9</methodName></methodCall>',
      ),
    ],
    [
      'windows-1252 body',
      latin1(
        '<?xml version="1.0" encoding="windows-1252"?><methodCall><methodName>\x80\xe9</methodName></methodCall>',
      ),
    ],
    [
      'cp1252 undefined byte',
      latin1('<?xml version="1.0" encoding="cp1252"?><methodCall><methodName>\x81</methodName></methodCall>'),
    ],
    [
      'US-ASCII body with a high byte',
      latin1(
        '<?xml version="1.0" encoding="us-ascii"?><methodCall><methodName>\xe9</methodName></methodCall>',
      ),
    ],
    ['UTF-8 body with a latin-1 byte', latin1('<methodCall><methodName>\xe9</methodName></methodCall>')],
    ['unknown encoding', latin1('<?xml version="1.0" encoding="foo"?><a/>')],
    [
      'declared UTF-16 without a BOM',
      latin1('<?xml version="1.0" encoding="UTF-16"?><methodCall><methodName>a</methodName></methodCall>'),
    ],
    [
      'UTF-8 BOM',
      Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        xml('<?xml version="1.0"?><methodCall><methodName>a</methodName></methodCall>'),
      ]),
    ],
    [
      'UTF-16 with a BOM',
      Buffer.concat([
        Buffer.from([0xff, 0xfe]),
        Buffer.from('<?xml version="1.0"?><methodCall><methodName>aé😀</methodName></methodCall>', 'utf16le'),
      ]),
    ],
  ];
  // The invalid-UTF-8 case above is built from a valid prefix: make it invalid.
  same[same.findIndex(([n]) => n === 'invalid UTF-8')]![1] = Buffer.concat([
    xml('<methodCall><methodName>a'),
    Buffer.from([0xc3, 0x28]),
  ]);

  it('gives the same values and the same exceptions as CPython', () => {
    const expected = cpython(same.map(([, b]) => b));
    const mismatches = same
      .map(([name, body], i) => ({ name, ours: ours(body), cpython: expected[i] }))
      .filter((r) => JSON.stringify(r.ours) !== JSON.stringify(r.cpython));
    expect(mismatches).toEqual([]);
  });

  it('raises the same exception class and expat message as CPython on mangled requests', () => {
    // Positions may differ by a few characters for rarer errors (documented); not the messages.
    const rnd = prng(11);
    const base = Buffer.from(
      call(
        '<struct><member><name>a&amp;b</name><value><array><data><value><i4>12</i4></value><value><double>1.5</double></value><value><base64>QUJD</base64></value><value><dateTime.iso8601>20240101T10:00:00</dateTime.iso8601></value><value><boolean>1</boolean></value><value><![CDATA[x]]></value><!-- c --></data></array></value></member></struct>',
      ),
    );
    const declaration = "<?xml version='1.0'?>\n".length; // left intact (see the documented differences)
    const bodies = Array.from({ length: 1500 }, () => {
      const b = Buffer.from(base);
      const at = declaration + Math.floor(rnd() * (b.length - declaration));
      const mode = rnd();
      if (mode < 0.4) {
        b[at] = '<>&/"\'=!?[] ax\n'.charCodeAt(Math.floor(rnd() * 15));
        return b;
      }
      if (mode < 0.7) return b.subarray(0, at);
      return Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + Math.floor(rnd() * 5))]);
    });
    const expected = cpython(bodies);
    const kind = (o: Outcome | undefined): string =>
      o === undefined
        ? 'missing'
        : 'err' in o
          ? `${o.err[0]}: ${o.err[1].replace(/: line \d+, column \d+$/, '')}`
          : 'ok';
    let exact = 0;
    const different: string[] = [];
    bodies.forEach((body, i) => {
      const got = ours(body);
      if (JSON.stringify(got) === JSON.stringify(expected[i])) exact++;
      else if (kind(got) !== kind(expected[i])) different.push(`${kind(got)} / ${kind(expected[i])}`);
    });
    expect(different).toEqual([]);
    expect(exact / bodies.length).toBeGreaterThan(0.95);
  });

  it('differs from CPython only where documented', () => {
    // CPython returns methodName None; the bridge refuses the call.
    expect(ours(xml('<methodCall><params/></methodCall>'))).toEqual({
      err: [
        'xmlrpc.client.ResponseError',
        'the XML-RPC request has no <methodName>',
        "ResponseError('the XML-RPC request has no <methodName>')",
      ],
    });
    // CPython builds {1: '2'}; JSON-2 cannot carry int keys.
    const f = fault(
      xml(call('<struct><member><value><int>1</int></value><value>2</value></member></struct>')),
    );
    expect(f.pyName).toBe('builtins.TypeError');
    expect(f.message).toMatch(/struct member names must be strings, not int/);
    // CPython gives a Decimal; the bridge its nearest float.
    expect(ours(xml(call('<bigdecimal>0.1</bigdecimal>')))).toEqual({ ok: ['m', [{ float: '0.1' }]] });
    // Multi-byte encodings: pyexpat refuses them, TextDecoder reads them.
    const sjis = Buffer.concat([
      xml('<?xml version="1.0" encoding="shift_jis"?><methodCall><methodName>'),
      Buffer.from([0x93, 0xfa, 0x96, 0x7b]),
      xml('</methodName></methodCall>'),
    ]);
    expect(decodeMethodCall(sjis).methodName).toBe('日本');
  });

  it('agrees with CPython on randomly generated requests', () => {
    const rnd = prng(0x5eed);
    const bodies = Array.from({ length: 300 }, () => Buffer.from(randomRequest(rnd), 'utf8'));
    const expected = cpython(bodies);
    const mismatches = bodies
      .map((body, i) => ({
        body: body.toString('utf8').slice(0, 2000),
        ours: ours(body),
        cpython: expected[i],
      }))
      .filter((r) => JSON.stringify(r.ours) !== JSON.stringify(r.cpython));
    expect(mismatches.slice(0, 3)).toEqual([]);
  });

  it('reads long text runs (handled outside saxes) exactly like short ones', () => {
    const rnd = prng(42);
    const big = Array.from({ length: 20_000 }, () => 'ab<&>"\'\r\n\té😀'[Math.floor(rnd() * 13)] ?? '').join(
      '',
    );
    const escaped = big.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    const blob = Buffer.from(Array.from({ length: 300_000 }, () => Math.floor(rnd() * 256))).toString(
      'base64',
    );
    const wrapped = blob.replace(/(.{76})/g, '$1\n');
    const bodies = [
      call(`<string>${escaped}</string>`),
      call(`<value>${escaped.replace(/</g, '&#60;')}</value>`),
      call(`<base64>${wrapped}</base64>`),
      call(`<base64>\n${blob}\n</base64>`),
      call(
        `<array><data><value>${'x'.repeat(5000)}</value><value><string>${'y'.repeat(5000)}&#13;</string></value></data></array>`,
      ),
      call(`<string>${'z'.repeat(3000)}\u0001</string>`), // invalid character deep in a long run
      call(`<string>${'z'.repeat(3000)}&bogus;</string>`),
      call(`<string>${'z'.repeat(3000)}&#1;</string>`),
      call(`<string>${'z'.repeat(3000)}\ud800</string>`.replace('\ud800', '\ufffd')),
      `<methodCall><methodName>a</methodName></methodCall>${' '.repeat(3000)}junk${' '.repeat(3000)}`,
      `<methodCall><methodName>a</methodName><!--${'c'.repeat(5000)}--><params/></methodCall>`,
      `<methodCall><methodName>a</methodName><params><param><value a="${'>'.repeat(3000)}">${'v'.repeat(3000)}</value></param></params></methodCall>`,
    ].map((s) => Buffer.from(s, 'utf8'));
    const expected = cpython(bodies);
    bodies.forEach((body, i) => expect(ours(body), `body ${i}`).toEqual(expected[i]));
  });
});

describe('decodeMethodCall security', () => {
  const billionLaughs = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 ${Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`).join('\n ')}
]>
<methodCall><methodName>&lol9;</methodName></methodCall>`;

  it.each([
    ['billion laughs', billionLaughs],
    [
      'external entity',
      '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><methodCall><methodName>&xxe;</methodName></methodCall>',
    ],
    [
      'external DTD',
      '<!DOCTYPE methodCall SYSTEM "http://example.com/x.dtd"><methodCall><methodName>a</methodName></methodCall>',
    ],
    ['bare DOCTYPE', '<!DOCTYPE methodCall><methodCall><methodName>a</methodName></methodCall>'],
    ['truncated DOCTYPE', '<!DOCTYPE methodCall [<!ENTITY a "b"'],
    ['DOCTYPE after the root', '<methodCall><methodName>a</methodName></methodCall><!DOCTYPE x>'],
  ])('refuses a DTD: %s', (_name, body) => {
    const f = fault(Buffer.from(body));
    expect(f.kind).toBe('generic');
    expect(f.pyName).toBe('odoo_rpc_bridge.XmlRejected');
    expect(f.message).toMatch(/DTD.*not accepted/);
  });

  it('never expands an entity it does not know', () => {
    const f = fault('<methodCall><methodName>&xxe;</methodName></methodCall>');
    expect(f.message).toBe('undefined entity: line 1, column 24');
    // Object.prototype members are not entities either.
    expect(fault('<methodCall><methodName>&constructor;</methodName></methodCall>').message).toMatch(
      /^undefined entity/,
    );
  });

  it('caps the nesting depth without recursing', () => {
    const nest = (n: number): string =>
      `${'<value><array><data>'.repeat(n)}${'</data></array></value>'.repeat(n)}`;
    const deep = `<methodCall><methodName>a</methodName><params><param>${nest(200_000)}</param></params></methodCall>`;
    const f = fault(deep);
    expect(f.pyName).toBe('odoo_rpc_bridge.XmlRejected');
    expect(f.message).toBe(
      `XML-RPC request refused: the request nests XML elements deeper than ${DEFAULT_XML_LIMITS.maxDepth} levels`,
    );
    // methodCall, params, param = 3 levels, then 2 per value/array... exactly at the limit is fine.
    const atLimit = `<methodCall><methodName>a</methodName><params><param>${'<value><array>'.repeat(48)}<value/>${'</array></value>'.repeat(48)}</param></params></methodCall>`;
    expect(() => decodeMethodCall(atLimit)).not.toThrow();
    expect(() => decodeMethodCall(atLimit, { maxDepth: 99 })).toThrow(OdooFault);
  });

  it('caps the element count', () => {
    const body = call(`<array><data>${'<value><int>1</int></value>'.repeat(100)}</data></array>`);
    expect(decodeMethodCall(body, { maxElements: 1000 }).params).toHaveLength(1);
    expect(fault(body, { maxElements: 150 }).message).toBe(
      'XML-RPC request refused: the request has more than 150 XML elements',
    );
  });

  it('caps the length of a text, on both parsing paths', () => {
    // Counted like CPython collects it: all text since the last start tag (no whitespace here).
    const compact = (inner: string): string =>
      `<methodCall><methodName>m</methodName><params><param><value>${inner}</value></param></params></methodCall>`;
    expect(decodeMethodCall(compact('<string>0123456789</string>'), { maxStringLength: 10 }).params).toEqual([
      '0123456789',
    ]);
    expect(fault(compact('<string>0123456789x</string>'), { maxStringLength: 10 }).message).toBe(
      'XML-RPC request refused: an XML text is longer than 10 characters',
    );
    expect(
      decodeMethodCall(compact(`<string>${'x'.repeat(40_000)}</string>`), { maxStringLength: 40_000 }).params,
    ).toHaveLength(1);
    expect(fault(compact(`<string>${'x'.repeat(40_001)}</string>`), { maxStringLength: 40_000 }).pyName).toBe(
      'odoo_rpc_bridge.XmlRejected',
    );
    // Many small pieces (entities, CDATA) add up.
    expect(
      fault(compact(`<string>${'&amp;'.repeat(8)}<![CDATA[abc]]></string>`), { maxStringLength: 10 }).pyName,
    ).toBe('odoo_rpc_bridge.XmlRejected');
  });

  it('keeps __proto__ and friends as ordinary struct keys', () => {
    const member = (k: string, v: string): string => `<member><name>${k}</name><value>${v}</value></member>`;
    const body = call(
      `<struct>${member('__proto__', '<struct>' + member('polluted', 'yes') + '</struct>')}${member('constructor', 'c')}${member('toString', 't')}</struct>`,
    );
    const [s] = decodeMethodCall(body).params as [Map<string, Value>];
    expect(s).toBeInstanceOf(Map);
    expect([...s.keys()]).toEqual(['__proto__', 'constructor', 'toString']);
    expect((s.get('__proto__') as Map<string, Value>).get('polluted')).toBe('yes');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('reports invalid UTF-8 where expat does', () => {
    const f = fault(Buffer.concat([Buffer.from('<methodCall>\n<methodName>aé'), Buffer.from([0xe9, 0x00])]));
    expect(f.pyName).toBe('xml.parsers.expat.ExpatError');
    expect(f.message).toBe('not well-formed (invalid token): line 2, column 14');
    expect(fault(Buffer.from([0x3c, 0x61, 0x3e, 0xed, 0xa0, 0x80, 0x3c])).message).toMatch(
      /^not well-formed \(invalid token\)/,
    );
  });

  it('reads a latin-1 body', () => {
    const body = Buffer.from(
      `<?xml version="1.0" encoding="ISO-8859-1"?>${call('<string>café</string>').replace(/^<\?xml[^>]*>/, '')}`,
      'latin1',
    );
    expect(decodeMethodCall(body).params).toEqual(['café']);
  });

  it.each([
    ['empty', '', 'no element found: line 1, column 0'],
    ['not XML', 'GET / HTTP/1.1', 'syntax error: line 1, column 0'],
    ['JSON', '{"jsonrpc": "2.0"}', 'not well-formed (invalid token): line 1, column 0'],
    ['truncated in a text', call('<string>abc</string>').slice(0, 95), 'no element found: line 6, column 16'],
    ['truncated in a tag', call('<string>abc</string>').slice(0, 90), 'unclosed token: line 6, column 7'],
  ])('answers a malformed body (%s) with an ExpatError fault', (_name, body, message) => {
    const f = fault(Buffer.from(body));
    expect(f.pyName).toBe('xml.parsers.expat.ExpatError');
    expect(f.message).toBe(message);
  });

  it('stays linear on inputs built to make scanners backtrack', () => {
    // Each would take minutes with a quadratic scan; the test timeout is the guard.
    const mb = 4_000_000;
    const comment = `<methodCall><!--${'a'.repeat(mb)}--><methodName>m</methodName></methodCall>`;
    expect(decodeMethodCall(comment).methodName).toBe('m');
    const attribute = `<methodCall x="${'<'.repeat(0)}${'a'.repeat(mb)}"><methodName>m</methodName></methodCall>`;
    expect(decodeMethodCall(attribute).methodName).toBe('m');
    expect(fault(`<methodCall>${'<a '.repeat(mb / 3)}`).pyName).toBe('xml.parsers.expat.ExpatError');
    expect(fault(`<methodCall><methodName>${'a<'.repeat(mb / 2)}`).pyName).toBe(
      'xml.parsers.expat.ExpatError',
    );
    const spaces = ' '.repeat(mb);
    expect(fault(call(`<bigdecimal>1${spaces}1</bigdecimal>`)).pyName).toBe('decimal.InvalidOperation');
    expect(fault(call(`<int>1${spaces}1</int>`)).message).toBe(
      `invalid literal for int() with base 10: '1${' '.repeat(198)}`,
    );
    const longFloat = fault(call(`<double>${'x'.repeat(mb)}</double>`)).message;
    expect(longFloat).toBe(`could not convert string to float: '${'x'.repeat(1000)}...`);
    const b64 = fault(call(`<base64>${'QUJD'.repeat(mb / 4)}é</base64>`));
    expect(b64.pyName).toBe('builtins.UnicodeEncodeError');
    expect(b64.str).toBe(
      `'ascii' codec can't encode character '\\xe9' in position ${mb}: ordinal not in range(128)`,
    );
  });

  it('only ever throws OdooFault on mangled input', () => {
    const rnd = prng(7);
    const base = Buffer.from(
      call(
        '<struct><member><name>a&amp;b</name><value><array><data><value><i4>12</i4></value><value><double>1.5</double></value><value><base64>QUJD</base64></value><value><dateTime.iso8601>20240101T10:00:00</dateTime.iso8601></value><value><boolean>1</boolean></value><value><![CDATA[x]]></value></data></array></value></member></struct>',
      ),
    );
    for (let i = 0; i < 3000; i++) {
      const b = Buffer.from(base);
      const edits = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < edits; k++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      const cut = rnd() < 0.3 ? b.subarray(0, Math.floor(rnd() * b.length)) : b;
      try {
        decodeMethodCall(cut);
      } catch (e) {
        if (!(e instanceof OdooFault)) {
          throw new Error(`non-fault ${String(e)} for ${cut.toString('latin1')}`, { cause: e });
        }
        expect(e.kind).toBe('generic');
      }
    }
  });
});

/** A random but well-formed methodCall exercising the unmarshaller's many spellings. */
function randomRequest(rnd: () => number): string {
  const pick = picker(rnd);
  const chars = [
    'a',
    'Z',
    ' ',
    '\n',
    '\t',
    'é',
    '€',
    '😀',
    '&amp;',
    '&lt;',
    '&gt;',
    '&quot;',
    '&#233;',
    '&#x1F600;',
    '&#13;',
    '\r\n',
    ']',
  ];
  const text = (max: number): string =>
    Array.from({ length: Math.floor(rnd() * max) }, () => pick(chars)).join('');
  const ws = (): string => pick(['', '', ' ', '\n', '  \t']);
  const value = (depth: number): string => {
    const r = rnd();
    if (depth > 3 || r < 0.55) {
      switch (Math.floor(rnd() * 11)) {
        case 0:
          return `<value>${pick(['<int>', '<i4>', '<i8>', '<ex:int>', '<biginteger>']).replace(
            /<([^>]+)>/,
            (_m, t: string) =>
              `<${t}>${ws()}${pick(['', '-', '+'])}${pick(['0', '7', '42', '2147483648', '1_000', '99999999999999999999'])}${ws()}</${t}>`,
          )}</value>`;
        case 1:
          return `<value><${pick(['double', 'float'])}>${ws()}${pick(['1.5', '-0.0', '1e+16', '1E-5', '.5', '3.', '12_3.4_5', 'nan', '-inf', '0.1', '1740', '123456789.123456789'])}${ws()}</${'double'}></value>`.replace(
            /<(double|float)>([^<]*)<\/double>/,
            (_m, t: string, body: string) => `<${t}>${body}</${t}>`,
          );
        case 2:
          return `<value><boolean>${pick(['0', '1'])}</boolean></value>`;
        case 3:
          return `<value>${text(12)}</value>`;
        case 4:
          return `<value><string>${text(12)}</string></value>`;
        case 5:
          return `<value><string><![CDATA[${text(6)
            .replace(/&[^;]*;/g, '&')
            .replace(/]]/g, ']')}]]>${text(3)}</string></value>`;
        case 6:
          return pick([
            '<value><nil/></value>',
            '<value><ex:nil/></value>',
            '<value><string/></value>',
            '<value/>',
          ]);
        case 7: {
          const bytes = Buffer.from(
            Array.from({ length: Math.floor(rnd() * 40) }, () => Math.floor(rnd() * 256)),
          );
          const b64 = bytes.toString('base64');
          return `<value><base64>${rnd() < 0.5 ? b64 : b64.replace(/(.{8})/g, '$1\n')}</base64></value>`;
        }
        case 8:
          return `<value><dateTime.iso8601>${pick(['20240101T10:00:00', '19991231T23:59:59', '2024-01-01T10:00:00', '20240101T1:2:3'])}</dateTime.iso8601></value>`;
        case 9:
          return `<value><bigdecimal>${pick(['1.5', '-0.25', '1_000.5', 'Infinity'])}</bigdecimal></value>`;
        default:
          return `<value><string>${text(4)}<!-- note -->${text(4)}</string></value>`;
      }
    }
    const n = Math.floor(rnd() * 4);
    if (rnd() < 0.5)
      return `<value><array><data>${ws()}${Array.from({ length: n }, () => value(depth + 1) + ws()).join('')}</data></array></value>`;
    const name = (): string => pick(['a', 'name', '__proto__', 'x&amp;y', 'é', 'constructor', text(5)]);
    return `<value><struct>${ws()}${Array.from({ length: n }, () => `<member>${ws()}<name>${name()}</name>${ws()}${value(depth + 1)}${ws()}</member>${ws()}`).join('')}</struct></value>`;
  };
  const params = Array.from(
    { length: 1 + Math.floor(rnd() * 4) },
    () => `<param>${ws()}${value(0)}${ws()}</param>`,
  ).join('\n');
  const decl = pick(["<?xml version='1.0'?>\n", '<?xml version="1.0" encoding="UTF-8"?>', '']);
  return `${decl}<methodCall>${ws()}<methodName>${pick(['execute_kw', 'login', 'a.b'])}</methodName>${ws()}<params>${params}</params>${ws()}</methodCall>`;
}

describe('decodeMethodCall on a large body kept in the chunks it came in', () => {
  const outcome = (body: Buffer | Buffer[]): string => {
    try {
      return JSON.stringify(decodeMethodCall(body), (_k, v: unknown) =>
        v instanceof Map ? [...v] : typeof v === 'bigint' ? String(v) : v,
      );
    } catch (e) {
      if (!(e instanceof OdooFault)) throw e;
      return `${e.shortName}: ${e.message}`;
    }
  };
  const call = (decl: string, text: string): Buffer =>
    Buffer.from(
      `${decl}<methodCall><methodName>create</methodName><params><param><value><string>${text}</string></value></param></params></methodCall>`,
      'utf8',
    );

  it('decodes the same call, or raises the same fault, whatever the cuts', () => {
    const rnd = prng(5);
    const long = 'QUJD'.repeat(3000);
    const bodies = [
      call("<?xml version='1.0'?>\n", long),
      call('<?xml version="1.0" encoding="utf-8"?>', `${long}é😀${long}&amp;日本`),
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), call('', `${long}é`)]),
      Buffer.concat([
        call('', long).subarray(0, 5000),
        Buffer.from([0xc3, 0x28]),
        call('', long).subarray(5000),
      ]),
      Buffer.from(call('<?xml version="1.0" encoding="latin-1"?>', `${long}é`).toString('utf8'), 'latin1'),
      call('', `${long}\u0001`),
    ];
    for (const body of bodies) {
      const whole = outcome(body);
      for (const max of [1, 7, 4096, 65536]) {
        const chunks: Buffer[] = [];
        for (let i = 0; i < body.length;) {
          const n = 1 + Math.floor(rnd() * max);
          chunks.push(body.subarray(i, i + n));
          i += n;
        }
        expect(outcome(chunks), `${body.subarray(0, 60).toString('latin1')} in ${chunks.length} chunks`).toBe(
          whole,
        );
      }
    }
  });
});
