/**
 * Per-call plumbing shared by the protocol routes: the request id, the context handed to the
 * services, turning any error into an `OdooFault`, and the one log line per call.
 */
import type { CallSpan } from './tracing.ts';
import type { IncomingMessage } from 'node:http';
import { internalError, OdooFault } from '../errors.ts';
import { REDACTED_KEYS, writeFlatLine, type FlatFields } from '../log.ts';
import { maskName, maskText, secretsOf } from '../services/secrets.ts';
import type { LegacyCall } from '../services/service.ts';
import type { BridgeParts, ServerCallContext as CallContext } from './parts.ts';
import { clientAddressOf } from './client-address.ts';
import { requestIdOf } from './request-id.ts';

/**
 * The call's context: the bridge's parts, read through the prototype (not copied: a call in
 * flight holds this object the whole time it waits for Odoo, and under load every young
 * collection copies it), and the call's own fields.
 */
export function newCallContext(parts: BridgeParts, req: IncomingMessage): CallContext {
  const ctx = Object.create(parts) as CallContext;
  ctx.requestId = requestIdOf(req);
  ctx.client = clientAddressOf(req, parts.config.trustedProxies);
  ctx.notes = {};
  ctx.json2 = undefined;
  return ctx;
}

/** Any error as the fault a legacy client gets; bugs are logged with their stack, never sent. */
export function asFault(e: unknown, ctx: CallContext): OdooFault {
  if (e instanceof OdooFault) return e;
  ctx.log.error({ requestId: ctx.requestId, err: e }, 'internal error');
  return internalError(
    `internal error in odoo-rpc-bridge (request id ${ctx.requestId}); the bridge's log has the details`,
  );
}

export interface CallOutcome {
  protocol: 'xmlrpc/2' | 'xmlrpc' | 'jsonrpc';
  call: LegacyCall | undefined;
  fault: OdooFault | undefined;
  startedAt: bigint;
  /** The call's trace span, when tracing is on (tracing.ts): ended here. */
  span?: CallSpan | undefined;
}

const NO_SECRETS: readonly string[] = [];

/**
 * One line per call: what was called, by whom, how it ended. No parameters, no secrets: the
 * strings that may be secrets (services/secrets.ts: the password wherever it is, and the other
 * credentials of a caller not verified) are masked in every field. The call's metrics and its
 * inventory entry are recorded here too, so that each call is counted once, in one place.
 */
export function logCall(ctx: CallContext, req: IncomingMessage, o: CallOutcome): void {
  const ms = Number(process.hrtime.bigint() - o.startedAt) / 1e6;
  const notes = ctx.notes;
  // A verified call that succeeded names nothing but what was verified: nothing to mask.
  const secrets = notes.verified && !o.fault ? NO_SECRETS : secretsOf(o.call, notes, ctx.known);
  const db = secrets.length === 0 ? notes.db : maskName(notes.db, secrets);
  ctx.metrics.call({
    protocol: o.protocol,
    service: o.call?.service,
    method: o.call?.method,
    outcome: o.fault ? 'fault' : 'ok',
    seconds: ms / 1000,
    db,
    model: notes.model,
    modelMethod: notes.method,
  });
  o.span?.end({
    protocol: o.protocol,
    service: o.call?.service,
    function: o.call?.method,
    db,
    model: notes.model,
    method: notes.method,
    fault: o.fault?.pyName,
  });
  if (o.call && ctx.inventory.enabled)
    ctx.inventory.record({
      protocol: o.protocol,
      service: o.call.service,
      function: o.call.method,
      // Only a verified caller's parameters say anything about the call (its model and method).
      params: notes.verified ? o.call.params : undefined,
      notes: db === notes.db ? notes : { ...notes, db },
      json2: ctx.json2,
      fault: o.fault?.pyName,
      userAgent: req.headers['user-agent'],
      address: ctx.client,
    });
  // Written by writeFlatLine (log.ts: one JSON.stringify, no redaction pass): the keys are the ones
  // below and the notes' (never a secret's name; a note named like one is left out all the same).
  const line: FlatFields = {
    requestId: ctx.requestId,
    protocol: o.protocol,
    service: o.call?.service,
    call: o.call?.method,
  };
  const fields = notes as FlatFields;
  for (const k in fields) if (!REDACTED_KEYS.has(k)) line[k] = fields[k];
  if (secrets.length > 0) {
    line['db'] = db;
    if (typeof line['login'] === 'string') line['login'] = maskName(line['login'], secrets);
  }
  line['client'] = ctx.client;
  line['userAgent'] = req.headers['user-agent'];
  line['outcome'] = o.fault ? 'fault' : 'ok';
  if (o.fault) {
    line['fault'] = o.fault.pyName;
    // Masked before it is cut, so that no part of a secret is left at the cut.
    const message = secrets.length === 0 ? o.fault.message : maskText(o.fault.message, secrets);
    line['faultMessage'] = message.slice(0, 300);
  }
  line['ms'] = Math.round(ms * 10) / 10;
  writeFlatLine(ctx.log, line, 'legacy call');
  // The call is over: an upstream that left the config may close now (src/upstream/routes.ts).
  ctx.upstream?.release();
}
