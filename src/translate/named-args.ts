/**
 * Legacy positional call → JSON-2 named call. Pure: no I/O.
 *
 * Legacy `call_kw` (docs/wire.md §3.2): for a record method `args[0]` is the ids and the rest
 * is positional; for an `@api.model` method all of `args` is positional; `kw.context` replaces the
 * context. JSON-2 (§4.4) takes `ids`, `context` and every other argument by name, so each
 * positional argument is given the name of the parameter it would have filled in Python.
 */
import { pythonError } from '../errors.ts';
import type { MethodSignature } from '../signatures/method-signature.ts';
import { isStruct, truthy, type Struct, type Value } from '../values.ts';
import { pythonQualname, tooManyPositionalMessage } from './python-call-errors.ts';

export interface Json2Call {
  /** The JSON-2 body: `ids`, `context` and named arguments. */
  body: Struct;
  /** Legacy `create({...})` answers one id, not the list JSON-2 returns. */
  singleCreate: boolean;
}

export function toJson2Call(
  model: string,
  method: string,
  args: readonly Value[],
  kw: Struct,
  sig: MethodSignature,
): Json2Call {
  const body: Struct = new Map();
  let positional = args;
  if (!sig.apiModel) {
    if (args.length === 0)
      // Legacy: `ids, args = args[0], args[1:]` on an empty list.
      throw pythonError('IndexError', 'list index out of range');
    body.set('ids', recordIds(args[0] ?? null));
    positional = args.slice(1);
  }

  const fillable = sig.params.filter((p) => p.kind === 'positional' || p.kind === 'positional_only');
  if (positional.length > fillable.length) {
    if (sig.params.some((p) => p.kind === 'var_positional'))
      throw pythonError(
        'TypeError',
        `${model}.${method}() was given ${positional.length} positional arguments, more than its named parameters ` +
          `(${fillable.map((p) => p.name).join(', ') || 'none'}); JSON-2 cannot pass the rest (*args)`,
      );
    // Legacy calls `method(records, *args)`: CPython's count includes the records (self).
    throw pythonError(
      'TypeError',
      tooManyPositionalMessage(pythonQualname(model, method, sig), sig, positional.length, kw),
    );
  }
  positional.forEach((value, i) => {
    const param = fillable[i];
    if (!param) return;
    if (param.kind === 'positional_only')
      throw pythonError(
        'TypeError',
        `${model}.${method}(): '${param.name}' is positional-only, and JSON-2 passes arguments by name only`,
      );
    body.set(param.name, value);
  });

  for (const [name, value] of kw) {
    if (name === 'context') continue;
    if (name === 'ids')
      throw pythonError(
        'TypeError',
        `${model}.${method}(): an argument named 'ids' cannot be passed over JSON-2`,
      );
    if (body.has(name))
      throw pythonError(
        'TypeError',
        `${pythonQualname(model, method, sig)}() got multiple values for argument '${name}'`,
      );
    body.set(name, value);
  }
  // Legacy: `context = kwargs.pop('context', None) or {}`. An absent context is {} in JSON-2 too.
  const context = kw.get('context');
  if (context !== undefined && truthy(context)) body.set('context', context);

  return { body, singleCreate: method === 'create' && isStruct(args[0]) };
}

/** `browse(ids)` accepts an id, a list of ids, or a falsy value (empty). */
export function recordIds(ids: Value): Value {
  if (typeof ids === 'number' || typeof ids === 'bigint') return [ids];
  if (Array.isArray(ids)) return ids;
  if (!truthy(ids)) return [];
  return ids;
}
