/**
 * The `/jsonrpc` envelope: requests read as Odoo 19's JSON-RPC dispatcher reads them, answers
 * written byte for byte as the captures show (their bodies were stored decoded; Content-Length
 * tells the real size), and the Python exceptions for bad params checked against CPython.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { OdooFault, accessDenied, userError } from '../../src/errors.ts';
import { parseJsonValue } from '../../src/protocol/json/parse.ts';
import { toPythonJson } from '../../src/protocol/json/stringify.ts';
import {
  JsonRpcHttpError,
  decodeJsonRpcRequest,
  encodeJsonRpcError,
  encodeJsonRpcResult,
  type JsonRpcDecoded,
  type JsonRpcRequest,
} from '../../src/protocol/jsonrpc.ts';
import { PyFloat, jsonResult, valueResult, type Struct, type Value } from '../../src/values.ts';
import { CAPTURES_DIR } from '../support/captures.ts';

const m = (...entries: Array<[string, Value]>): Struct => new Map(entries);
const JSON_CT = 'application/json';

function decode(body: string | Buffer, contentType: string | undefined = JSON_CT): JsonRpcDecoded {
  return decodeJsonRpcRequest(typeof body === 'string' ? Buffer.from(body, 'utf8') : body, contentType);
}
function request(body: string): JsonRpcRequest {
  const d = decode(body);
  if (!d.ok) throw new Error(`expected a call, got ${d.fault.pyName}: ${d.fault.message}`);
  return d.request;
}
function fault(body: string): { id: Value; fault: OdooFault } {
  const d = decode(body);
  if (d.ok) throw new Error('expected a fault');
  return d;
}
function httpError(body: string | Buffer, contentType: string | undefined): JsonRpcHttpError {
  try {
    decodeJsonRpcRequest(typeof body === 'string' ? Buffer.from(body, 'utf8') : body, contentType);
  } catch (e) {
    if (e instanceof JsonRpcHttpError) return e;
    throw e;
  }
  throw new Error('expected a JsonRpcHttpError');
}

/** A capture, read losslessly (floats stay floats). */
interface Capture {
  file: string;
  request: Struct;
  response: Struct;
}
function loadCapture(file: string): Capture {
  const doc = parseJsonValue(readFileSync(`${CAPTURES_DIR}/${file}`, 'utf8')) as Struct;
  return { file, request: doc.get('request') as Struct, response: doc.get('response') as Struct };
}
const header = (s: Struct, name: string): string => (s.get('headers') as Struct).get(name) as string;

const envelopeCaptures = readdirSync(CAPTURES_DIR)
  .filter((f) => /^4b-(5|6)\d.*\.json$/.test(f) || f.startsWith('4a-03-'))
  .map(loadCapture)
  .filter((c) => c.response.get('status') === 200);

describe('encodeJsonRpcResult / encodeJsonRpcError against the captures', () => {
  it('covers the successful and error /jsonrpc captures', () => {
    expect(envelopeCaptures.length).toBeGreaterThanOrEqual(15);
    expect(envelopeCaptures.filter((c) => (c.response.get('body') as Struct).has('error')).length).toBe(6);
  });

  for (const c of envelopeCaptures) {
    it(`writes ${c.file} with its exact Content-Length`, () => {
      const body = c.response.get('body') as Struct;
      const id = body.get('id') as Value;
      const length = Number(header(c.response, 'Content-Length'));
      const error = body.get('error') as Struct | undefined;
      let answers: string[];
      if (error) {
        const data = error.get('data') as Struct;
        const f = new OdooFault({
          kind: 'generic',
          name: data.get('name') as string,
          message: data.get('message') as string,
          arguments: data.get('arguments') as Value[],
          debug: data.get('debug') as string,
        });
        answers = [encodeJsonRpcError(id, f)];
      } else {
        const result = body.get('result') as Value;
        answers = [
          encodeJsonRpcResult(id, valueResult(result)),
          encodeJsonRpcResult(id, jsonResult(`${toPythonJson(result)}\n`)),
        ];
      }
      for (const answer of answers) {
        expect(Buffer.byteLength(answer, 'utf8')).toBe(length);
        expect(answer).toBe(toPythonJson(body)); // same keys in the same order
      }
    });
  }

  it('writes 4b-53 (floats such as 1740.0 included) in 374 bytes', () => {
    const c = loadCapture('4b-53-jsonrpc-object-search-read.json');
    const result = (c.response.get('body') as Struct).get('result') as Value;
    const text = encodeJsonRpcResult(1, valueResult(result));
    expect(Buffer.byteLength(text)).toBe(374);
    expect(text.startsWith('{"jsonrpc": "2.0", "id": 1, "result": [{"id": 1, "name": "YourCompany", ')).toBe(
      true,
    );
  });

  it("writes 4b-55's AccessDenied in 264 bytes", () => {
    const text = encodeJsonRpcError(1, accessDenied());
    expect(text).toBe(
      '{"jsonrpc": "2.0", "id": 1, "error": {"code": 0, "message": "Odoo Server Error", "data": ' +
        '{"name": "odoo.exceptions.AccessDenied", "message": "Access Denied", "arguments": ["Access Denied"], ' +
        '"context": {}, "debug": "odoo.exceptions.AccessDenied: Access Denied\\n"}}}',
    );
    expect(Buffer.byteLength(text)).toBe(264);
  });
});

describe('encodeJsonRpcResult', () => {
  it('omits result for None, keeps false, 0, [] and ""', () => {
    expect(encodeJsonRpcResult(1, valueResult(null))).toBe('{"jsonrpc": "2.0", "id": 1}');
    expect(encodeJsonRpcResult(1, jsonResult(' null\n'))).toBe('{"jsonrpc": "2.0", "id": 1}');
    expect(encodeJsonRpcResult(1, valueResult(false))).toBe('{"jsonrpc": "2.0", "id": 1, "result": false}');
    expect(encodeJsonRpcResult(1, valueResult(0))).toBe('{"jsonrpc": "2.0", "id": 1, "result": 0}');
    expect(encodeJsonRpcResult(1, jsonResult('[]'))).toBe('{"jsonrpc": "2.0", "id": 1, "result": []}');
    expect(encodeJsonRpcResult(1, valueResult(''))).toBe('{"jsonrpc": "2.0", "id": 1, "result": ""}');
  });

  it('splices upstream JSON text as is, trimmed, NaN tokens and big ints included', () => {
    const upstream = '\n [{"amount": 1740.0, "big": 123456789012345678901, "x": NaN, "s": "é\\u0003"}] \r\n';
    expect(encodeJsonRpcResult('abc', jsonResult(upstream))).toBe(
      '{"jsonrpc": "2.0", "id": "abc", "result": [{"amount": 1740.0, "big": 123456789012345678901, "x": NaN, "s": "é\\u0003"}]}',
    );
  });

  it('echoes any id, including null and structures', () => {
    expect(encodeJsonRpcResult(null, valueResult(2))).toBe('{"jsonrpc": "2.0", "id": null, "result": 2}');
    expect(encodeJsonRpcResult(m(['a', [new PyFloat(1)]]), valueResult(2))).toBe(
      '{"jsonrpc": "2.0", "id": {"a": [1.0]}, "result": 2}',
    );
  });

  it('refuses an empty upstream text with a fault rather than writing broken JSON', () => {
    expect(() => encodeJsonRpcResult(1, jsonResult('  '))).toThrow(OdooFault);
  });
});

describe('encodeJsonRpcError', () => {
  it('writes code 0, "Odoo Server Error" and the five data keys in order', () => {
    const text = encodeJsonRpcError('x', userError("Object no.such.model doesn't exist"));
    const doc = parseJsonValue(text) as Struct;
    expect([...doc.keys()]).toEqual(['jsonrpc', 'id', 'error']);
    const error = doc.get('error') as Struct;
    expect(error.get('code')).toBe(0);
    expect(error.get('message')).toBe('Odoo Server Error');
    expect([...(error.get('data') as Struct).keys()]).toEqual([
      'name',
      'message',
      'arguments',
      'context',
      'debug',
    ]);
    expect((error.get('data') as Struct).get('name')).toBe('odoo.exceptions.UserError');
  });
});

describe('decodeJsonRpcRequest: HTTP answers outside the envelope', () => {
  it('answers 4b-64 (a body that is not JSON) with 400 "Invalid JSON data" as text/html', () => {
    const c = loadCapture('4b-64-jsonrpc-err-not-json.json');
    const e = httpError(c.request.get('body_raw') as string, header(c.request, 'Content-Type'));
    expect(e.status).toBe(c.response.get('status'));
    expect(e.body).toBe(c.response.get('body'));
    expect(e.contentType).toBe(header(c.response, 'Content-Type'));
    expect(Buffer.byteLength(e.body)).toBe(Number(header(c.response, 'Content-Length')));
  });

  it('answers 400 "Invalid JSON data" for empty bodies, BOMs, NaN-less garbage and too-long ints', () => {
    for (const body of [
      '',
      '   ',
      '\ufeff{"id": 1}',
      '{"id": 1,}',
      '{"id": 1',
      '[1,]',
      `{"id": ${'9'.repeat(5000)}}`,
    ]) {
      const e = httpError(body, JSON_CT);
      expect([e.status, e.body], JSON.stringify(body)).toEqual([400, 'Invalid JSON data']);
    }
  });

  it('answers 400 "Invalid JSON-RPC data" for a body that is not an object (a batch, a scalar)', () => {
    for (const body of ['[{"jsonrpc": "2.0", "id": 1}]', '[]', '"call"', '1', 'null', 'true', 'NaN']) {
      const e = httpError(body, JSON_CT);
      expect([e.status, e.body, e.contentType]).toEqual([
        400,
        'Invalid JSON-RPC data',
        'text/html; charset=utf-8',
      ]);
    }
  });

  it('answers 415 as HTML, with an Accept header, for any other mimetype', () => {
    const body = '{"params": {"service": "common", "method": "version", "args": []}}';
    for (const ct of [
      undefined,
      '',
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/jsonx',
      ';application/json',
    ]) {
      const e = httpError(body, ct);
      expect(e.status, String(ct)).toBe(415);
      expect(e.contentType).toBe('text/html; charset=utf-8');
      expect(e.headers).toEqual({ Accept: 'application/json, application/json-rpc' });
      expect(e.body).toContain('<title>415 Unsupported Media Type</title>');
      expect(e.body).toContain('application/json and application/json-rpc');
    }
    const hostile = httpError(body, 'text/<script>alert("x")</script>');
    expect(hostile.body).not.toContain('<script>');
    expect(hostile.body).toContain('&#60;script&#62;');
  });

  it('accepts both JSON mimetypes, any case, with parameters', () => {
    const body = '{"params": {"service": "common", "method": "version", "args": []}}';
    for (const ct of [
      'application/json',
      'application/json-rpc',
      'Application/JSON; charset=utf-8',
      ' application/json ;',
    ]) {
      expect(decode(body, ct).ok, ct).toBe(true);
    }
  });
});

describe('decodeJsonRpcRequest: calls', () => {
  it("reads every captured /jsonrpc request as the client wrote it (Python's json.dumps)", () => {
    for (const c of envelopeCaptures.filter((c) => c.file.startsWith('4b-'))) {
      const body = c.request.get('body') as Struct;
      const text = toPythonJson(body);
      expect(Buffer.byteLength(text)).toBe(Number(header(c.request, 'Content-Length')));
      const params = body.get('params') as Struct;
      expect(request(text)).toEqual({
        id: body.get('id'),
        service: params.get('service'),
        method: params.get('method'),
        args: params.get('args'),
      });
    }
  });

  it('keeps floats, big ints and key order in args', () => {
    const r = request(
      '{"id": 7, "params": {"service": "object", "method": "execute_kw", "args": ["db", 2, "pw", "m", "write", [[1], {"b": 1.0, "a": 18446744073709551616}]]}}',
    );
    expect(r.args[5]).toEqual([[1], m(['b', new PyFloat(1)], ['a', 18446744073709551616n])]);
    expect([...((r.args[5] as Value[])[1] as Struct).keys()]).toEqual(['b', 'a']);
  });

  it('ignores the top-level jsonrpc and method members and extra params keys; id defaults to null', () => {
    const r = request(
      '{"jsonrpc": "1.0", "method": "nope", "params": {"service": "db", "method": "list", "args": [], "kwargs": {}}}',
    );
    expect(r).toEqual({ id: null, service: 'db', method: 'list', args: [] });
  });

  it('echoes any id', () => {
    expect(request('{"id": "a-b", "params": {"service": "db", "method": "list", "args": []}}').id).toBe(
      'a-b',
    );
    expect(request('{"id": [1, 2.5], "params": {"service": "db", "method": "list", "args": []}}').id).toEqual(
      [1, new PyFloat(2.5)],
    );
  });

  it('iterates args as Python would unpack them: a string by characters, a dict by keys', () => {
    expect(request('{"params": {"service": "common", "method": "version", "args": "a😀"}}').args).toEqual([
      'a',
      '😀',
    ]);
    expect(
      request('{"params": {"service": "common", "method": "version", "args": {"x": 1, "y": 2}}}').args,
    ).toEqual(['x', 'y']);
  });

  it('takes params as Python dict() does: a list of pairs works too', () => {
    const r = request('{"id": 3, "params": [["service", "db"], ["method", "list"], ["args", []]]}');
    expect(r).toEqual({ id: 3, service: 'db', method: 'list', args: [] });
  });

  it('replaces invalid UTF-8 with U+FFFD, as werkzeug does', () => {
    const body = Buffer.concat([
      Buffer.from('{"params": {"service": "common", "method": "version", "args": ["'),
      Buffer.from([0xff, 0x61, 0xe2, 0x82]),
      Buffer.from('"]}}'),
    ]);
    expect(decode(body)).toEqual({
      ok: true,
      request: { id: null, service: 'common', method: 'version', args: ['\ufffda\ufffd'] },
    });
  });

  it('answers nesting deeper than the limit inside the envelope, as Python answers its RecursionError', () => {
    const d = decode(`{"id": 5, "params": ${'['.repeat(1000)}}`);
    expect(d.ok).toBe(false);
    if (d.ok) return;
    expect(d.id).toBe(null); // Odoo has not read the id yet
    expect(d.fault.pyName).toBe('builtins.RecursionError');
    expect(d.fault.message).toBe(
      'maximum recursion depth exceeded while decoding a JSON array from a unicode string',
    );
  });
});

describe('decodeJsonRpcRequest: JSON-RPC errors for bad params', () => {
  it("names the missing route arguments like Python's TypeError", () => {
    const f = fault('{"id": 9, "params": {"service": "common", "method": "version"}}');
    expect(f.id).toBe(9);
    expect(f.fault.pyName).toBe('builtins.TypeError');
    expect(f.fault.message).toBe("JSONRPC.jsonrpc() missing 1 required positional argument: 'args'");
    expect(
      f.fault.debug.endsWith("TypeError: JSONRPC.jsonrpc() missing 1 required positional argument: 'args'\n"),
    ).toBe(true);
    expect(fault('{"id": 9, "params": {"service": "common"}}').fault.message).toBe(
      "JSONRPC.jsonrpc() missing 2 required positional arguments: 'method' and 'args'",
    );
    expect(fault('{"id": 9}').fault.message).toBe(
      "JSONRPC.jsonrpc() missing 3 required positional arguments: 'service', 'method', and 'args'",
    );
  });

  it('reports a service that is not a str as the KeyError/TypeError dispatch_rpc raises', () => {
    const f = fault('{"id": 1, "params": {"service": 5, "method": "version", "args": []}}').fault;
    expect([f.pyName, f.message, f.str, f.arguments]).toEqual(['builtins.KeyError', '5', '5', [5]]);
    const n = fault('{"id": 1, "params": {"service": null, "method": "version", "args": []}}').fault;
    expect([n.pyName, n.message, n.arguments]).toEqual(['builtins.KeyError', 'None', [null]]);
    const l = fault('{"id": 1, "params": {"service": ["common"], "method": "version", "args": []}}').fault;
    expect([l.pyName, l.message]).toEqual(['builtins.TypeError', "unhashable type: 'list'"]);
  });

  it('reports a method that is not a str as each service would', () => {
    const c = fault('{"id": 1, "params": {"service": "common", "method": 5, "args": []}}').fault;
    expect([c.pyName, c.message]).toEqual([
      'builtins.TypeError',
      'can only concatenate str (not "int") to str',
    ]);
    const o = fault('{"id": 1, "params": {"service": "object", "method": ["x"], "args": []}}').fault;
    expect([o.pyName, o.message]).toEqual(['builtins.NameError', "Method not available ['x']"]);
    const u = fault('{"id": 1, "params": {"service": "nosuch", "method": 5, "args": []}}').fault;
    expect([u.pyName, u.message, u.str]).toEqual(['builtins.KeyError', 'nosuch', "'nosuch'"]);
  });

  it('reports args that Python cannot iterate', () => {
    const o = fault('{"id": 1, "params": {"service": "object", "method": "execute_kw", "args": null}}').fault;
    expect([o.pyName, o.message]).toEqual([
      'builtins.TypeError',
      'cannot unpack non-iterable NoneType object',
    ]);
    const c = fault('{"id": 1, "params": {"service": "common", "method": "login", "args": 5}}').fault;
    expect(c.message).toBe('odoo.service.common.exp_login() argument after * must be an iterable, not int');
  });

  // What CPython says for `dict(params)` and then `route(**params)`, for params that are not a dict.
  const PARAMS_CASES: string[] = [
    'null',
    '5',
    '1.5',
    'true',
    '"ab"',
    '""',
    '[]',
    '[1]',
    '[[1, 2, 3]]',
    '["abc"]',
    '[[[1], 2]]',
    '[{}]',
    '[{"a": 1, "b": 2}]',
    '[[1, 2]]',
    '[["service", "db"], "xy", [null, 1]]',
    '[["a", 1], 5]',
    '[["method", "m"], {"k": 1}]',
  ];
  const PY_DICT = String.raw`
import json, sys
class JSONRPC:
    def jsonrpc(self, service, method, args): pass
def route_wrapper(**params):  # the route is called with **params, then keeps the names its signature has
    JSONRPC.jsonrpc(JSONRPC(), **{k: v for k, v in params.items() if k in ('service', 'method', 'args')})
def exception_to_unicode(e): return '\n'.join(str(a) for a in e.args)
out = []
for text in json.load(sys.stdin):
    try:
        params = dict(json.loads(text))
        route_wrapper(**params)
        out.append(None)
    except Exception as e:
        out.append([type(e).__name__, exception_to_unicode(e)])
json.dump(out, sys.stdout)
`;
  const hasPython = spawnSync('python3', ['--version']).status === 0;
  let expected: Array<[string, string] | null> = [];
  beforeAll(() => {
    if (!hasPython) return;
    const run = spawnSync('python3', ['-c', PY_DICT], { input: JSON.stringify(PARAMS_CASES) });
    expected = JSON.parse(run.stdout.toString() || '[]') as Array<[string, string] | null>;
  });

  it.skipIf(!hasPython)('gives the exception CPython gives for params that are not a dict', () => {
    expect(expected).toHaveLength(PARAMS_CASES.length);
    PARAMS_CASES.forEach((params, i) => {
      const d = decode(`{"id": 4, "params": ${params}}`);
      const want = expected[i];
      if (want === null) {
        expect(d.ok, params).toBe(true);
        return;
      }
      expect(d.ok, params).toBe(false);
      if (d.ok) return;
      expect(d.id).toBe(4);
      expect([d.fault.shortName, d.fault.message], params).toEqual(want);
    });
  });

  it.skipIf(!hasPython)('replaces invalid UTF-8 exactly as Python decode(errors="replace") does', () => {
    const fixed = [
      'ff',
      'c0af',
      'e282',
      'e28228',
      'eda080',
      'f08080',
      'f4908080',
      'f0908d',
      '80bf',
      'c3',
      'efbb',
      'f8888080',
    ];
    // Random byte strings, mostly non-ASCII, without the bytes JSON would refuse in a string.
    let seed = 42;
    const byte = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const b = seed % 256;
      return b < 0x20 || b === 0x22 || b === 0x5c ? 0x41 : b < 0x80 && seed % 3 !== 0 ? b | 0x80 : b;
    };
    const random = Array.from({ length: 400 }, (_, i) =>
      Buffer.from(Array.from({ length: 1 + (i % 9) }, byte)).toString('hex'),
    );
    const sequences = [...fixed, ...random];
    const run = spawnSync(
      'python3',
      [
        '-c',
        'import json,sys; print(json.dumps([bytes.fromhex(h).decode(errors="replace") for h in json.load(sys.stdin)]))',
      ],
      { input: JSON.stringify(sequences) },
    );
    const python = JSON.parse(run.stdout.toString()) as string[];
    sequences.forEach((hex, i) => {
      const body = Buffer.concat([
        Buffer.from('{"params": {"service": "db", "method": "list", "args": ["'),
        Buffer.from(hex, 'hex'),
        Buffer.from('"]}}'),
      ]);
      const d = decode(body);
      expect(d.ok && d.request.args, hex).toEqual([python[i]]);
    });
  });
});

describe('decodeJsonRpcRequest on a large body kept in the chunks it came in', () => {
  const outcome = (body: Buffer | Buffer[]): string => {
    try {
      return JSON.stringify(decodeJsonRpcRequest(body, 'application/json'), (_k, v: unknown) =>
        v instanceof Map ? [...v] : v instanceof OdooFault ? v.message : v,
      );
    } catch (e) {
      return String(e);
    }
  };

  it('reads the same request whatever the cuts, bad bytes included (as U+FFFD)', () => {
    const long = 'QUJD'.repeat(3000);
    const text = `{"jsonrpc": "2.0", "method": "call", "id": 1, "params": {"service": "object", "method": "execute_kw", "args": ["db", 2, "k", "m", "create", [{"a": "${long}é😀${long}"}], {}]}}`;
    const good = Buffer.from(text);
    const bad = Buffer.concat([good.subarray(0, 6000), Buffer.from([0xe2, 0x82]), good.subarray(6000)]);
    for (const body of [good, bad]) {
      const whole = outcome(body);
      expect(whole).toContain('execute_kw');
      for (const size of [1, 3, 1000, 65536]) {
        const chunks: Buffer[] = [];
        for (let i = 0; i < body.length; i += size) chunks.push(body.subarray(i, i + size));
        expect(outcome(chunks)).toBe(whole);
      }
    }
  });
});
