import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { pyFloatRepr } from '../../src/protocol/py-float.ts';

const samples = [
  0,
  1,
  -1,
  0.1,
  1740,
  2947.5,
  1e15,
  1e16,
  1.5e16,
  123456789012345680,
  1e21,
  1e22,
  1e-4,
  1e-5,
  0.00012345,
  1.2345e-7,
  5e-324,
  1.7976931348623157e308,
  Math.PI,
  -2.5e-10,
  100,
  99.99,
  1 / 3,
  2 ** 53,
  2 ** 53 + 2,
  Number.NaN,
  Infinity,
  -Infinity,
];

describe('pyFloatRepr', () => {
  it('writes floats exactly as CPython repr() does', () => {
    const py = execFileSync(
      'python3',
      ['-c', 'import json,sys; print(json.dumps([repr(float(x)) for x in json.load(sys.stdin)]))'],
      { input: JSON.stringify(samples.map((n) => (Number.isFinite(n) ? n : String(n)))) },
    ).toString();
    const expected = JSON.parse(py) as string[];
    expect(samples.map(pyFloatRepr)).toEqual(expected);
  });

  it('keeps integral values as floats', () => {
    expect(pyFloatRepr(1740)).toBe('1740.0');
    expect(pyFloatRepr(-0)).toBe('-0.0');
  });
});
