/**
 * The legacy `object` service: `execute(db, uid, password, model, method, *args)` and
 * `execute_kw(db, uid, password, model, method, args, kw)` → `POST /json/2/<model>/<method>`.
 *
 * Order of checks as in Odoo (docs/wire.md §1.3): the uid is an int, an empty password is
 * Access Denied, execute_kw takes 1 or 2 trailing params, the password must authenticate that uid
 * (src/auth/authenticator.ts: the password is the uid's API key, or its credential's password); then
 * the model/method are resolved (by the upstream, which knows them), the positional arguments
 * are named, and the answer is passed on without being turned into objects.
 */
import type { Grant } from '../auth/authenticator.ts';
import { accessDenied, notJsonAnswer, pythonError, textStart, userError, type OdooFault } from '../errors.ts';
import { JsonSyntaxError } from '../protocol/json/parse.ts';
import { toPythonJson, toPythonJsonBytes } from '../protocol/json/stringify.ts';
import { isIdentifier, isModelName } from '../odoo-names.ts';
import type { MethodSignature } from '../signatures/method-signature.ts';
import { toJson2Call, type Json2Call } from '../translate/named-args.ts';
import { pythonBindingMessage, pythonQualname } from '../translate/python-call-errors.ts';
import { firstCreatedId } from '../translate/results.ts';
import { applyShim, isShimmedCall, shimFor, type OdooRelease, type ShimmedCall } from '../translate/shims.ts';
import { faultFromJson2, readJson2Error } from '../upstream/json2-errors.ts';
import type { UpstreamAnswer } from '../upstream/odoo-client.ts';
import {
  PyFloat,
  isStruct,
  jsonResult,
  pyTypeName,
  truthy,
  type CallResult,
  type Struct,
  type Value,
} from '../values.ts';
import type { CallContext, Service } from './service.ts';
import { frozenFault, isReadMethod } from './freeze.ts';
import { releaseOf } from './version.ts';

/** After JSON-2 refused an argument name the bridge produced: sent again, or not (why); a metric's label. */
export type SignatureDriftOutcome = 'retried' | 'unchanged' | 'override';

async function dispatchObject(
  kind: 'execute' | 'execute_kw',
  params: Value[],
  ctx: CallContext,
): Promise<CallResult> {
  if (params.length < 5)
    throw pythonError(
      'ValueError',
      `not enough values to unpack (expected at least 5, got ${params.length})`,
    );
  const [, , password, model, method, ...rest] = params as [Value, Value, Value, Value, Value, ...Value[]];
  const { db, uid } = objectCaller(params);
  ctx.notes.db = db;
  ctx.notes.uid = uid;

  let args: Value[];
  let kw: Struct;
  if (kind === 'execute') {
    args = rest;
    kw = new Map();
  } else {
    if (rest.length === 0 || rest.length > 2)
      throw pythonError(
        'ValueError',
        rest.length === 0
          ? 'not enough values to unpack (expected 2, got 1)'
          : 'too many values to unpack (expected 2)',
      );
    const [a, k = null] = rest;
    if (!Array.isArray(a))
      throw pythonError('TypeError', `execute_kw() args must be a list, not ${pyTypeName(a ?? null)}`);
    args = a;
    if (isStruct(k)) kw = k;
    else if (!truthy(k))
      kw = new Map(); // None, or an empty array some clients send for "no kwargs"
    else
      throw pythonError('TypeError', `call_kw() argument after ** must be a mapping, not ${pyTypeName(k)}`);
  }

  // Authentication (src/auth/authenticator.ts): the key to call Odoo with for this uid, which is
  // the password itself (pass-through) or the key held for the credential it matched (mapped).
  if (typeof password !== 'string') throw accessDenied();
  const grant = await ctx.auth.authorize({ db, uid, password, client: ctx.client, requestId: ctx.requestId });
  ctx.notes.auth = grant.via;
  ctx.notes.verified = true;
  if (grant.credential) ctx.notes.login = grant.credential.login;
  // Shadow mode (src/server/shadow.ts) sends the same call with the key to the upstream's own
  // legacy endpoint: kept for that call only, and only where shadow is on.
  if ((ctx.upstream?.settings.shadow ?? 0) > 0) ctx.apiKey = grant.apiKey;

  if (typeof model !== 'string' || !isModelName(model))
    throw userError(`Object ${typeof model === 'string' ? model : toPythonJson(model)} doesn't exist`);
  // A leading `_` is a private method, which Odoo refuses itself (with its own message).
  if (typeof method !== 'string' || !isIdentifier(method))
    throw pythonError(
      'AttributeError',
      `The method '${model}.${typeof method === 'string' ? method : toPythonJson(method)}' does not exist`,
    );
  ctx.notes.model = model;
  ctx.notes.method = method;
  // Upgrade day (freeze.ts): a call that may write never reaches a frozen database.
  if (ctx.freeze.any && !isReadMethod(method) && ctx.freeze.isFrozen(db)) {
    ctx.metrics.frozenRefusal();
    throw frozenFault(db, `${model}.${method}`);
  }

  // Compatibility shims (src/translate/shims.ts), each enabled in BRIDGE_CONFIG and version-aware:
  // a call the upstream's Odoo removed or changed becomes JSON-2 calls of what replaced it.
  const target: Target = { db, model, grant };
  const shims = ctx.config.file.shims;
  const shim = shimFor(method, shims)
    ? applyShim(method, args, kw, shims, { model, release: await upstreamRelease(ctx) })
    : undefined;
  if (!shim) {
    const { answer, call } = await callJson2(ctx, target, method, args, kw);
    if (call.singleCreate)
      return firstCreatedId(answer.text, { db, model, method, baseUrl: ctx.odoo.baseUrl });
    return jsonResult(answer.bytes);
  }
  for (let step: ShimmedCall = shim; ;) {
    const { answer } = await callJson2(ctx, target, step.method, step.args, step.kw);
    const read = step.then ?? step.mapResult;
    if (!read) return jsonResult(answer.bytes);
    let next: ShimmedCall | CallResult;
    try {
      next = read(answer.text);
    } catch (e) {
      if (!(e instanceof JsonSyntaxError)) throw e;
      throw notJsonAnswer(ctx.odoo.baseUrl, `${model}.${step.method}`, textStart(answer.text));
    }
    if (!isShimmedCall(next)) return next;
    step = next;
  }
}

interface Target {
  db: string;
  model: string;
  grant: Grant;
}

/** The upstream's (major, minor) for the version-aware shims; undefined when it cannot be read. */
async function upstreamRelease(ctx: CallContext): Promise<OdooRelease | undefined> {
  try {
    return releaseOf(await ctx.version.get());
  } catch (e) {
    ctx.log.warn(
      { requestId: ctx.requestId, err: e instanceof Error ? e.message : String(e) },
      'cannot read the upstream version for the compatibility shims; taking it as 19.0',
    );
    return undefined;
  }
}

/**
 * One JSON-2 call: name the positional arguments, send, and answer Odoo's JSON text (status 200),
 * or throw the legacy fault for its error. A 422 refusing an argument name the bridge produced
 * from a positional argument (signature drift) makes it describe the method again, once, and send
 * the call again if the new description names the arguments differently: JSON-2 binds the
 * arguments before it runs the method (`addons/rpc/controllers/json2.py`), so such a refusal
 * proves the method did not run.
 */
async function callJson2(
  ctx: CallContext,
  t: Target,
  method: string,
  args: Value[],
  kw: Struct,
): Promise<{ answer: UpstreamAnswer; call: Json2Call }> {
  const { db, model, grant } = t;
  const { apiKey } = grant;
  // Overrides and the built-in table without an await; described methods through the registry's cache.
  let signature =
    ctx.signatures.known(model, method) ?? (await resolveSignature(db, model, method, args, apiKey, ctx));
  let call = toJson2Call(model, method, args, kw, signature);
  ctx.json2 = { model, method, body: call.body }; // for the migration inventory
  // The client adds the time it spends on each request (retries included) to the notes' upstreamMs.
  const options = { db, apiKey, requestId: ctx.requestId, timing: ctx.notes };
  let answer = await ctx.odoo.json2(model, method, toPythonJsonBytes(call.body), options);
  const argument = answer.status === 422 ? driftedArgument(answer, call, kw, signature) : undefined;
  if (argument !== undefined) {
    let outcome: SignatureDriftOutcome = 'override';
    if (signature.source !== 'override') {
      outcome = 'unchanged';
      const fresh = await ctx.signatures.refresh({ db, model, method, apiKey, requestId: ctx.requestId });
      if (fresh.found && fresh.signature.source !== 'override') {
        let again: Json2Call | undefined;
        try {
          again = toJson2Call(model, method, args, kw, fresh.signature);
        } catch {
          again = undefined; // the new description cannot take these arguments: keep Odoo's answer
        }
        if (again && toPythonJson(again.body) !== toPythonJson(call.body)) {
          outcome = 'retried';
          signature = fresh.signature;
          call = again;
          ctx.json2 = { model, method, body: call.body };
          answer = await ctx.odoo.json2(model, method, toPythonJsonBytes(call.body), options);
        }
      }
    }
    ctx.metrics.signatureDrift(outcome);
    ctx.log.warn(
      { requestId: ctx.requestId, db, model, method, argument, outcome },
      outcome === 'retried'
        ? 'JSON-2 refused an argument name the bridge produced; the method was described again and the call sent again'
        : 'JSON-2 refused an argument name the bridge produced; the call was not sent again',
    );
  }
  ctx.notes.signature = signature.source;
  ctx.notes.upstreamStatus = answer.status;
  if (answer.status === 401) ctx.auth.keyRejected(grant, ctx.requestId);
  const site = { db, model, method, baseUrl: ctx.odoo.baseUrl };
  if (answer.status !== 200)
    throw bindingFault(answer, model, method, signature, call.body) ?? faultFromJson2(answer, site);
  if (!answer.contentType.includes('json'))
    throw notJsonAnswer(
      ctx.odoo.baseUrl,
      `${model}.${method}`,
      `its content type is ${answer.contentType || 'missing'}`,
    );
  return { answer, call };
}

/**
 * JSON-2's argument-binding refusal (a 422 in `inspect`'s words: the method did not run) as the
 * TypeError legacy Odoo's Python call gives for the same call (translate/python-call-errors.ts).
 */
function bindingFault(
  answer: UpstreamAnswer,
  model: string,
  method: string,
  signature: MethodSignature,
  body: Struct,
): OdooFault | undefined {
  if (answer.status !== 422) return undefined;
  const err = readJson2Error(answer);
  if (err?.name !== 'werkzeug.exceptions.UnprocessableEntity') return undefined;
  const qualname = pythonQualname(model, method, signature);
  const message = pythonBindingMessage(err.message, qualname, signature, body);
  return message === undefined ? undefined : pythonError('TypeError', message);
}

/**
 * The argument a 422 from JSON-2's argument binding names, when the bridge produced the call's
 * argument names from positional arguments (not when the client named them all): inspect's
 * `got an unexpected keyword argument 'x'` for a name the bridge produced, or `missing a required
 * argument: 'y'` for one it did not send and does not know (the method's parameter has another
 * name). Only werkzeug's UnprocessableEntity carries these (a UserError is a 422 too, and says
 * other things).
 */
function driftedArgument(
  answer: UpstreamAnswer,
  call: Json2Call,
  kw: Struct,
  signature: MethodSignature,
): string | undefined {
  const err = readJson2Error(answer);
  if (err?.name !== 'werkzeug.exceptions.UnprocessableEntity') return undefined;
  const produced = [...call.body.keys()].filter((k) => k !== 'ids' && k !== 'context' && !kw.has(k));
  if (produced.length === 0) return undefined;
  const unexpected = /^got an unexpected keyword argument '([^']+)'$/.exec(err.message)?.[1];
  if (unexpected !== undefined) return produced.includes(unexpected) ? unexpected : undefined;
  // A parameter the bridge's description has too was simply not given (too few arguments).
  const missing = /^missing a required argument: '([^']+)'$/.exec(err.message)?.[1];
  if (missing === undefined || call.body.has(missing)) return undefined;
  return signature.params.some((p) => p.name === missing) ? undefined : missing;
}

/**
 * The signature to name the positional arguments with. When nobody describes the method, a call
 * with at most one positional argument still works (that argument is the record ids), and a call
 * with more gets a fault saying how to describe the method.
 */
async function resolveSignature(
  db: string,
  model: string,
  method: string,
  args: Value[],
  apiKey: string,
  ctx: CallContext,
): Promise<MethodSignature> {
  const answer = await ctx.signatures.lookup({ db, model, method, apiKey, requestId: ctx.requestId });
  if (answer.found) return answer.signature;
  if (args.length === 0) return { apiModel: true, params: [], source: 'none' };
  if (args.length === 1) return { apiModel: false, params: [], source: 'none' };
  throw unnamedArguments(model, method, answer.reason);
}

function unnamedArguments(
  model: string,
  method: string,
  reason: 'not-described' | 'docs-unavailable',
): OdooFault {
  const why =
    reason === 'docs-unavailable'
      ? `the bridge cannot read the server's method descriptions with this API key (its user is not in the ` +
        `"Technical Documentation" group): set ODOO_DOCS_KEY to the key of such a user, or`
      : `the server does not describe it (api_doc), so`;
  return pythonError(
    'TypeError',
    `cannot pass positional arguments to ${model}.${method}: JSON-2 takes arguments by name, and ${why} ` +
      `declare it in BRIDGE_CONFIG: signatures: {${model}: {${method}: {params: [<name>, ...], model: false}}}, ` +
      `or call it with keyword arguments`,
  );
}

/** Python's `int(uid)`: ints, numeric strings, floats (truncated) and bools pass; None does not. */
/**
 * The caller an object call names, checked in Odoo's order: the uid is an int (ValueError or
 * TypeError), an empty password is Access Denied, the db is a string. Also used on the first
 * parameters of a large request before the rest is read (services/early-auth.ts).
 */
export function objectCaller(params: readonly Value[]): { db: string; uid: number; password: Value } {
  const [db = null, uidParam = null, password = null] = params;
  const uid = pyInt(uidParam);
  if (!truthy(password)) throw accessDenied();
  if (typeof db !== 'string')
    throw pythonError('TypeError', `the database name must be a string, not ${pyTypeName(db)}`);
  return { db, uid, password };
}

function pyInt(v: Value): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof PyFloat && Number.isFinite(v.value)) return Math.trunc(v.value);
  if (typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v)) return Number(v.trim());
  if (typeof v === 'string')
    throw pythonError('ValueError', `invalid literal for int() with base 10: '${v}'`);
  throw pythonError(
    'TypeError',
    `int() argument must be a string, a bytes-like object or a real number, not '${pyTypeName(v)}'`,
  );
}

export const objectService: Service = {
  functions: {
    execute: (params, ctx) => dispatchObject('execute', params, ctx),
    execute_kw: (params, ctx) => dispatchObject('execute_kw', params, ctx),
  },
  // Odoo: `NameError("Method not available <name>")` for any other object method.
  methodMissing: (method) => pythonError('NameError', `Method not available ${method}`),
};
