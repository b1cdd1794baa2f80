/**
 * Property-based fuzzing of the two legacy request decoders (issue 7, item 2), with fixed seeds so
 * that a failure reproduces in CI:
 * - `decodeMethodCall` on valid and mutated `methodCall` bodies: a call or an `OdooFault`, nothing
 *   else, and `Object.prototype` untouched;
 * - `decodeJsonRpcRequest` likewise: ok / !ok, or a `JsonRpcHttpError` (400/415);
 * - both endpoints of a running bridge answer every such body with a well-formed answer and stay up;
 * - differential: what `encodeResponse` writes, CPython's `xmlrpc.client.loads` reads back as the
 *   value Odoo's own marshaller would have sent.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OdooFault } from '../../src/errors.ts';
import { decodeJsonRpcRequest, JsonRpcHttpError } from '../../src/protocol/jsonrpc.ts';
import { decodeMethodCall } from '../../src/protocol/xmlrpc/decode.ts';
import { encodeResponse, encodeValue } from '../../src/protocol/xmlrpc/encode.ts';
import { PyFloat, valueResult, type Value } from '../../src/values.ts';
import { xmlrpcCall } from '../support/clients.ts';
import { startStack, type Stack } from '../support/harness.ts';
import { hasPython, runPythonBatch } from '../support/run-python.ts';

const SEED = 0x0d00_7f2;
const PROTO_NAMES = Object.getOwnPropertyNames(Object.prototype).sort();

function expectPrototypeClean(): void {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTO_NAMES);
  expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  expect(Object.getPrototypeOf({})).toBe(Object.prototype);
}

// ------------------------------------------------------------------------------------------------
// Generators
// ------------------------------------------------------------------------------------------------

const memberName = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'),
);

/** Values a legacy client sends (no `None`: `allow_none=False` on the bridge's writer too). */
const legacyValue: fc.Arbitrary<Value> = fc.letrec<{ v: Value }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.integer({ min: -2147483648, max: 2147483647 }),
    fc.boolean(),
    fc.string({ unit: 'binary', maxLength: 12 }),
    fc.double().map((d) => new PyFloat(d)),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.array(fc.tuple(memberName, tie('v')), { maxLength: 4 }).map((e) => new Map(e)),
  ),
})).v;

const methodCallText = (name: string, params: Value[]): string =>
  `<?xml version="1.0"?>\n<methodCall>\n<methodName>${name}</methodName>\n<params>\n` +
  params.map((p) => `<param>\n${encodeValue(p)}</param>\n`).join('') +
  '</params>\n</methodCall>\n';

const deep = (n: number): string => '<value><array><data>'.repeat(n);

/** Fragments worth splicing into a request body. */
const hostile = fc.oneof(
  fc.constantFrom<string | Buffer>(
    '<!DOCTYPE methodCall [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>',
    '<!DOCTYPE x SYSTEM "file:///etc/passwd">',
    '&a;',
    '&b;',
    '&amp;',
    '&lt;',
    '&#0;',
    '&#x0;',
    '&#1;',
    '&#xD800;',
    '&#x1F600;',
    '&#1114112;',
    '<![CDATA[<x>]]>',
    '<nil/>',
    '<ex:nil/>',
    '<value>',
    '</value>',
    '<params>',
    '<fault>',
    '<struct><member><name>__proto__</name><value><struct><member><name>polluted</name><value><int>1</int></value></member></struct></value></member></struct>',
    '<member><name>constructor</name><value><string>x</string></value></member>',
    '<int>99999999999999999999999999999999999</int>',
    '<i8>-9223372036854775809</i8>',
    '<biginteger>1' + '0'.repeat(400) + '</biginteger>',
    '<double>1e400</double>',
    '<double>nan</double>',
    '<bigdecimal>1e-999999</bigdecimal>',
    '<base64>!!!</base64>',
    '<dateTime.iso8601>99999999T99:99:99</dateTime.iso8601>',
    '<boolean>2</boolean>',
    '<?xml version="1.0" encoding="shift_jis"?>',
    '<?xml version="2.0"?>',
    '\u0000',
    '\uFEFF',
    Buffer.from([0xff, 0xfe]),
    Buffer.from([0xc3]),
    Buffer.from([0xed, 0xa0, 0x80]),
    Buffer.from([0xf4, 0x90, 0x80, 0x80]),
    Buffer.from([0x80]),
  ),
  fc.integer({ min: 1, max: 300 }).map(deep),
  fc.string({ unit: 'binary', maxLength: 6 }),
);

type Mutation =
  | { op: 'truncate'; at: number }
  | { op: 'insert'; at: number; what: string | Buffer }
  | { op: 'byte'; at: number; value: number }
  | { op: 'delete'; at: number; len: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), what: hostile }),
  fc.record({ op: fc.constant('byte' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 16 }) }),
);

function mutate(body: Buffer, muts: Mutation[]): Buffer {
  let b = body;
  for (const m of muts) {
    const at = b.length === 0 ? 0 : m.at % (b.length + 1);
    switch (m.op) {
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'insert': {
        const what = typeof m.what === 'string' ? Buffer.from(m.what, 'utf8') : m.what;
        b = Buffer.concat([b.subarray(0, at), what, b.subarray(at)]);
        break;
      }
      case 'byte':
        if (at < b.length) {
          b = Buffer.from(b);
          b[at] = m.value;
        }
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.len)]);
        break;
    }
  }
  return b;
}

const methodName = fc.oneof(
  fc.constantFrom('execute_kw', 'version', 'login', '__proto__', 'constructor'),
  fc.string({ maxLength: 10 }).map((s) => s.replace(/[<&]/g, '')),
);

const xmlBody = fc
  .tuple(methodName, fc.array(legacyValue, { maxLength: 3 }), fc.array(mutation, { maxLength: 4 }))
  .map(([name, params, muts]) => ({
    muts,
    body: mutate(Buffer.from(methodCallText(name, params), 'utf8'), muts),
  }));

const jsonId = fc.oneof(fc.integer(), fc.string({ maxLength: 5 }), fc.constant(null));
const jsonAny = fc.jsonValue({ maxDepth: 3 });
const jsonDoc = fc.oneof(
  fc
    .record(
      {
        jsonrpc: fc.constantFrom('2.0', '1.0'),
        method: fc.constantFrom('call', 'x'),
        id: jsonId,
        params: fc.oneof(
          fc.record(
            {
              service: fc.oneof(
                fc.constantFrom('common', 'db', 'object', '__proto__', 'constructor'),
                jsonAny,
              ),
              method: fc.oneof(fc.constantFrom('version', 'login', 'execute_kw', 'toString'), jsonAny),
              args: fc.oneof(fc.array(jsonAny, { maxLength: 4 }), jsonAny),
            },
            { requiredKeys: [] },
          ),
          jsonAny,
        ),
      },
      { requiredKeys: [] },
    )
    .map((o) => JSON.stringify(o)),
  jsonAny.map((v) => JSON.stringify(v)),
  fc.constantFrom(
    '{"__proto__": {"polluted": 1}, "params": {"service": "common", "method": "version", "args": []}}',
    '{"params": {"__proto__": {"polluted": 1}, "service": "common", "method": "version", "args": {"__proto__": 1}}}',
    '{"params": {"constructor": {"prototype": {"polluted": 1}}, "service": "common", "method": "version", "args": []}}',
    '['.repeat(100_000),
    '{"a":'.repeat(5_000) + '1' + '}'.repeat(5_000),
    '{"id": 1e999, "params": {"service": "common", "method": "version", "args": [123456789012345678901234567890, -0.0, 1e-400]}}',
    '\uFEFF{}',
    '{"id": "\\ud800", "params": {}}',
  ),
);

const jsonBody = fc
  .tuple(
    jsonDoc,
    fc.array(mutation, { maxLength: 3 }),
    fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'APPLICATION/JSON-RPC',
      'text/plain',
      '',
    ),
  )
  .map(([text, muts, contentType]) => ({ body: mutate(Buffer.from(text, 'utf8'), muts), contentType }));

// ------------------------------------------------------------------------------------------------
// Decoders
// ------------------------------------------------------------------------------------------------

describe('fuzz: decodeMethodCall', () => {
  it('decodes every valid call it is given back to the same method name', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('execute_kw', 'version', '__proto__'),
        fc.array(legacyValue, { maxLength: 3 }),
        (name, params) => {
          const call = decodeMethodCall(Buffer.from(methodCallText(name, params), 'utf8'));
          expect(call.methodName).toBe(name);
          expect(call.params).toHaveLength(params.length);
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
    expectPrototypeClean();
  });

  it('returns a call or throws an OdooFault on mutated bodies, and never pollutes Object.prototype', () => {
    fc.assert(
      fc.property(xmlBody, ({ body }) => {
        for (const input of [body, body.toString('latin1')]) {
          try {
            const call = decodeMethodCall(input);
            expect(typeof call.methodName).toBe('string');
            expect(Array.isArray(call.params)).toBe(true);
          } catch (e) {
            if (!(e instanceof OdooFault)) throw new Error(`not an OdooFault: ${String(e)}`, { cause: e });
          }
        }
        expectPrototypeClean();
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});

describe('fuzz: decodeJsonRpcRequest', () => {
  it('returns ok / !ok or throws a JsonRpcHttpError (400/415), and never pollutes Object.prototype', () => {
    fc.assert(
      fc.property(jsonBody, ({ body, contentType }) => {
        try {
          const r = decodeJsonRpcRequest(body, contentType);
          if (r.ok) {
            expect(typeof r.request.service).toBe('string');
            expect(typeof r.request.method).toBe('string');
            expect(Array.isArray(r.request.args)).toBe(true);
          } else {
            expect(r.fault).toBeInstanceOf(OdooFault);
          }
        } catch (e) {
          if (!(e instanceof JsonRpcHttpError))
            throw new Error(`not a JsonRpcHttpError: ${String(e)}`, { cause: e });
          expect([400, 415]).toContain(e.status);
        }
        expectPrototypeClean();
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});

// ------------------------------------------------------------------------------------------------
// Over HTTP
// ------------------------------------------------------------------------------------------------

/** POSTs raw bytes; the answer as text (Odoo's json.dumps may write `Infinity`, so no JSON.parse here). */
async function post(
  url: string,
  body: Buffer,
  contentType: string,
): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': contentType } });
  return { status: res.status, text: await res.text() };
}

/** Python's `json.dumps` output as JSON (its `Infinity`/`NaN` tokens made `null`). */
const parsePythonJson = (text: string): unknown =>
  JSON.parse(text.replace(/"(?:[^"\\]|\\.)*"|-?Infinity|NaN/g, (m) => (m.startsWith('"') ? m : 'null')));

describe('fuzz: the running bridge', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack.close();
  });

  const WELL_FORMED_XML =
    /^<\?xml version='1\.0'\?>\n<methodResponse>\n<(params|fault)>\n[\s\S]*<\/\1>\n\n?<\/methodResponse>\n$/;

  it('answers every mutated body on /xmlrpc/2/object and /jsonrpc, and stays up', async () => {
    await fc.assert(
      fc.asyncProperty(xmlBody, jsonBody, async (x, j) => {
        const xr = await post(`${stack.bridge.url}/xmlrpc/2/object`, x.body, 'text/xml');
        if (xr.status === 200) {
          expect(xr.text.replace(/"/g, "'")).toMatch(WELL_FORMED_XML);
        } else {
          expect([400, 415]).toContain(xr.status);
        }
        const jr = await post(`${stack.bridge.url}/jsonrpc`, j.body, j.contentType);
        if (jr.status === 200) {
          const env = parsePythonJson(jr.text) as Record<string, unknown>;
          expect(env['jsonrpc']).toBe('2.0');
          expect('id' in env).toBe(true);
          expect('result' in env || 'error' in env || Object.keys(env).length === 2).toBe(true);
        } else {
          expect([400, 415]).toContain(jr.status);
        }
      }),
      { seed: SEED, numRuns: 50 },
    );
    const version = await xmlrpcCall(`${stack.bridge.url}/xmlrpc/2/common`, 'version', []);
    expect(version.fault).toBeUndefined();
    const jv = await post(
      `${stack.bridge.url}/jsonrpc`,
      Buffer.from(
        JSON.stringify({
          jsonrpc: '2.0',
          method: 'call',
          id: 1,
          params: { service: 'common', method: 'version', args: [] },
        }),
      ),
      'application/json',
    );
    expect(jv.status).toBe(200);
    expect(JSON.parse(jv.text)).toHaveProperty('result');
    expectPrototypeClean();
  }, 60_000);
});

// ------------------------------------------------------------------------------------------------
// Differential: encodeResponse against CPython's xmlrpc.client.loads
// ------------------------------------------------------------------------------------------------

/** A value as JSON Python can rebuild exactly (floats by repr-able bits, dicts in order). */
type Tagged =
  | { t: 'int'; v: number }
  | { t: 'bool'; v: boolean }
  | { t: 'float'; v: string }
  | { t: 'str'; v: string }
  | { t: 'list'; v: Tagged[] }
  | { t: 'dict'; v: [string, Tagged][] };

function tag(v: Value): Tagged {
  if (typeof v === 'number') return { t: 'int', v };
  if (typeof v === 'boolean') return { t: 'bool', v };
  if (typeof v === 'string') return { t: 'str', v };
  if (v instanceof PyFloat) {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(v.value);
    return { t: 'float', v: b.toString('hex') };
  }
  if (Array.isArray(v)) return { t: 'list', v: v.map(tag) };
  if (v instanceof Map) return { t: 'dict', v: [...v].map(([k, x]) => [k, tag(x)]) };
  throw new Error(`untagged value ${String(v)}`);
}

const ODDBALL_STRINGS = fc.constantFrom(
  '\u0000\u0001\u0008\t\n\u000b\u000c\r\u001f x',
  '\r\n',
  '\r',
  'a\u007fb\u0085c',
  '😀𝄞\u{10FFFF}',
  ']]>',
  '<&>"\'',
  '\uFFFE\uFFFF',
  ' lead and trail ',
);
const ODDBALL_FLOATS = fc.constantFrom(
  -0.0,
  0.0,
  1e16,
  1e-5,
  1e15,
  0.1,
  1 / 3,
  5e-324,
  1.7976931348623157e308,
  1e22,
  123456789.0,
);

/** Values for the differential: as above, plus strings with control characters and astral chars. */
const diffValue: fc.Arbitrary<Value> = fc.letrec<{ v: Value }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.integer({ min: -2147483648, max: 2147483647 }),
    fc.boolean(),
    fc.string({ unit: 'binary', maxLength: 12 }),
    fc.string({ unit: fc.integer({ min: 0, max: 0x3f }).map((c) => String.fromCharCode(c)), maxLength: 10 }),
    ODDBALL_STRINGS,
    fc.double({ noNaN: true }).map((d) => new PyFloat(d)),
    ODDBALL_FLOATS.map((d) => new PyFloat(d)),
    fc.array(tie('v'), { maxLength: 4 }),
    // Member names: Odoo writes them unfiltered, so a control character there breaks the XML
    // for CPython and for the bridge alike; keep them to text.
    fc.array(fc.tuple(memberName, tie('v')), { maxLength: 4 }).map((e) => new Map(e)),
  ),
})).v;

const PY_DIFF = String.raw`
import json, struct, sys, xmlrpc.client

XML_INVALID = {c: None for c in range(32) if c not in (9, 10, 13)}

class OdooMarshaller(xmlrpc.client.Marshaller):
    dispatch = dict(xmlrpc.client.Marshaller.dispatch)
    def dump_unicode(self, value, write):
        return super().dump_unicode(value.translate(XML_INVALID), write)
    dispatch[str] = dump_unicode

def build(t):
    k, v = t['t'], t['v']
    if k == 'int': return v
    if k == 'bool': return v
    if k == 'str': return v
    if k == 'float': return struct.unpack('>d', bytes.fromhex(v))[0]
    if k == 'list': return [build(x) for x in v]
    return {key: build(x) for key, x in v}

def canon(v):
    if isinstance(v, bool): return ['bool', v]
    if isinstance(v, int): return ['int', v]
    if isinstance(v, float): return ['float', repr(v)]
    if isinstance(v, str): return ['str', v]
    if isinstance(v, list): return ['list', [canon(x) for x in v]]
    if isinstance(v, dict): return ['dict', [[k, canon(x)] for k, x in v.items()]]
    return ['other', repr(v)]

out = []
for item in json.load(sys.stdin):
    value = build(item['value'])
    try:
        expected = xmlrpc.client.loads(OdooMarshaller(allow_none=False).dumps((value,)))[0][0]
    except Exception as e:
        expected = 'unreadable: %s' % type(e).__name__  # e.g. U+FFFE: Odoo writes XML no one can read
    try:
        got = xmlrpc.client.loads(item['xml'].encode('utf-8'))[0][0]
    except Exception as e:
        got = 'unreadable: %s' % type(e).__name__
    ok = canon(got) == canon(expected)
    out.append({'ok': ok, 'readable': not isinstance(expected, str) or not expected.startswith('unreadable'), 'why': '' if ok else 'got %r, expected %r' % (canon(got), canon(expected))})
print(json.dumps(out))
`;

describe.skipIf(!hasPython)('fuzz: encodeResponse against CPython xmlrpc.client.loads', () => {
  it('writes what CPython reads back as the value Odoo would have sent', () => {
    const values = fc.sample(diffValue, { seed: SEED, numRuns: 300 });
    const batch = values.map((v) => ({ value: tag(v), xml: encodeResponse(valueResult(v)) }));
    const { results, stderr } = runPythonBatch<{ ok: boolean; readable: boolean; why: string }>(
      PY_DIFF,
      batch,
    );
    expect(stderr).toBe('');
    expect(results).toHaveLength(values.length);
    // Not vacuous: almost every value is one CPython reads (only U+FFFE/U+FFFF make unreadable XML).
    expect(results.filter((r) => r.readable).length).toBeGreaterThan(values.length * 0.8);
    const failures = results
      .map((r, i) => ({ ...r, xml: batch[i]!.xml }))
      .filter((r) => !r.ok)
      .slice(0, 3);
    expect(failures).toEqual([]);
  });
});
