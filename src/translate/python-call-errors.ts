/**
 * Argument errors worded as legacy Odoo gives them. Pure: no I/O.
 *
 * Legacy `call_kw` calls the method as Python does (`method(recs, *args, **kwargs)`), so a call
 * that does not fit is CPython's TypeError, naming the function by its qualified name
 * (`BaseModel.write() missing 1 required positional argument: 'vals'`). JSON-2 checks the
 * arguments first with `inspect.Signature.bind` and answers a 422 in inspect's words (`missing a
 * required argument: 'vals'`, no function name, one name at a time, missing before unexpected).
 * The bridge knows the signature it named the arguments with, so it writes CPython's message:
 * the class from where api_doc (or the built-in table) says the method is defined, every missing
 * parameter it knows to be required, and CPython's order (unexpected names before missing ones).
 */
import { pythonNameList } from '../errors.ts';
import type { MethodSignature, ParamSpec } from '../signatures/method-signature.ts';
import type { Struct } from '../values.ts';

/**
 * The Python class name of the model that defines a method: `core` is Odoo's `BaseModel`; any
 * other model's class is its name in CamelCase (`res.partner` → `ResPartner`, `base` → `Base`),
 * Odoo 19's naming convention for model classes.
 */
export function modelClassName(model: string): string {
  if (model === 'core') return 'BaseModel';
  return model
    .split(/[._]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/**
 * Methods nearly every business model overrides: CPython names the last override's class, which
 * is the called model's own (`ResPartner.write`, `SaleOrder.create`), not BaseModel.
 */
const USUALLY_OVERRIDDEN = new Set(['write', 'create']);

/**
 * How CPython names the method in an argument error: by the class of the method's last override
 * in the model's class hierarchy (Odoo 19, measured: `ResPartner.write`, `BaseModel.search_count`,
 * `MailThread.message_subscribe`). The bridge cannot see overrides; api_doc names the class that
 * introduces the method, which is the last one unless a module overrides it. So: that class, but
 * the called model's own for `write` and `create`.
 */
export function pythonQualname(model: string, method: string, sig: MethodSignature): string {
  const owner = USUALLY_OVERRIDDEN.has(method) ? model : (sig.definedIn ?? model);
  return `${modelClassName(owner)}.${method}`;
}

/** Names the client gave that are not ids or context, in the order it gave them. */
function givenNames(body: Struct): string[] {
  return [...body.keys()].filter((k) => k !== 'ids' && k !== 'context');
}

const isFillable = (p: ParamSpec): boolean => p.kind === 'positional' || p.kind === 'positional_only';

/**
 * The first name no parameter takes, when the signature is a description of the method (not an
 * override, which names parameters only, nor the bridge's guess) and has no `**kwargs`.
 */
function firstUnexpected(sig: MethodSignature, body: Struct): string | undefined {
  if (sig.source === 'override' || sig.source === 'none') return undefined;
  if (sig.params.some((p) => p.kind === 'var_keyword')) return undefined;
  const names = new Set(sig.params.filter((p) => p.kind !== 'var_positional').map((p) => p.name));
  return givenNames(body).find((n) => !names.has(n));
}

// inspect's words (Python 3.10-3.13), each anchored, one bounded run of non-quote characters.
const INSPECT_UNEXPECTED = /^got an unexpected keyword argument '([^']{1,256})'$/;
const INSPECT_MISSING = /^missing a required argument: '([^']{1,256})'$/;
const INSPECT_POSITIONAL_ONLY = /^'([^']{1,256})' parameter is positional only, but was passed as a keyword$/;

/**
 * CPython's message for JSON-2's argument-binding refusal (a 422 `UnprocessableEntity`) of the
 * call `body` made with `sig`, or undefined when the message is not inspect's (then it is Odoo's
 * own, passed on as it is).
 */
export function pythonBindingMessage(
  inspectMessage: string,
  qualname: string,
  sig: MethodSignature,
  body: Struct,
): string | undefined {
  if (inspectMessage.length > 400) return undefined;
  const unexpected = INSPECT_UNEXPECTED.exec(inspectMessage)?.[1];
  if (unexpected !== undefined) return `${qualname}() got an unexpected keyword argument '${unexpected}'`;
  const positionalOnly = INSPECT_POSITIONAL_ONLY.exec(inspectMessage)?.[1];
  if (positionalOnly !== undefined)
    return `${qualname}() got some positional-only arguments passed as keyword arguments: '${positionalOnly}'`;
  const missing = INSPECT_MISSING.exec(inspectMessage)?.[1];
  if (missing === undefined) return undefined;
  // CPython looks at the keyword arguments before it counts what is missing.
  const first = firstUnexpected(sig, body);
  if (first !== undefined) return `${qualname}() got an unexpected keyword argument '${first}'`;
  return missingMessage(qualname, sig, body, missing);
}

/**
 * `missing 2 required positional arguments: 'a' and 'b'` (or keyword-only): every parameter of
 * that kind the signature knows to be required and the call did not give, in order; just the one
 * inspect named when the signature does not say.
 */
function missingMessage(qualname: string, sig: MethodSignature, body: Struct, named: string): string {
  const param = sig.params.find((p) => p.name === named);
  const keywordOnly = param?.kind === 'keyword_only';
  const sameKind = (p: ParamSpec): boolean => (keywordOnly ? p.kind === 'keyword_only' : isFillable(p));
  const known = sig.params.filter((p) => sameKind(p) && p.optional === false && !body.has(p.name));
  const names = known.some((p) => p.name === named) ? known.map((p) => p.name) : [named];
  const plural = names.length === 1 ? '' : 's';
  return (
    `${qualname}() missing ${names.length} required ${keywordOnly ? 'keyword-only' : 'positional'} ` +
    `argument${plural}: ${pythonNameList(names)}`
  );
}

/**
 * CPython's message for too many positional arguments: `BaseModel.write() takes 2 positional
 * arguments but 3 were given` (the records count as the first, `self`), `takes from 2 to 5 …` when
 * some have defaults, `… but 3 positional arguments (and 1 keyword-only argument) were given` when
 * keyword-only ones were given too.
 */
export function tooManyPositionalMessage(
  qualname: string,
  sig: MethodSignature,
  positionalGiven: number,
  kw: Struct,
): string {
  const fillable = sig.params.filter(isFillable);
  const most = fillable.length + 1;
  const withDefault = fillable.filter((p) => p.optional === true).length;
  const takes = withDefault > 0 ? `from ${most - withDefault} to ${most}` : `${most}`;
  const takesPlural = withDefault > 0 || most !== 1 ? 's' : '';
  const given = positionalGiven + 1;
  const kwOnlyGiven = sig.params.filter((p) => p.kind === 'keyword_only' && kw.has(p.name)).length;
  const givenText =
    kwOnlyGiven > 0
      ? `${given} positional argument${given === 1 ? '' : 's'} (and ${kwOnlyGiven} keyword-only argument${kwOnlyGiven === 1 ? '' : 's'}) were`
      : `${given} ${given === 1 ? 'was' : 'were'}`;
  return `${qualname}() takes ${takes} positional argument${takesPlural} but ${givenText} given`;
}
