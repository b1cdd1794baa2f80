/**
 * parseJsonValue: Python `json.loads` semantics, checked by hand on the edge cases and against
 * CPython itself (one `python3` run) on random documents and random corruptions of them.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { JsonDepthError, JsonSyntaxError, parseJsonValue } from '../../src/protocol/json/parse.ts';
import { PyFloat, type Value } from '../../src/values.ts';
import { picker, prng } from '../support/random.ts';
import { hasPython, runPythonBatch } from '../support/run-python.ts';

const m = (...entries: Array<[string, Value]>): Map<string, Value> => new Map(entries);

/** The message a failed parse gives, or undefined when it parses. */
function errorOf(text: string): string | undefined {
  try {
    parseJsonValue(text);
    return undefined;
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    return e.message;
  }
}

describe('parseJsonValue: values', () => {
  it('reads ints as numbers when safe, bigints beyond 2^53', () => {
    expect(parseJsonValue('0')).toBe(0);
    expect(parseJsonValue('-12')).toBe(-12);
    expect(parseJsonValue('9007199254740991')).toBe(9007199254740991);
    expect(parseJsonValue('-9007199254740991')).toBe(-9007199254740991);
    expect(parseJsonValue('9007199254740992')).toBe(9007199254740992n);
    expect(parseJsonValue('9007199254740993')).toBe(9007199254740993n);
    expect(parseJsonValue('-9007199254740993')).toBe(-9007199254740993n);
    expect(parseJsonValue('123456789012345678901234567890')).toBe(123456789012345678901234567890n);
    expect(parseJsonValue('0000000000000000001'.replace(/^0+/, ''))).toBe(1);
  });

  it('has no negative zero int', () => {
    expect(Object.is(parseJsonValue('-0'), 0)).toBe(true);
  });

  it('reads lexemes with . e E as PyFloat', () => {
    const f = (t: string): number => {
      const v = parseJsonValue(t);
      expect(v).toBeInstanceOf(PyFloat);
      return (v as PyFloat).value;
    };
    expect(f('1.0')).toBe(1);
    expect(Object.is(f('-0.0'), -0)).toBe(true);
    expect(f('1e+16')).toBe(1e16);
    expect(f('1E2')).toBe(100);
    expect(f('2.5e-3')).toBe(0.0025);
    expect(f('1e400')).toBe(Infinity);
    expect(f('-1e400')).toBe(-Infinity);
    expect(f('12345678901234567890.0')).toBe(12345678901234567000);
  });

  it('reads decimals exactly as Number() does (the short ones take a fast path)', () => {
    expect((parseJsonValue('0e5') as PyFloat).value).toBe(0);
    expect((parseJsonValue('0.5e1') as PyFloat).value).toBe(5);
    expect(Object.is((parseJsonValue('-0e-1') as PyFloat).value, -0)).toBe(true);
    let seed = 7;
    const digit = (): string => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return String(seed % 10);
    };
    for (let n = 0; n < 20000; n++) {
      const intDigits = 1 + (n % 9);
      const fracDigits = 1 + ((n >> 3) % 16);
      const int = Array.from({ length: intDigits }, digit)
        .join('')
        .replace(/^0+(?=.)/, '');
      const lexeme = `${n % 2 ? '-' : ''}${int}.${Array.from({ length: fracDigits }, digit).join('')}`;
      expect((parseJsonValue(lexeme) as PyFloat).value, lexeme).toBe(Number(lexeme));
    }
  });

  it('accepts the NaN, Infinity and -Infinity tokens', () => {
    expect(parseJsonValue('[NaN, Infinity, -Infinity]')).toEqual([
      new PyFloat(NaN),
      new PyFloat(Infinity),
      new PyFloat(-Infinity),
    ]);
    expect(errorOf('-NaN')).toBe('Expecting value: line 1 column 1 (char 0)');
    expect(errorOf('nan')).toBe('Expecting value: line 1 column 1 (char 0)');
  });

  it('reads literals, whitespace and nesting', () => {
    expect(parseJsonValue(' \t\r\n[true, false, null, [], {}, [[1]]]\n')).toEqual([
      true,
      false,
      null,
      [],
      new Map(),
      [[1]],
    ]);
  });

  it('decodes every escape, surrogate pairs, and keeps lone surrogates', () => {
    expect(parseJsonValue('"\\"\\\\\\/\\b\\f\\n\\r\\t"')).toBe('"\\/\b\f\n\r\t');
    expect(parseJsonValue('"\\u00e9\\u00E9\\u2028"')).toBe('éé\u2028');
    expect(parseJsonValue('"\\ud83d\\ude00"')).toBe('😀');
    expect(parseJsonValue('"\\ud83d"')).toBe('\ud83d');
    expect(parseJsonValue('"\\ude00\\ud83d"')).toBe('\ude00\ud83d');
    expect(parseJsonValue('"\\ud83dx"')).toBe('\ud83dx');
    expect(parseJsonValue('"a😀é\u2028\u007f"')).toBe('a😀é\u2028\u007f');
  });

  it('reads objects as Maps: key order kept, a duplicate key keeps its place and takes the last value', () => {
    const v = parseJsonValue('{"b": 1, "a": 2, "b": 3}') as Map<string, Value>;
    expect([...v]).toEqual([
      ['b', 3],
      ['a', 2],
    ]);
  });

  it('reads keys exactly: hash collisions, long keys, escaped keys', () => {
    // "Aa" and "BB" share a 31-multiplier hash; the key cache must still tell them apart.
    const v = parseJsonValue('{"Aa": 1, "BB": 2, "Aa": 3, "AaAa": 4, "BBBB": 5}') as Map<string, Value>;
    expect([...v]).toEqual([
      ['Aa', 3],
      ['BB', 2],
      ['AaAa', 4],
      ['BBBB', 5],
    ]);
    const long = 'k'.repeat(40);
    const w = parseJsonValue(`[{"${long}": 1, "a\\u0062": 2, "ab": 3}, {"ab": 4, "${long}": 5}]`) as Array<
      Map<string, Value>
    >;
    expect([...(w[0] as Map<string, Value>)]).toEqual([
      [long, 1],
      ['ab', 3],
    ]);
    expect([...(w[1] as Map<string, Value>)]).toEqual([
      ['ab', 4],
      [long, 5],
    ]);
  });

  it('starts each parse afresh after a failed one', () => {
    expect(() => parseJsonValue('[1, [2, {"a": [3, x')).toThrow(JsonSyntaxError);
    expect(parseJsonValue('[4, [5]]')).toEqual([4, [5]]);
    expect(() => parseJsonValue('['.repeat(600), { maxDepth: 512 })).toThrow(JsonDepthError);
    expect(parseJsonValue('{"a": [6]}')).toEqual(m(['a', [6]]));
  });

  it('treats __proto__ and other Object.prototype names as plain keys', () => {
    const v = parseJsonValue('{"__proto__": {"polluted": true}, "constructor": 1, "toString": 2}') as Map<
      string,
      Value
    >;
    expect(v).toBeInstanceOf(Map);
    expect([...v.keys()]).toEqual(['__proto__', 'constructor', 'toString']);
    expect(v.get('__proto__')).toEqual(m(['polluted', true]));
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('parseJsonValue: errors', () => {
  it('words errors like Python, with line, column and char', () => {
    const cases: Array<[string, string]> = [
      ['', 'Expecting value: line 1 column 1 (char 0)'],
      ['{not json', 'Expecting property name enclosed in double quotes: line 1 column 2 (char 1)'],
      ['[1,]', 'Expecting value: line 1 column 4 (char 3)'],
      ['{"a":1,}', 'Expecting property name enclosed in double quotes: line 1 column 8 (char 7)'],
      ['{"a" 1}', "Expecting ':' delimiter: line 1 column 6 (char 5)"],
      ['[1 2]', "Expecting ',' delimiter: line 1 column 4 (char 3)"],
      ['{"a": 1 "b": 2}', "Expecting ',' delimiter: line 1 column 9 (char 8)"],
      ['"abc', 'Unterminated string starting at: line 1 column 1 (char 0)'],
      ['"a\u0001"', 'Invalid control character at: line 1 column 3 (char 2)'],
      ['"\\x"', 'Invalid \\escape: line 1 column 2 (char 1)'],
      ['"\\u12zz"', 'Invalid \\uXXXX escape: line 1 column 3 (char 2)'],
      ['1 2', 'Extra data: line 1 column 3 (char 2)'],
      ['01', 'Extra data: line 1 column 2 (char 1)'],
      ['1.', 'Extra data: line 1 column 2 (char 1)'],
      ['\n\n  x', 'Expecting value: line 3 column 3 (char 4)'],
      ['["😀", x]', 'Expecting value: line 1 column 7 (char 6)'],
      ['\ufeff{}', 'Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)'],
    ];
    for (const [text, message] of cases) expect(errorOf(text), JSON.stringify(text)).toBe(message);
  });

  it('exposes the reason and Python position', () => {
    try {
      parseJsonValue('["😀", x]');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(JsonSyntaxError);
      const err = e as JsonSyntaxError;
      expect(err.reason).toBe('Expecting value');
      expect([err.position, err.line, err.column]).toEqual([6, 1, 7]);
    }
  });

  it('refuses integers longer than Python accepts (4300 digits)', () => {
    expect(parseJsonValue('9'.repeat(4300))).toBe(BigInt('9'.repeat(4300)));
    expect(errorOf('-' + '9'.repeat(4301))).toBe(
      'Exceeds the limit (4300 digits) for integer string conversion: value has 4301 digits; use sys.set_int_max_str_digits() to increase the limit',
    );
  });

  it('stops at the depth limit with an error, not a crash', () => {
    expect(() => parseJsonValue('['.repeat(512) + ']'.repeat(512))).not.toThrow();
    expect(() => parseJsonValue('['.repeat(513) + ']'.repeat(513))).toThrow(JsonDepthError);
    expect(() => parseJsonValue('['.repeat(1_000_000))).toThrow(
      'maximum recursion depth exceeded while decoding a JSON array from a unicode string',
    );
    expect(() => parseJsonValue('{"a":'.repeat(100_000))).toThrow(
      'maximum recursion depth exceeded while decoding a JSON object from a unicode string',
    );
    expect(() => parseJsonValue('[[[1]]]', { maxDepth: 2 })).toThrow(JsonDepthError);
    expect(() => parseJsonValue('[{"a": '.repeat(200_000), { maxDepth: 1e9 })).toThrow(JsonDepthError); // not a RangeError
    expect(parseJsonValue('[[[1]]]', { maxDepth: 3 })).toEqual([[[1]]]);
    const depthError = (() => {
      try {
        parseJsonValue('[[', { maxDepth: 1 });
      } catch (e) {
        return e;
      }
    })();
    expect(depthError).toBeInstanceOf(JsonSyntaxError); // a JsonDepthError is also a JsonSyntaxError
  });
});

// ---------------------------------------------------------------------------------------------
// Differential test against CPython's json.loads.

/** A value as a tree of tags both sides can write exactly (floats by their bits, strings as UTF-16). */
type Tag = [string, ...unknown[]];

function floatBits(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  const b = Buffer.alloc(8);
  b.writeDoubleBE(n);
  return b.toString('hex');
}

function tag(v: Value): Tag {
  if (v === null) return ['n'];
  if (typeof v === 'boolean') return ['b', v];
  if (typeof v === 'number' || typeof v === 'bigint') return ['i', String(v)];
  if (typeof v === 'string') return ['s', Buffer.from(v, 'utf16le').toString('hex')];
  if (v instanceof PyFloat) return ['f', floatBits(v.value)];
  if (Array.isArray(v)) return ['l', v.map(tag)];
  if (v instanceof Map)
    return ['d', [...v].map(([k, x]) => [Buffer.from(k, 'utf16le').toString('hex'), tag(x)])];
  throw new Error('unexpected value');
}

const PY_LOADS = String.raw`
import json, struct, sys
def tag(v):
    if v is None: return ['n']
    if isinstance(v, bool): return ['b', v]
    if isinstance(v, int): return ['i', str(v)]
    if isinstance(v, float): return ['f', 'nan' if v != v else struct.pack('>d', v).hex()]
    if isinstance(v, str): return ['s', v.encode('utf-16-le', 'surrogatepass').hex()]
    if isinstance(v, list): return ['l', [tag(x) for x in v]]
    return ['d', [[k.encode('utf-16-le', 'surrogatepass').hex(), tag(x)] for k, x in v.items()]]
out = []
for h in json.load(sys.stdin):
    text = bytes.fromhex(h).decode('utf-16-le', 'surrogatepass')
    try:
        out.append(['ok', tag(json.loads(text))])
    except ValueError as e:
        out.append(['error', str(e)])
    except RecursionError as e:
        out.append(['recursion', str(e)])
json.dump(out, sys.stdout)
`;

/** Random JSON texts in the shapes Python writes and clients send: odd numbers, escapes, spacing. */
function randomTexts(count: number, seed: number): string[] {
  const rnd = prng(seed);
  const pick = picker(rnd);
  const ws = (): string => (rnd() < 0.7 ? pick(['', '', ' ']) : pick([' ', '\n', '\t', '\r\n  ', '  ']));
  const digits = (n: number): string =>
    Array.from({ length: n }, () => pick('0123456789'.split(''))).join('');
  const number = (): string =>
    pick([
      () => String(Math.floor(rnd() * 1000) - 500),
      () => '-0',
      () => pick(['1', '9', '-9']) + digits(Math.floor(rnd() * 30)),
      () => pick(['9007199254740991', '9007199254740992', '-9007199254740993', '18446744073709551616']),
      () => `${Math.floor(rnd() * 100)}.${digits(1 + Math.floor(rnd() * 20))}`,
      () =>
        pick(['0', '-0', '1', '12']) +
        pick(['.0', '.5', '']) +
        pick(['e', 'E']) +
        pick(['', '+', '-']) +
        digits(1 + Math.floor(rnd() * 3)),
      () =>
        pick(['1.0', '-0.0', '1e+16', '1e16', '5e-324', '1.7976931348623157e308', '1e309', '0.1', '1e-7']),
      () => pick(['NaN', 'Infinity', '-Infinity']),
    ])();
  const char = (): string =>
    pick([
      () => pick('abcXYZ019 _-'.split('')),
      () => pick(['é', 'ß', '€', '中', '\u2028', '\u007f', '😀', '𝄞', '\u00a0']),
      () => pick(['\\n', '\\t', '\\"', '\\\\', '\\/', '\\b', '\\f', '\\r']),
      () =>
        '\\u' +
        Math.floor(rnd() * 0x10000)
          .toString(16)
          .padStart(4, '0'),
      () => pick(['\\ud83d\\ude00', '\\uD834\\uDD1E', '\\ud800', '\\udfff', '\\ud800\\u0041', '\\u00E9']),
    ])();
  const string = (): string => '"' + Array.from({ length: Math.floor(rnd() * 8) }, char).join('') + '"';
  const value = (depth: number): string => {
    const r = rnd();
    if (depth > 4 || r < 0.45) {
      return pick([number, string, () => pick(['true', 'false', 'null'])])();
    }
    if (r < 0.72) {
      const n = Math.floor(rnd() * 5);
      return (
        '[' + ws() + Array.from({ length: n }, () => value(depth + 1)).join(ws() + ',' + ws()) + ws() + ']'
      );
    }
    const n = Math.floor(rnd() * 5);
    const key = (): string => (rnd() < 0.2 ? pick(['"__proto__"', '"a"', '"constructor"']) : string());
    return (
      '{' +
      ws() +
      Array.from({ length: n }, () => key() + ws() + ':' + ws() + value(depth + 1)).join(ws() + ',' + ws()) +
      ws() +
      '}'
    );
  };
  const texts: string[] = [];
  for (let i = 0; i < count; i++) {
    const text = ws() + value(0) + ws();
    texts.push(text);
    // A corrupted copy: one character deleted, inserted or replaced, or the text cut short.
    const at = Math.floor(rnd() * (text.length + 1));
    const junk = pick([
      '',
      '"',
      ',',
      ':',
      '{',
      '}',
      '[',
      ']',
      '\\',
      'x',
      '-',
      '.',
      'e',
      '\u0001',
      ' ',
      '0',
      '😀',
    ]);
    texts.push(
      pick([
        () => text.slice(0, at) + text.slice(at + 1),
        () => text.slice(0, at) + junk + text.slice(at),
        () => text.slice(0, at) + junk + text.slice(at + 1),
        () => text.slice(0, at),
      ])(),
    );
  }
  return texts;
}

describe.skipIf(!hasPython)('parseJsonValue against CPython json.loads', () => {
  const texts = [
    ...randomTexts(1500, 20261128),
    // Hand-picked inputs around each error path.
    ...[
      '',
      ' ',
      '{',
      '[',
      '[1',
      '[1,',
      '{"a"',
      '{"a":',
      '{"a": 1,',
      '"\\',
      '"\\u',
      '"\\u1234',
      '"\\ud800\\u12"',
    ],
    ...[
      '"\\ud800\\',
      '"\\ud800\\udc0"',
      '"\\ud800\\udc00',
      '-',
      '-a',
      '.5',
      'nul',
      'NaNx',
      '-Inf',
      'tru',
      '\u000c1',
    ],
    ...[
      '1\u000c',
      '[-]',
      '[--1]',
      '[1e5.5]',
      '{"a":1}}',
      '"é\\q"',
      '"😀\\q"',
      '😀',
      '[\t',
      '"\\x',
      '"ab\u0001',
      '\ufeff1',
    ],
    ...[
      '1' + '0'.repeat(4300),
      '1' + '0'.repeat(4299),
      '[' + '0'.repeat(4400) + ']',
      '"\ud800"',
      '"a\udc00b"',
    ],
    ...['['.repeat(2000), '{"x":'.repeat(2000) + '1' + '}'.repeat(2000)],
  ];

  let stderr = '';
  let results: Array<[string, unknown]> = [];
  beforeAll(() => {
    ({ results, stderr } = runPythonBatch<[string, unknown]>(
      PY_LOADS,
      texts.map((t) => Buffer.from(t, 'utf16le').toString('hex')),
    ));
  });

  it('ran Python', () => {
    expect(stderr).toBe('');
    expect(results).toHaveLength(texts.length);
  });

  it('gives the same value, or the same error message, for every document', () => {
    let errors = 0;
    texts.forEach((text, i) => {
      const [kind, expected] = results[i] as [string, unknown];
      const label = JSON.stringify(text);
      if (kind === 'ok') {
        expect(tag(parseJsonValue(text)), label).toEqual(expected);
      } else if (kind === 'error') {
        errors++;
        expect(errorOf(text), label).toBe(expected);
      } else {
        // Python's recursion limit (about 1000) is not ours (512); both refuse, with the same words.
        expect(() => parseJsonValue(text), label).toThrow(JsonDepthError);
        expect(errorOf(text), label).toBe(expected);
      }
    });
    expect(errors).toBeGreaterThan(500); // the corrupted half mostly fails, and was compared
  });
});
