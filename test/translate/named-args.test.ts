import { describe, expect, it } from 'vitest';
import { OdooFault } from '../../src/errors.ts';
import { BUILTIN_SIGNATURES } from '../../src/signatures/builtin.ts';
import type { MethodSignature } from '../../src/signatures/method-signature.ts';
import { recordIds, toJson2Call } from '../../src/translate/named-args.ts';
import { struct, type Value } from '../../src/values.ts';

const sig = (name: string): MethodSignature => {
  const s = BUILTIN_SIGNATURES.get(name);
  if (!s) throw new Error(`no builtin signature for ${name}`);
  return s;
};
const body = (
  model: string,
  method: string,
  args: Value[],
  kw: Record<string, Value> = {},
  s = sig(method),
) => Object.fromEntries(toJson2Call(model, method, args, struct(kw), s).body);
const fault = (f: () => unknown): OdooFault => {
  try {
    f();
  } catch (e) {
    if (e instanceof OdooFault) return e;
    throw e;
  }
  throw new Error('expected an OdooFault');
};

describe('toJson2Call', () => {
  it('names the positional arguments of an @api.model method (capture 4b-17: execute search domain, 0, 2)', () => {
    expect(body('res.partner', 'search', [[['is_company', '=', true]], 0, 2])).toEqual({
      domain: [['is_company', '=', true]],
      offset: 0,
      limit: 2,
    });
  });

  it('takes the ids from args[0] for a record method and names the rest (4b-21 write)', () => {
    expect(body('res.partner', 'write', [[59], struct({ phone: '+1 555 0100' })])).toEqual({
      ids: [59],
      vals: struct({ phone: '+1 555 0100' }),
    });
  });

  it('passes kw by name next to positional args (4b-10 search_read)', () => {
    expect(body('res.partner', 'search_read', [[]], { fields: ['name'], limit: 3 })).toEqual({
      domain: [],
      fields: ['name'],
      limit: 3,
    });
  });

  it('turns a bare int id into a list and a falsy one into no records', () => {
    expect(body('res.partner', 'read', [7, ['name']])).toEqual({ ids: [7], fields: ['name'] });
    expect(recordIds(false)).toEqual([]);
    expect(recordIds(null)).toEqual([]);
    expect(recordIds(12n)).toEqual([12n]);
  });

  it('moves kw.context to the reserved context key, and drops an empty one', () => {
    expect(body('res.partner', 'search_count', [[]], { context: struct({ lang: 'fr_FR' }) })).toEqual({
      domain: [],
      context: struct({ lang: 'fr_FR' }),
    });
    expect(body('res.partner', 'search_count', [[]], { context: struct({}) })).toEqual({ domain: [] });
    expect(body('res.partner', 'search_count', [[]], { context: null })).toEqual({ domain: [] });
  });

  it('flags create with a single dict so the answer becomes one id', () => {
    expect(
      toJson2Call('res.partner', 'create', [struct({ name: 'x' })], new Map(), sig('create')).singleCreate,
    ).toBe(true);
    expect(
      toJson2Call('res.partner', 'create', [[struct({ name: 'x' })]], new Map(), sig('create')).singleCreate,
    ).toBe(false);
  });

  it('answers IndexError for a record method without args, as call_kw does', () => {
    const f = fault(() => body('res.partner', 'unlink', []));
    expect(f.kind).toBe('generic');
    expect(f.pyName).toBe('builtins.IndexError');
    expect(f.message).toBe('list index out of range');
  });

  it('answers TypeError for a duplicate argument and for too many positional arguments', () => {
    expect(fault(() => body('res.partner', 'search', [[], 0], { offset: 1 })).message).toBe(
      "BaseModel.search() got multiple values for argument 'offset'",
    );
    expect(fault(() => body('res.partner', 'search_count', [[], 1, 2])).message).toBe(
      'BaseModel.search_count() takes from 2 to 3 positional arguments but 4 were given',
    );
  });

  it('refuses what JSON-2 cannot express: *args, positional-only parameters, an argument named ids', () => {
    const varargs: MethodSignature = {
      apiModel: true,
      params: [
        { name: 'a', kind: 'positional' },
        { name: 'args', kind: 'var_positional' },
      ],
      source: 'server',
    };
    expect(fault(() => body('x.y', 'f', [1, 2], {}, varargs)).message).toMatch(
      /JSON-2 cannot pass the rest \(\*args\)/,
    );
    const posOnly: MethodSignature = {
      apiModel: true,
      params: [{ name: 'a', kind: 'positional_only' }],
      source: 'server',
    };
    expect(fault(() => body('x.y', 'f', [1], {}, posOnly)).message).toMatch(/positional-only/);
    expect(fault(() => body('res.partner', 'search', [[]], { ids: [1] })).message).toMatch(/'ids'/);
  });

  it('does not fill keyword-only parameters positionally', () => {
    expect(fault(() => body('res.partner', 'web_read_group', [[], [], [], 1, 0, 'id', true])).message).toBe(
      'Base.web_read_group() takes from 3 to 7 positional arguments but 8 were given',
    );
  });
});
