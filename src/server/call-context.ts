/**
 * Per-call plumbing shared by the protocol routes: the request id, the context handed to the
 * services, turning any error into an `OdooFault`, and the one log line per call.
 */
import type { IncomingMessage } from 'node:http';
import { OdooFault } from '../errors.ts';
import { REDACTED_KEYS, writeFlatLine, type FlatFields } from '../log.ts';
import type { BridgeParts, CallContext, LegacyCall } from '../services/service.ts';
import { requestIdOf } from './request-id.ts';

/**
 * The call's context: the bridge's parts, read through the prototype (not copied: a call in
 * flight holds this object the whole time it waits for Odoo, and under load every young
 * collection copies it), and the call's own fields.
 */
export function newCallContext(parts: BridgeParts, req: IncomingMessage): CallContext {
  const ctx = Object.create(parts) as CallContext;
  ctx.requestId = requestIdOf(req);
  ctx.client = req.socket.remoteAddress;
  ctx.notes = {};
  ctx.json2 = undefined;
  return ctx;
}

/** Any error as the fault a legacy client gets; bugs are logged with their stack, never sent. */
export function asFault(e: unknown, ctx: CallContext): OdooFault {
  if (e instanceof OdooFault) return e;
  ctx.log.error({ requestId: ctx.requestId, err: e }, 'internal error');
  return new OdooFault({
    kind: 'generic',
    name: 'odoo_rpc_bridge.InternalError',
    message: `internal error in odoo-rpc-bridge (request id ${ctx.requestId}); the bridge's log has the details`,
  });
}

export interface CallOutcome {
  protocol: 'xmlrpc/2' | 'xmlrpc' | 'jsonrpc';
  call: LegacyCall | undefined;
  fault: OdooFault | undefined;
  startedAt: bigint;
}

/**
 * One line per call: what was called, by whom, how it ended. No parameters, no secrets. The
 * call's metrics are recorded here too, so that each call is counted once, in one place.
 */
export function logCall(ctx: CallContext, req: IncomingMessage, o: CallOutcome): void {
  const ms = Number(process.hrtime.bigint() - o.startedAt) / 1e6;
  ctx.metrics.call({
    protocol: o.protocol,
    service: o.call?.service,
    method: o.call?.method,
    outcome: o.fault ? 'fault' : 'ok',
    seconds: ms / 1000,
    db: ctx.notes.db,
    model: ctx.notes.model,
    modelMethod: ctx.notes.method,
  });
  if (o.call && ctx.inventory.enabled)
    ctx.inventory.record({
      protocol: o.protocol,
      service: o.call.service,
      function: o.call.method,
      params: o.call.params,
      notes: ctx.notes,
      json2: ctx.json2,
      fault: o.fault?.pyName,
      userAgent: req.headers['user-agent'],
      address: req.socket.remoteAddress,
    });
  // Written by writeFlatLine (log.ts: one JSON.stringify, no redaction pass): the keys are the ones
  // below and the notes' (never a secret's name; a note named like one is left out all the same).
  const line: FlatFields = {
    requestId: ctx.requestId,
    protocol: o.protocol,
    service: o.call?.service,
    call: o.call?.method,
  };
  const notes = ctx.notes as FlatFields;
  for (const k in notes) if (!REDACTED_KEYS.has(k)) line[k] = notes[k];
  line['client'] = req.socket.remoteAddress;
  line['userAgent'] = req.headers['user-agent'];
  line['outcome'] = o.fault ? 'fault' : 'ok';
  if (o.fault) {
    line['fault'] = o.fault.pyName;
    line['faultMessage'] = o.fault.message.slice(0, 300);
  }
  line['ms'] = Math.round(ms * 10) / 10;
  writeFlatLine(ctx.log, line, 'legacy call');
}
