/**
 * The inventory's example bodies: valid JSON however large the call, cut where the budget ends
 * with a marker, secret-looking members redacted, Python's types written as JSON-2 takes them.
 */
import { describe, expect, it } from 'vitest';
import { CUT, exampleOf, isSecretName, REDACTED } from '../../src/inventory/example.ts';
import { Binary, DateTime, PyFloat, struct, type Value } from '../../src/values.ts';

describe('exampleOf', () => {
  it('writes the named arguments as compact JSON, Python floats and big ints included', () => {
    const body = struct({
      ids: [1, 2],
      vals: struct({ amount: new PyFloat(2), big: 2n ** 70n, when: new DateTime('2024-01-02 03:04:05') }),
      file: new Binary('aGVsbG8='),
      none: null,
      flag: false,
    });
    const ex = exampleOf(body, 2048);
    expect(ex).toEqual({
      json:
        '{"ids": [1, 2], "vals": {"amount": 2.0, "big": 1180591620717411303424, "when": "2024-01-02 03:04:05"}, ' +
        '"file": "aGVsbG8=", "none": null, "flag": false}',
      truncated: false,
    });
    expect(JSON.parse(ex.json)).toMatchObject({ ids: [1, 2], none: null });
  });

  it('stays valid JSON within about maxBytes, whatever the size of the call', () => {
    const rows: Value[] = Array.from({ length: 5000 }, (_, i) =>
      struct({ name: `partner ${i}`, note: 'x'.repeat(1000), tags: [[6, 0, [1, 2, 3]]] }),
    );
    const ex = exampleOf(struct({ vals_list: rows }), 2048);
    expect(ex.truncated).toBe(true);
    expect(ex.json.length).toBeLessThan(2048 + 400);
    const parsed = JSON.parse(ex.json) as { vals_list: unknown[] };
    expect(parsed.vals_list.at(-1)).toBe(CUT);
    expect((parsed.vals_list[0] as { note: string }).note).toMatch(/^x+…$/);
  });

  it('cuts deep nesting and long strings with a marker, never splitting a surrogate pair', () => {
    let deep: Value = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    const emoji = '😀'.repeat(300);
    const ex = exampleOf(struct({ deep, emoji }), 4096);
    expect(ex.truncated).toBe(true);
    expect(ex.json).toContain(JSON.stringify(CUT));
    const parsed = JSON.parse(ex.json) as { emoji: string };
    expect(parsed.emoji.endsWith(CUT)).toBe(true);
    expect(parsed.emoji).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
  });

  it('redacts values whose names look secret, at any depth', () => {
    const ex = exampleOf(
      struct({
        vals: struct({ login: 'bob', password: 'hunter2', new_password: 'x' }),
        options: struct({ api_key: 'k1', token: 't', client_secret: 's', key: 'k2', keys: ['a'] }),
      }),
      2048,
    );
    expect(ex.json).not.toMatch(/hunter2|"k1"|"k2"|"t"|"s"|: "x"/);
    expect(JSON.parse(ex.json)).toEqual({
      vals: { login: 'bob', password: REDACTED, new_password: REDACTED },
      options: { api_key: REDACTED, token: REDACTED, client_secret: REDACTED, key: REDACTED, keys: ['a'] },
    });
  });

  it('tells secret names from ordinary ones', () => {
    for (const n of [
      'password',
      'passwd',
      'PASSWORD',
      'api_key',
      'apikey',
      'access_token',
      'secret',
      'key',
      'private_key',
    ])
      expect(isSecretName(n), n).toBe(true);
    for (const n of ['name', 'keys', 'partner_id', 'domain', 'fields', 'monkey', 'keyword'])
      expect(isSecretName(n), n).toBe(false);
  });
});
