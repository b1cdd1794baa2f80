import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfigFile } from '../../src/config.ts';
import { releaseOf } from '../../src/services/version.ts';
import { andDomains } from '../../src/translate/read-group.ts';
import {
  NO_SHIMS,
  applyShim,
  isShimmedCall,
  shimApplies,
  type ShimSettings,
  type ShimmedCall,
} from '../../src/translate/shims.ts';
import { struct, type Value } from '../../src/values.ts';

const ALL: ShimSettings = {
  name_get: true,
  search_count: true,
  fields_get_keys: true,
  read_group: true,
  check_access_rights: true,
};
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

/** The call a shim step's `then` gives for Odoo's answer `text` (it must give one). */
function next(s: ShimmedCall | undefined, text: string): ShimmedCall {
  const n = s?.then?.(text);
  if (n === undefined || !isShimmedCall(n)) throw new Error('no further call');
  return n;
}

/** A JSON text as Odoo writes it, from a plain JS value. */
const json = (v: unknown) => JSON.stringify(v);
const NEXT: [number, number] = [19, 1];

describe('version awareness', () => {
  it('each shim applies from the release that removed or changed its call', () => {
    expect(shimApplies('name_get', [19, 0])).toBe(true);
    expect(shimApplies('name_get', [16, 0])).toBe(false);
    expect(shimApplies('check_access_rights', [18, 0])).toBe(true);
    expect(shimApplies('check_access_rights', [17, 0])).toBe(false);
    expect(shimApplies('read_group', [19, 0])).toBe(false);
    expect(shimApplies('read_group', [19, 1])).toBe(true);
    expect(shimApplies('read_group', [20, 0])).toBe(true);
    // An unreadable version is taken as 19.0, the first release with JSON-2.
    expect(shimApplies('name_get', undefined)).toBe(true);
    expect(shimApplies('read_group', undefined)).toBe(false);
    expect(
      applyShim('read_group', [[], ['__count'], ['is_company']], kw(), ALL, { release: [19, 0] }),
    ).toBeUndefined();
    expect(applyShim('name_get', [[1]], kw(), ALL, { release: [16, 0] })).toBeUndefined();
  });

  it('reads the release from /web/version, SaaS builds included', () => {
    expect(releaseOf({ version: '19.0', versionInfo: [19, 0, 0, 'final', 0, ''] })).toEqual([19, 0]);
    expect(releaseOf({ version: 'saas~19.2', versionInfo: ['saas~19', 2, 0, 'final', 0, ''] })).toEqual([
      19, 2,
    ]);
    expect(releaseOf({ version: '20.0a1', versionInfo: ['x'] })).toEqual([20, 0]);
    expect(releaseOf({ version: 'master', versionInfo: [] })).toBeUndefined();
  });
});

describe('check_access_rights (answers None from 18.0, gone after 19.0)', () => {
  const opts = { model: 'res.partner', release: [19, 0] as const };
  it('→ has_access(operation) on no records; True, False, or AccessError', () => {
    const s = applyShim('check_access_rights', ['write'], kw({ context: kw({ lang: 'fr_FR' }) }), ALL, opts);
    expect(s).toMatchObject({ method: 'has_access', args: [[]] });
    expect(s?.kw).toEqual(kw({ operation: 'write', context: kw({ lang: 'fr_FR' }) }));
    expect(s?.then?.('true')).toEqual({ kind: 'value', value: true });
    // Refused on 19.0: the deprecated method itself raises Odoo's own AccessError.
    const refused = next(s, 'false');
    expect(refused).toMatchObject({ method: 'check_access_rights', args: ['write'] });
    expect(refused.kw).toEqual(kw({ context: kw({ lang: 'fr_FR' }) }));
    // After 19.0 there is no such method: the bridge writes the AccessError.
    const later = applyShim('check_access_rights', ['write'], kw(), ALL, { ...opts, release: [19, 1] });
    expect(() => later?.then?.('false')).toThrow(
      "You are not allowed to modify 'res.partner' (res.partner) records.",
    );
    const quiet = applyShim(
      'check_access_rights',
      [],
      kw({ operation: 'read', raise_exception: false }),
      ALL,
      opts,
    );
    expect(quiet?.then?.('false')).toEqual({ kind: 'value', value: false });
    expect(applyShim('check_access_rights', ['read', 0], kw(), ALL, opts)?.then?.('false')).toEqual({
      kind: 'value',
      value: false,
    });
  });

  it('binds its arguments as Python did', () => {
    expect(() => applyShim('check_access_rights', [], kw(), ALL, opts)).toThrow(
      "BaseModel.check_access_rights() missing 1 required positional argument: 'operation'",
    );
    expect(() => applyShim('check_access_rights', ['read', true, 1], kw(), ALL, opts)).toThrow(
      'takes from 2 to 3 positional arguments but 4 were given',
    );
    expect(() => applyShim('check_access_rights', ['read'], kw({ operation: 'x' }), ALL, opts)).toThrow(
      "got multiple values for argument 'operation'",
    );
    expect(() => applyShim('check_access_rights', ['read'], kw({ mode: 'x' }), ALL, opts)).toThrow(
      "got an unexpected keyword argument 'mode'",
    );
  });
});

describe('read_group (pre-19 signature, gone after 19.0)', () => {
  const opts = { model: 'sale.order', release: NEXT };
  const FIELDS = json({
    partner_id: { type: 'many2one', store: true },
    date_order: { type: 'datetime', store: true },
    amount_total: { type: 'monetary', store: true, aggregator: 'sum' },
    name: { type: 'char', store: true },
    state: { type: 'selection', store: true },
  });

  it('asks fields_get for the fields it must know, then formatted_read_group', () => {
    const first = applyShim(
      'read_group',
      [
        [['state', '=', 'sale']],
        ['amount_total', 'name', 'n:count_distinct(partner_id)'],
        ['partner_id', 'state'],
      ],
      kw({ context: kw({ lang: 'en_US' }) }),
      ALL,
      opts,
    );
    expect(first?.method).toBe('fields_get');
    expect(first?.kw).toEqual(
      kw({
        allfields: ['partner_id', 'amount_total', 'name'],
        attributes: ['type', 'store', 'aggregator'],
        context: kw({ lang: 'en_US' }),
      }),
    );
    const second = next(first, FIELDS);
    expect(second.method).toBe('formatted_read_group');
    expect(second.kw).toEqual(
      kw({
        domain: [['state', '=', 'sale']],
        groupby: ['partner_id'],
        aggregates: ['__count', 'amount_total:sum', 'partner_id:count_distinct'],
        // Lazy: empty group_expand groups asked for, as legacy read_group added them.
        context: kw({ lang: 'en_US', read_group_expand: true }),
      }),
    );
    // Lazy, two levels: the first is grouped; `<field>_count`; the rest goes to __context.
    const rows = second.mapResult?.(
      json([
        {
          partner_id: [7, 'Azure'],
          __extra_domain: [['partner_id', '=', 7]],
          __count: 2,
          'amount_total:sum': 1740.5,
          'partner_id:count_distinct': 1,
        },
      ]),
    );
    expect(rows).toEqual({
      kind: 'value',
      value: [
        struct({
          partner_id: [7, 'Azure'],
          partner_id_count: 2,
          amount_total: expect.anything() as Value,
          n: 1,
          __domain: ['&', ['state', '=', 'sale'], ['partner_id', '=', 7]],
          __context: struct({ group_by: ['state'] }),
        }),
      ],
    });
  });

  it('lazy=False groups every level and counts in __count; offset, limit and orderby pass on', () => {
    const first = applyShim(
      'read_group',
      [
        [],
        ['amount_total:max'],
        ['partner_id', 'state'],
        2,
        5,
        'partner_id desc, amount_total, __count',
        false,
      ],
      kw(),
      ALL,
      opts,
    );
    const second = next(first, FIELDS);
    expect(second.kw).toEqual(
      kw({
        domain: [],
        groupby: ['partner_id', 'state'],
        aggregates: ['__count', 'amount_total:max'],
        offset: 2,
        limit: 5,
        order: 'partner_id desc,amount_total:max,__count',
      }),
    );
    const rows = second.mapResult?.(
      json([
        {
          partner_id: false,
          state: 'draft',
          __extra_domain: ['&', ['partner_id', '=', false], ['state', '=', 'draft']],
          __count: 1,
          'amount_total:max': 3,
        },
      ]),
    );
    expect(rows?.kind === 'value' && rows.value).toEqual([
      struct({
        partner_id: false,
        state: 'draft',
        __count: 1,
        amount_total: 3,
        __domain: ['&', ['partner_id', '=', false], ['state', '=', 'draft']],
      }),
    ]);
  });

  it('a date group is month by default, answered with its label and __range', () => {
    const second = next(
      applyShim('read_group', [[['state', '=', 'sale']], [], 'date_order'], kw(), ALL, opts),
      FIELDS,
    );
    expect(second.kw.get('groupby')).toEqual(['date_order:month']);
    const rows = second.mapResult?.(
      json([
        {
          'date_order:month': ['2026-11-01 00:00:00', 'November 2026'],
          __extra_domain: [
            '&',
            ['date_order', '>=', '2026-11-01 00:00:00'],
            ['date_order', '<', '2026-12-01 00:00:00'],
          ],
          __count: 4,
        },
        { 'date_order:month': false, __extra_domain: [['date_order', '=', false]], __count: 1 },
      ]),
    );
    expect(rows?.kind === 'value' && rows.value).toEqual([
      struct({
        date_order: 'November 2026',
        date_order_count: 4,
        __domain: [
          '&',
          '&',
          ['state', '=', 'sale'],
          ['date_order', '>=', '2026-11-01 00:00:00'],
          ['date_order', '<', '2026-12-01 00:00:00'],
        ],
        __range: struct({ date_order: struct({ from: '2026-11-01 00:00:00', to: '2026-12-01 00:00:00' }) }),
      }),
      struct({
        date_order: false,
        date_order_count: 1,
        __domain: ['&', ['state', '=', 'sale'], ['date_order', '=', false]],
        __range: struct({ date_order: false }),
      }),
    ]);
  });

  it('needs no fields_get when every field is explicit and there is no groupby', () => {
    const s = applyShim('read_group', [[], ['total:sum(amount_total)', '__count'], []], kw(), ALL, opts);
    expect(s?.method).toBe('formatted_read_group');
    expect(s?.kw).toEqual(kw({ domain: [], groupby: [], aggregates: ['__count', 'amount_total:sum'] }));
    expect(s?.mapResult?.(json([{ __extra_domain: [], __count: 3, 'amount_total:sum': 9 }]))).toEqual({
      kind: 'value',
      value: [struct({ __count: 3, total: 9, __domain: [] })],
    });
  });

  it('binds and checks its arguments as the legacy method did', () => {
    expect(() => applyShim('read_group', [[]], kw(), ALL, opts)).toThrow(
      "BaseModel.read_group() missing 2 required positional arguments: 'fields' and 'groupby'",
    );
    expect(() => applyShim('read_group', [], kw(), ALL, opts)).toThrow(
      "missing 3 required positional arguments: 'domain', 'fields', and 'groupby'",
    );
    expect(() => applyShim('read_group', [[], [], [], 0, 0, '', true, 1], kw(), ALL, opts)).toThrow(
      'takes from 4 to 8 positional arguments but 9 were given',
    );
    expect(() => applyShim('read_group', [[], [], []], kw({ groupby: [] }), ALL, opts)).toThrow(
      "got multiple values for argument 'groupby'",
    );
    expect(() => applyShim('read_group', [[], [], []], kw({ order: 'x' }), ALL, opts)).toThrow(
      "got an unexpected keyword argument 'order'",
    );
    expect(() =>
      applyShim('read_group', [[], ['amount_total:sum'], ['nope']], kw(), ALL, opts)?.then?.(FIELDS),
    ).toThrow("Invalid field 'nope' on model 'sale.order'");
    expect(() => applyShim('read_group', [[], ['-'], []], kw(), ALL, opts)).toThrow(
      "Invalid field specification '-'.",
    );
  });

  it('__domain is the caller domain AND the group domain, as Odoo 19 lists Domain(a) & Domain(b)', () => {
    expect(andDomains([], [['a', '=', 1]])).toEqual([['a', '=', 1]]);
    expect(
      andDomains(
        [
          ['x', '=', 1],
          ['y', '=', 2],
        ],
        [['a', '=', 1]],
      ),
    ).toEqual(['&', '&', ['x', '=', 1], ['y', '=', 2], ['a', '=', 1]]);
    expect(andDomains(['|', ['x', '=', 1], ['y', '=', 2]], [['a', '=', 1]])).toEqual([
      '&',
      '|',
      ['x', '=', 1],
      ['y', '=', 2],
      ['a', '=', 1],
    ]);
    expect(andDomains(['&', ['x', '=', 1], '!', ['y', '=', 2]], [])).toEqual([
      '&',
      ['x', '=', 1],
      '!',
      ['y', '=', 2],
    ]);
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
