/**
 * Shadow mode's comparison (src/server/shadow-diff.ts): values and types (1 and 1.0 differ, as
 * Python's json.loads reads them), keys present on one side only, volatile timestamps ignored,
 * faults by class and message (not traceback), at most five differences, long values cut.
 */
import { describe, expect, it } from 'vitest';
import { parseJsonValue } from '../../src/protocol/json/parse.ts';
import { differences, type ShadowAnswer } from '../../src/server/shadow-diff.ts';

const v = (json: string): ShadowAnswer => ({ kind: 'value', value: parseJsonValue(json) });

describe('shadow differences', () => {
  it('sees no difference between equal answers, whatever their volatile timestamps', () => {
    expect(
      differences(
        v('[{"id": 7, "name": "A", "write_date": "2026-12-07 10:00:00"}]'),
        v('[{"id": 7, "name": "A", "write_date": "2026-12-07 10:00:05"}]'),
      ),
    ).toEqual([]);
  });

  it('names each difference by its path: value, type (1 vs 1.0), missing keys, lengths', () => {
    expect(differences(v('{"a": 1, "b": [1, 2], "c": "x"}'), v('{"a": 1.0, "b": [1], "d": "x"}'))).toEqual([
      '.a: int 1 → float 1',
      '.b: 2 items → 1 items',
      '.c: present → missing',
      '.d: missing → present',
    ]);
    expect(differences(v('38'), v('1'))).toEqual(['(value): 38 → 1']);
    expect(differences(v('false'), v('null'))).toEqual(['(value): bool false → None None']);
  });

  it('compares faults by class and message, and a value against a fault', () => {
    const f = (name: string, message: string): ShadowAnswer => ({ kind: 'fault', name, message });
    expect(
      differences(f('odoo.exceptions.AccessError', 'no'), f('odoo.exceptions.AccessError', 'no')),
    ).toEqual([]);
    expect(
      differences(f('odoo.exceptions.AccessError', 'no'), f('odoo.exceptions.UserError', 'no')),
    ).toHaveLength(1);
    expect(differences(v('1'), f('odoo.exceptions.UserError', 'x'))).toEqual([
      '(answer): a value → fault odoo.exceptions.UserError: x',
    ]);
  });

  it('keeps at most five differences, values cut to a few dozen characters', () => {
    const ours = v(JSON.stringify(Array.from({ length: 20 }, (_, i) => i)));
    const theirs = v(JSON.stringify(Array.from({ length: 20 }, (_, i) => i + 1)));
    expect(differences(ours, theirs)).toHaveLength(5);
    const long = differences(v(JSON.stringify('x'.repeat(500))), v('"y"'))[0] ?? '';
    expect(long.length).toBeLessThan(150);
  });
});
