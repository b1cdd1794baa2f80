/**
 * native mode (BRIDGE_CONFIG upstreams, `mode: native`): a legacy call whose database a native
 * upstream serves is sent on to the same path there as it came (its bytes, read already or still
 * arriving), and Odoo's answer streams back untouched. No JSON-2 request is made.
 *
 * The bridge still decodes what it needs: the database (the route), the call's kind (the log line,
 * metrics and the migration inventory, with its JSON-2 form when the method's signature is known
 * without asking Odoo: overrides and the built-in table), the freeze (refused before Odoo sees the
 * call), and the credential map: a login the map names must give its entry's password
 * (throttled), which is then passed on, since it is what the old server expects too. Everything
 * else (passwords of other users, API keys, uids) the old server checks itself, as before the
 * bridge. The admission limits, body limits and timeouts apply as to any call.
 *
 * Whether the answer was a fault is read from its first bytes (`<fault>` in XML-RPC, an `error`
 * member in JSON-RPC), for the log line and the inventory; the answer itself is not parsed.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { OdooFault, upstreamError, userError } from '../errors.ts';
import { freezeRefusal } from '../services/freeze.ts';
import { upstreamOf, useUpstream } from '../services/route.ts';
import type { ServiceResult } from '../services/service.ts';
import { toJson2Call } from '../translate/named-args.ts';
import type { Upstream } from '../upstream/routes.ts';
import { isStruct, valueResult, type Value } from '../values.ts';
import { watchAnswer } from './answer-watch.ts';
import { endToEnd } from './forward.ts';
import { BodyTooLarge } from './incoming-body.ts';
import type { BridgeUpstream, ServerCallContext as CallContext } from './parts.ts';

/** What happened to a call sent on: answered by Odoo (streamed back), or by the bridge itself. */
export type NativeOutcome =
  { kind: 'forwarded'; fault: OdooFault | undefined } | { kind: 'answer'; result: ServiceResult };

/** How much of an answer is looked at to tell a fault (its envelope's start). */
const SNIFF_BYTES = 2048;
/** A fault's envelope near the start: XML-RPC `<fault>`, JSON-RPC's `"error":` member. */
const FAULT_MARK = /<fault>|"error"\s*:/;

/** The native upstream of a call, or undefined: the bridge translates it (or no upstream serves it). */
export function nativeUpstream(
  ctx: CallContext,
  call: { service: string; method: string; params: readonly Value[] },
): Upstream<BridgeUpstream> | undefined {
  const routes = ctx.routes;
  if (routes.all().length === 1 && routes.first.mode === 'translate') return undefined;
  // db.list answers the union of every upstream's databases (services/db.ts), whichever is first.
  if (call.service === 'db' && call.method === 'list' && routes.all().length > 1) return undefined;
  const upstream = upstreamOf(call, ctx);
  return upstream instanceof OdooFault || upstream.mode !== 'native'
    ? undefined
    : (upstream as Upstream<BridgeUpstream>);
}

export async function serveNative(
  ctx: CallContext,
  req: IncomingMessage,
  res: ServerResponse,
  upstream: Upstream<BridgeUpstream>,
  call: { service: string; method: string; params: readonly Value[] },
  body: Buffer | AsyncIterable<Buffer>,
  incoming: { readonly ended: boolean; readonly failure: Error | undefined } = {
    ended: true,
    failure: undefined,
  },
): Promise<NativeOutcome> {
  useUpstream(ctx, upstream);
  note(ctx, call);
  // A request larger than the bridge reads before sending it on is known by its start only, and
  // the server reads all of it (a key repeated further on wins there): while any database is
  // frozen, such a request cannot be proven not to write one, and is refused.
  if (!Buffer.isBuffer(body) && ctx.freeze.any) {
    ctx.metrics.frozenRefusal();
    throw userError(
      'A database is frozen for an upgrade: requests larger than 64 KiB to a server the bridge does not translate for are refused until every database is unfrozen (odoo-rpc-bridge freeze); smaller calls and reads are served.',
    );
  }
  const refused = freezeRefusal(call, ctx.freeze);
  if (refused) {
    ctx.metrics.frozenRefusal();
    throw refused;
  }
  const p = call.params;
  if (
    call.service === 'common' &&
    (call.method === 'login' || call.method === 'authenticate') &&
    typeof p[0] === 'string' &&
    typeof p[1] === 'string' &&
    typeof p[2] === 'string'
  ) {
    const attempt = { db: p[0], login: p[1], password: p[2], client: ctx.client, requestId: ctx.requestId };
    // Throttled: AccessDenied, which a login answers as False (common.ts); so does a wrong password.
    const checked = await ctx.auth.checkMapped(attempt).catch((e: unknown) => {
      if (e instanceof OdooFault && e.kind === 'access_denied') return 'mismatch' as const;
      throw e;
    });
    if (checked === 'mismatch') return { kind: 'answer', result: valueResult(false) };
    if (checked === 'match') ctx.notes.verified = true;
  }
  const native = upstream.parts.native;
  if (!native) throw upstreamError(`upstream ${upstream.name} has no legacy endpoint`);
  const timeout =
    call.service === 'db'
      ? ctx.config.dbTimeoutMs
      : (upstream.settings.timeoutMs ?? ctx.config.upstreamTimeoutMs);
  // Origin-form only (`/xmlrpc/2/object`): an absolute-form target would give werkzeug its Host.
  const path = originForm(req.url);
  const abort = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  let answer;
  try {
    answer = await native.legacy(req, path, ctx.requestId, body, timeout, abort.signal);
  } catch (e) {
    // The client's own failures (too large, stalled, gone) are not Odoo's.
    if (e instanceof BodyTooLarge) throw e;
    if (incoming.failure) throw incoming.failure;
    const code = (e as { code?: string }).code ?? (e as Error).name;
    throw upstreamError(
      `Odoo at ${upstream.settings.url} could not be reached (${code}): upstream ${upstream.name}`,
    );
  }
  ctx.notes.upstreamStatus = answer.statusCode;
  const headers = endToEnd(answer.headers);
  headers['x-request-id'] = ctx.requestId;
  // Odoo answered before the request's end (an error, a proxy's 413): the connection is closed
  // after the answer, the rest of the request dropped meanwhile (legacy-call.ts).
  if (!incoming.ended) headers['connection'] = 'close';
  res.writeHead(answer.statusCode, headers);
  // A client that stops reading the answer is cut after BRIDGE_BODY_IDLE_TIMEOUT_MS, its place given back.
  watchAnswer(res, ctx.idle);
  let seen = '';
  let fault: OdooFault | undefined;
  const sniff = new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (seen.length < SNIFF_BYTES) {
        seen += chunk.subarray(0, SNIFF_BYTES - seen.length).toString('latin1');
        if (fault === undefined && FAULT_MARK.test(seen))
          fault = new OdooFault({ kind: 'generic', name: `fault from ${upstream.name}`, message: '' });
      }
      done(null, chunk);
    },
  });
  try {
    await pipeline(answer.body, sniff, res);
  } catch {
    // Odoo or the client went away mid-answer: cut the connection so nothing reads as complete.
    res.destroy();
  }
  return { kind: 'forwarded', fault };
}

/** The path and query of a request target, whatever its form. */
function originForm(url: string | undefined): string {
  const target = url ?? '/';
  if (target.startsWith('/')) return target;
  try {
    const u = new URL(target);
    return u.pathname + u.search;
  } catch {
    return '/';
  }
}

/** What the log line and the inventory note of a call sent on as it came. */
function note(ctx: CallContext, call: { service: string; method: string; params: readonly Value[] }): void {
  const p = call.params;
  if (typeof p[0] === 'string' && (call.service !== 'db' || call.method === 'db_exist')) ctx.notes.db = p[0];
  if (call.service !== 'object' || (call.method !== 'execute_kw' && call.method !== 'execute')) return;
  if (typeof p[1] === 'number') ctx.notes.uid = p[1];
  const [model, method] = [p[3], p[4]];
  if (typeof model !== 'string' || typeof method !== 'string') return;
  ctx.notes.model = model;
  ctx.notes.method = method;
  // The JSON-2 form for the inventory, when the signature is known without asking Odoo.
  const signature = ctx.signatures.known(model, method);
  if (!signature) return;
  const args = call.method === 'execute_kw' ? p[5] : p.slice(5);
  const kw = call.method === 'execute_kw' ? p[6] : undefined;
  try {
    const json2 = toJson2Call(
      model,
      method,
      Array.isArray(args) ? (args as Value[]) : [],
      isStruct(kw) ? kw : new Map(),
      signature,
    );
    ctx.json2 = { model, method, body: json2.body };
  } catch {
    // Arguments the signature does not take: the inventory keeps the call without its JSON-2 body.
  }
}
