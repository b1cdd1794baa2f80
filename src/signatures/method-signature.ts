/**
 * `MethodSignature`: what the bridge must know of an Odoo method to turn a legacy positional call
 * into a JSON-2 named call: whether it is `@api.model` (then `args[0]` is not the record ids) and
 * the names of its parameters, in order.
 */

/** Python's parameter kinds (`inspect.Parameter.kind`); `positional` is POSITIONAL_OR_KEYWORD. */
export type ParamKind = 'positional' | 'positional_only' | 'var_positional' | 'keyword_only' | 'var_keyword';

export interface ParamSpec {
  readonly name: string;
  readonly kind: ParamKind;
  /** Has a default value (absent: not known, as for an override in BRIDGE_CONFIG). */
  readonly optional?: boolean;
}

export interface MethodSignature {
  /** `@api.model` (or `@api.model_create_multi`): no record ids. */
  readonly apiModel: boolean;
  /** Parameters after `self`, in order. */
  readonly params: readonly ParamSpec[];
  /**
   * Where it came from, for logs and error messages; `none`: nobody describes the method, and the
   * bridge assumed the least (no parameters, or the one argument as record ids).
   */
  readonly source: 'builtin' | 'server' | 'override' | 'none';
  /**
   * The model whose class introduces the method, as api_doc names it (`core`: Odoo's BaseModel,
   * `base`: the `base` model's mixins, else a model name); absent when not known. Python's
   * argument errors name the method by its class (`BaseModel.write()`).
   */
  readonly definedIn?: string;
}

/**
 * `['domain', 'offset?']` → positional-or-keyword parameters; a name ending in `?` has a default.
 * Without any `?` nothing is said about defaults (an override names parameters only).
 */
export function positional(names: readonly string[]): ParamSpec[] {
  return names.map((spec) =>
    spec.endsWith('?')
      ? { name: spec.slice(0, -1), kind: 'positional' as const, optional: true }
      : { name: spec, kind: 'positional' as const },
  );
}

/**
 * A described method's positional-or-keyword parameters: a name ending in `?` has a default, any
 * other is required (the built-in table, which knows Odoo's signatures).
 */
export function described(names: readonly string[]): ParamSpec[] {
  return positional(names).map((p) => (p.optional ? p : { ...p, optional: false }));
}
