/**
 * toPythonJson: byte for byte what CPython's `json.dumps(v, ensure_ascii=False)` writes, checked by
 * hand on the edge cases and against one `python3` run on random values; Python's output must also
 * read back (parseJsonValue) as the value written.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseJsonValue } from '../../src/protocol/json/parse.ts';
import { toPythonJson, toPythonJsonBytes } from '../../src/protocol/json/stringify.ts';
import { Binary, DateTime, PyFloat, type Struct, type Value } from '../../src/values.ts';
import { CAPTURES_DIR } from '../support/captures.ts';
import { picker, prng } from '../support/random.ts';
import { hasPython, runPythonBatch } from '../support/run-python.ts';

const m = (...entries: Array<[string, Value]>): Map<string, Value> => new Map(entries);

describe('toPythonJson', () => {
  it("uses Python's separators", () => {
    expect(toPythonJson(m(['a', [1, 2, m()]], ['b', []]))).toBe('{"a": [1, 2, {}], "b": []}');
  });

  it('writes ints, bigints and floats as Python does', () => {
    expect(toPythonJson([0, -5, 2 ** 53 - 1, 2n ** 64n, -(10n ** 30n)])).toBe(
      '[0, -5, 9007199254740991, 18446744073709551616, -1000000000000000000000000000000]',
    );
    const floats = [1, -0, 1e16, 1e-5, 0.1, 1740, 2947.5, 1e22, 5e-324, NaN, Infinity, -Infinity];
    expect(toPythonJson(floats.map((f) => new PyFloat(f)))).toBe(
      '[1.0, -0.0, 1e+16, 1e-05, 0.1, 1740.0, 2947.5, 1e+22, 5e-324, NaN, Infinity, -Infinity]',
    );
  });

  it('writes literals, Binary as base64 and DateTime as the Odoo string', () => {
    expect(toPythonJson([null, true, false, new Binary('aGk='), new DateTime('2026-11-28 04:26:00')])).toBe(
      '[null, true, false, "aGk=", "2026-11-28 04:26:00"]',
    );
  });

  it('escapes only quote, backslash and control characters; the rest is raw', () => {
    expect(toPythonJson('"\\/\b\f\n\r\t\u0000\u001f\u007f')).toBe(
      '"\\"\\\\/\\b\\f\\n\\r\\t\\u0000\\u001f\u007f"',
    );
    expect(toPythonJson('é€中\u2028\u2029😀\u00a0')).toBe('"é€中\u2028\u2029😀\u00a0"');
  });

  it('writes lone surrogates as lowercase \\u escapes, pairs raw', () => {
    expect(toPythonJson('a\ud83db')).toBe('"a\\ud83db"');
    expect(toPythonJson('\udE00\ud83d')).toBe('"\\ude00\\ud83d"');
    expect(toPythonJson('\ud83d\ude00')).toBe('"😀"');
    expect(toPythonJson(m(['\ud800', 1]))).toBe('{"\\ud800": 1}');
  });

  it('writes large outputs whole: BOMs and surrogate pairs at every chunk boundary survive', () => {
    // 82 items of 199 units each put the tail of the output across the 16384-unit buffer boundary.
    const head = Array.from({ length: 82 }, () => 'a'.repeat(195));
    for (let pad = 0; pad < 120; pad++) {
      const items = [...head, 'b'.repeat(pad), '\ufeff😀é\ufeff', '😀'.repeat(150), 'c'.repeat(5000) + '😀'];
      expect(toPythonJson(items)).toBe('[' + items.map((x) => `"${x}"`).join(', ') + ']');
    }
    const big = 'x'.repeat(3_000_000);
    expect(toPythonJson(m(['k', big], ['\ufeff', [big]]))).toBe(`{"k": "${big}", "\ufeff": ["${big}"]}`);
  });

  it('writes the same bytes for a request body (toPythonJsonBytes), in chunks of its own', () => {
    const big = m(['datas', 'QUJD'.repeat(100_000)], ['name', 'a "quoted" é name']);
    for (const v of [big, [1, 'x'], 'a\ud800'.repeat(200)] as Value[]) {
      const bytes = toPythonJsonBytes(v);
      expect(bytes.pooled).toBe(false);
      expect(Buffer.concat(bytes.chunks, bytes.length).toString('utf8')).toBe(toPythonJson(v));
    }
    expect(toPythonJsonBytes(big).chunks.length).toBeGreaterThan(4);
  });

  it('writes __proto__ keys as keys', () => {
    expect(toPythonJson(m(['__proto__', m(['x', 1])]))).toBe('{"__proto__": {"x": 1}}');
  });
});

describe('toPythonJson against the captures', () => {
  it('writes every captured JSON request body (JSON-RPC and JSON-2) in its exact Content-Length', () => {
    let checked = 0;
    for (const file of readdirSync(CAPTURES_DIR).filter((f) => f.endsWith('.json'))) {
      const doc = parseJsonValue(readFileSync(`${CAPTURES_DIR}/${file}`, 'utf8'));
      const request = doc instanceof Map ? doc.get('request') : undefined;
      if (!(request instanceof Map)) continue;
      const body = request.get('body');
      const length = (request.get('headers') as Struct | undefined)?.get('Content-Length');
      if (!(body instanceof Map || Array.isArray(body)) || typeof length !== 'string') continue;
      expect(Buffer.byteLength(toPythonJson(body)), file).toBe(Number(length));
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(60);
  });
});

// ---------------------------------------------------------------------------------------------
// Differential test against CPython's json.dumps(ensure_ascii=False).

/** JS → Python: floats by their bits, strings as UTF-16 (so lone surrogates survive). */
type Tag = [string, ...unknown[]];

function tag(v: Value): Tag {
  if (v === null) return ['n'];
  if (typeof v === 'boolean') return ['b', v];
  if (typeof v === 'number' || typeof v === 'bigint') return ['i', String(v)];
  if (typeof v === 'string') return ['s', Buffer.from(v, 'utf16le').toString('hex')];
  if (v instanceof PyFloat) {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(v.value);
    return ['f', Number.isNaN(v.value) ? '7ff8000000000000' : b.toString('hex')]; // one NaN: payloads don't matter
  }
  if (Array.isArray(v)) return ['l', v.map(tag)];
  if (v instanceof Map)
    return ['d', [...v].map(([k, x]) => [Buffer.from(k, 'utf16le').toString('hex'), tag(x)])];
  throw new Error('unexpected value');
}

/** Python's output, with lone surrogates as `\udXXX` (backslashreplace), which is what toPythonJson writes. */
const PY_DUMPS = String.raw`
import json, struct, sys
def s(h): return bytes.fromhex(h).decode('utf-16-le', 'surrogatepass')
def build(t):
    k = t[0]
    if k == 'n': return None
    if k == 'b': return t[1]
    if k == 'i': return int(t[1])
    if k == 'f': return struct.unpack('>d', bytes.fromhex(t[1]))[0]
    if k == 's': return s(t[1])
    if k == 'l': return [build(x) for x in t[1]]
    return {s(key): build(x) for key, x in t[1]}
out = [json.dumps(build(t), ensure_ascii=False).encode('utf-8', 'backslashreplace').hex() for t in json.load(sys.stdin)]
json.dump(out, sys.stdout)
`;

function randomValues(count: number, seed: number): Value[] {
  const rnd = prng(seed);
  const pick = picker(rnd);
  const f64 = (): number => {
    const b = Buffer.alloc(8);
    for (let i = 0; i < 8; i++) b[i] = Math.floor(rnd() * 256);
    return b.readDoubleBE(0);
  };
  const float = (): number =>
    pick([
      f64,
      () => (rnd() - 0.5) * 10 ** Math.floor(rnd() * 40 - 20),
      () => Math.round(rnd() * 1e6) / 100,
      () =>
        pick([
          0,
          -0,
          1,
          1e16,
          1e15,
          1e-4,
          1e-5,
          2 ** 53,
          5e-324,
          1.7976931348623157e308,
          NaN,
          Infinity,
          -Infinity,
        ]),
    ])();
  const int = (): number | bigint =>
    pick([
      () => Math.floor(rnd() * 2000) - 1000,
      () => pick([0, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]),
      () => BigInt(Math.floor(rnd() * 2 ** 52)) * BigInt(Math.floor(rnd() * 2 ** 40)) + 2n ** 53n,
      () => -(10n ** BigInt(16 + Math.floor(rnd() * 60))) - 7n,
    ])();
  const unit = (): string =>
    pick([
      () => String.fromCharCode(Math.floor(rnd() * 0x80)),
      () => String.fromCharCode(Math.floor(rnd() * 0x10000)), // any BMP unit, lone surrogates included
      () => String.fromCodePoint(0x10000 + Math.floor(rnd() * 0xfffff)),
      () =>
        pick(['"', '\\', '\n', '\u2028', '\u007f', '\u0000', '/', 'é', '😀', '\ud83d\ude00', '\ude00\ud83d']),
    ])();
  const string = (): string => Array.from({ length: Math.floor(rnd() * 10) }, unit).join('');
  const value = (depth: number): Value => {
    const r = rnd();
    if (depth > 3 || r < 0.5) {
      return pick<() => Value>([() => null, () => rnd() < 0.5, int, () => new PyFloat(float()), string])();
    }
    const n = Math.floor(rnd() * 5);
    if (r < 0.75) return Array.from({ length: n }, () => value(depth + 1));
    const map = new Map<string, Value>();
    for (let i = 0; i < n; i++)
      map.set(rnd() < 0.2 ? pick(['__proto__', 'id', '']) : string(), value(depth + 1));
    return map;
  };
  return Array.from({ length: count }, () => value(0));
}

/**
 * Strings longer than the writer's native-encoding threshold (256): base64-like runs with, here and
 * there, what needs an escape or care (quote, backslash, controls, lone and paired surrogates,
 * non-ASCII), some over 128 KiB so that they cross the writer's chunks.
 */
function longStrings(count: number, seed: number): Value[] {
  const rnd = prng(seed);
  const pick = picker(rnd);
  const odd = ['"', '\\', '\n', '\u0000', '\u001f', 'é', '😀', '\ud800', '\udc00', '\u2028', '/'];
  return Array.from({ length: count }, (_, k) => {
    const run = (): string => 'QUJD'.repeat(Math.floor(rnd() * (k % 5 === 0 ? 20_000 : 200)));
    let s = run();
    const n = Math.floor(rnd() * 3);
    for (let i = 0; i < n; i++) s += pick(odd) + run();
    return s.length > 256 ? s : s + 'x'.repeat(300);
  });
}

/** Structural equality that tells ints from floats and -0.0 from 0.0, and checks key order. */
const sameValue = (a: Value, b: Value): boolean => JSON.stringify(tag(a)) === JSON.stringify(tag(b));

describe.skipIf(!hasPython)('toPythonJson against CPython json.dumps(ensure_ascii=False)', () => {
  const values: Value[] = [
    ...randomValues(2000, 1128),
    'a\ud83db',
    m(['\udc00', [new PyFloat(-0), new PyFloat(NaN)]]),
    [2n ** 200n, -(2n ** 64n), Number.MAX_SAFE_INTEGER],
    ...longStrings(80, 77),
  ];
  let expected: string[] = [];
  let stderr = '';
  beforeAll(() => {
    ({ results: expected, stderr } = runPythonBatch<string>(PY_DUMPS, values.map(tag)));
  });

  it('ran Python', () => {
    expect(stderr).toBe('');
    expect(expected).toHaveLength(values.length);
  });

  it('writes the same bytes as Python for every value', () => {
    values.forEach((v, i) => {
      const ours = Buffer.from(toPythonJson(v), 'utf8').toString('hex');
      if (ours !== expected[i]) {
        // Show the texts, not the hex, on failure.
        expect(toPythonJson(v)).toBe(Buffer.from(expected[i] as string, 'hex').toString('utf8'));
      }
    });
  });

  it("reads Python's output back as the same value", () => {
    values.forEach((v, i) => {
      const text = Buffer.from(expected[i] as string, 'hex').toString('utf8');
      const back = parseJsonValue(text);
      if (!sameValue(back, v)) expect(tag(back), text).toEqual(tag(v));
    });
  });
});
