import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfigFile } from '../../src/config.ts';
import { NO_SHIMS, applyShim, type ShimSettings } from '../../src/translate/shims.ts';
import { struct, type Value } from '../../src/values.ts';

const ALL: ShimSettings = { name_get: true, search_count: true, fields_get_keys: true };
const kw = (o: Record<string, Value> = {}) => struct(o);

describe('applyShim', () => {
  it('does nothing when the shims are off (fidelity: Odoo 19 answers)', () => {
    expect(applyShim('name_get', [[1]], kw(), NO_SHIMS)).toBeUndefined();
    expect(applyShim('search', [[]], kw({ count: true }), NO_SHIMS)).toBeUndefined();
    expect(applyShim('fields_get_keys', [], kw(), NO_SHIMS)).toBeUndefined();
    expect(applyShim('read', [[1]], kw(), ALL)).toBeUndefined();
    expect(applyShim('search', [[], 0, 5], kw(), ALL)).toBeUndefined();
  });

  it('name_get(ids) → read(ids, [display_name]) → [[id, name], ...]', () => {
    const s = applyShim('name_get', [[3, 1]], kw({ context: kw({ lang: 'fr_FR' }) }), ALL);
    expect(s?.method).toBe('read');
    expect(s?.args).toEqual([[3, 1], ['display_name']]);
    expect(s?.kw).toEqual(kw({ context: kw({ lang: 'fr_FR' }) }));
    expect(s?.mapResult?.('[{"id": 3, "display_name": "B"}, {"id": 1, "display_name": "A"}]')).toEqual({
      kind: 'value',
      value: [
        [3, 'B'],
        [1, 'A'],
      ],
    });
    expect(applyShim('name_get', [5], kw(), ALL)?.args).toEqual([5, ['display_name']]);
    expect(() => applyShim('name_get', [[1], 2], kw(), ALL)).toThrow(/takes 1 positional argument/);
    expect(() => applyShim('name_get', [[1]], kw({ x: 1 }), ALL)).toThrow(/unexpected keyword argument 'x'/);
  });

  it('search(..., count=True) → search_count(domain, limit), as kw or as the 5th positional', () => {
    const d = [['is_company', '=', true]];
    const k = applyShim('search', [d], kw({ count: true, limit: 3, context: kw({ a: 1 }) }), ALL);
    expect(k?.method).toBe('search_count');
    expect(k?.args).toEqual([]);
    expect(k?.kw).toEqual(kw({ domain: d, limit: 3, context: kw({ a: 1 }) }));
    expect(k?.mapResult).toBeUndefined();
    const p = applyShim('search', [d, 0, null, 'id', true], kw(), ALL);
    expect(p?.kw).toEqual(kw({ domain: d }));
    const p2 = applyShim('search', [d, 1, 10, false, 1], kw(), ALL);
    expect(p2?.kw).toEqual(kw({ domain: d, limit: 10 }));
  });

  it('search(..., count=False) is a plain search without the count', () => {
    const s = applyShim('search', [[], 0, 2, 'id', false], kw(), ALL);
    expect(s).toMatchObject({ method: 'search', args: [[], 0, 2, 'id'], kw: kw() });
    expect(applyShim('search', [[]], kw({ count: false, limit: 1 }), ALL)?.kw).toEqual(kw({ limit: 1 }));
    expect(() => applyShim('search', [[], 0, 0, '', true], kw({ count: true }), ALL)).toThrow(
      /multiple values for argument 'count'/,
    );
  });

  it('fields_get_keys() → fields_get(attributes=[type]) → the keys', () => {
    const s = applyShim('fields_get_keys', [], kw(), ALL);
    expect(s?.method).toBe('fields_get');
    expect(s?.kw).toEqual(kw({ attributes: ['type'] }));
    expect(s?.mapResult?.('{"name": {"type": "char"}, "id": {"type": "integer"}}')).toEqual({
      kind: 'value',
      value: ['name', 'id'],
    });
    expect(() => applyShim('fields_get_keys', [1], kw(), ALL)).toThrow(/takes 1 positional argument/);
  });
});

describe('shims in BRIDGE_CONFIG', () => {
  it('are off by default and enabled one by one', () => {
    expect(parseConfigFile({}, 'f').shims).toEqual(NO_SHIMS);
    expect(parseConfigFile({ shims: { name_get: true } }, 'f').shims).toEqual({
      ...NO_SHIMS,
      name_get: true,
    });
  });

  it('refuses unknown shims and non-boolean values with a clear message', () => {
    expect(() => parseConfigFile({ shims: { name_gte: true } }, 'f')).toThrow(ConfigError);
    expect(() => parseConfigFile({ shims: { name_gte: true } }, 'f')).toThrow(
      /f: shims.name_gte: no such shim; the shims are name_get \(removed in Odoo 17.0\), search_count/,
    );
    expect(() => parseConfigFile({ shims: { name_get: 'yes' } }, 'f')).toThrow(
      'f: shims.name_get must be true or false, not "yes"',
    );
    expect(() => parseConfigFile({ shims: ['name_get'] }, 'f')).toThrow(/shims must map shim names/);
  });
});
