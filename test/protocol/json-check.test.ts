import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJsonValue } from '../../src/protocol/json/parse.ts';
import { checkJson } from '../../src/protocol/xmlrpc/json-to-xml.ts';
import { utf8BytesOf } from '../../src/utf8-bytes.ts';

/** Whether checkJson accepts the text, given whole and cut in chunks at every place (all must agree). */
function isJsonText(text: string): boolean {
  const bytes = Buffer.from(text, 'utf8');
  const accepts = (chunks: Buffer[]): boolean => {
    try {
      checkJson({ chunks, length: bytes.length });
      return true;
    } catch {
      return false;
    }
  };
  const whole = accepts(utf8BytesOf(text).chunks as Buffer[]);
  if (bytes.length <= 64)
    for (let cut = 0; cut <= bytes.length; cut++) {
      const split = accepts([bytes.subarray(0, cut), bytes.subarray(cut)].filter((c) => c.length > 0));
      if (split !== whole)
        throw new Error(`${JSON.stringify(text)} cut at ${cut}: ${split}, whole: ${whole}`);
    }
  return whole;
}

/** What the JSON-RPC route accepted before the validator: JSON.parse or the Python-like parser. */
function acceptedBefore(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    try {
      parseJsonValue(text, { maxDepth: 1e9 });
      return true;
    } catch {
      return false;
    }
  }
}

describe('checkJson (is the upstream answer JSON? the JSON-RPC route asks)', () => {
  it('accepts JSON as Python writes it, NaN and Infinity included', () => {
    for (const t of [
      '0',
      '-0.5e+10',
      '"a\\u00e9\\n"',
      '[]',
      '{}',
      ' [1, 2.5, "x", true, false, null, {"a": [{}]}] ',
      '{"a": NaN, "b": Infinity, "c": -Infinity}',
      '[[[[[[[[[[[]]]]]]]]]]]',
      '"\ud800"',
    ])
      expect(isJsonText(t), t).toBe(true);
  });

  it('refuses what is not one JSON document', () => {
    for (const t of [
      '',
      ' ',
      '[1,]',
      '{"a" 1}',
      '{"a": 1,}',
      '{1: 2}',
      '[1 2]',
      '01',
      '1.',
      '.5',
      '1e',
      '-',
      '"abc',
      '"a\tb"',
      '"\\x"',
      '"\\u12g4"',
      'nul',
      'Nan',
      '-Inf',
      '[1]]',
      '[1] x',
      '<html>',
      '\ufeff1',
      '[',
      '{"a": [1, {"b": 2]}',
    ])
      expect(isJsonText(t), JSON.stringify(t)).toBe(false);
  });

  it('agrees with JSON.parse and the lossless parser on random and mutated texts', () => {
    const mutated = fc
      .tuple(
        fc.json(),
        fc.nat(),
        fc.constantFrom('', ',', ']', '}', '"', ':', '\\', ' ', '-', 'e', '0', 'NaN'),
        fc.nat(3),
      )
      .map(([text, at, insert, drop]) => {
        const k = text.length === 0 ? 0 : at % text.length;
        return text.slice(0, k) + insert + text.slice(k + drop);
      });
    fc.assert(
      fc.property(fc.oneof(fc.json(), mutated, fc.string()), (text) => {
        expect(isJsonText(text)).toBe(acceptedBefore(text));
      }),
      { numRuns: 5000 },
    );
  });

  it('takes deep nesting without recursion', () => {
    expect(isJsonText('['.repeat(100_000) + ']'.repeat(100_000))).toBe(true);
    expect(isJsonText('{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000))).toBe(true);
    expect(isJsonText('['.repeat(100_000) + ']'.repeat(99_999))).toBe(false);
  });
});
