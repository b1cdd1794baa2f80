/**
 * Python's `repr(float)`: the shortest text that reads back as the same double, written the way
 * CPython writes it. JavaScript finds the same shortest digits but lays them out differently
 * (`1e21` vs `1e+21`, `1e-7` vs `1e-07`, `1` vs `1.0`), and legacy clients see Python's layout.
 *
 * CPython uses scientific notation when the decimal exponent is < -4 or >= 16, always writes a
 * sign and at least two exponent digits, and appends `.0` to integral values.
 */
export function pyFloatRepr(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  if (n === 0) return Object.is(n, -0) ? '-0.0' : '0.0';

  const sign = n < 0 ? '-' : '';
  // toExponential() without an argument gives the shortest round-trip digits: "d.ddde±x".
  const exp = Math.abs(n).toExponential();
  const e = exp.indexOf('e');
  const digits = exp.slice(0, e).replace('.', '');
  const exponent = Number(exp.slice(e + 1));

  if (exponent < -4 || exponent >= 16) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const expSign = exponent < 0 ? '-' : '+';
    const expDigits = String(Math.abs(exponent)).padStart(2, '0');
    return `${sign}${mantissa}e${expSign}${expDigits}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  if (digits.length <= exponent + 1) return `${sign}${digits}${'0'.repeat(exponent + 1 - digits.length)}.0`;
  return `${sign}${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
}
