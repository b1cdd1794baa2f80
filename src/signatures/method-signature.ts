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
}

export interface MethodSignature {
  /** `@api.model` (or `@api.model_create_multi`): no record ids. */
  readonly apiModel: boolean;
  /** Parameters after `self`, in order. */
  readonly params: readonly ParamSpec[];
  /** Where it came from, for logs and error messages. */
  readonly source: 'builtin' | 'server' | 'override';
}

/** `['domain', 'offset']` → positional-or-keyword parameters. */
export function positional(names: readonly string[]): ParamSpec[] {
  return names.map((name) => ({ name, kind: 'positional' as const }));
}
