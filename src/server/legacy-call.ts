/**
 * One legacy call over HTTP, whatever the protocol: read the body → decode → dispatch → encode →
 * answer → log. The protocol's part is a {@link LegacyCodec} (xmlrpc-route.ts, jsonrpc-route.ts);
 * everything else is here, once.
 *
 * What a request may hold before its sender is known (server/incoming-body.ts): its first
 * {@link PREFIX_BYTES}. Every ordinary call fits and is served as it always was. A larger one is
 * decoded as far as its credentials, which are verified (services/early-auth.ts) before the rest
 * is read; a db.restore streams its backup instead (server/db-streams.ts). A call refused early
 * has the rest of its request dropped unread before it is answered, since legacy clients send
 * their whole request before reading the answer; past BRIDGE_MAX_BODY_BYTES the connection is
 * closed instead.
 */
import { confineLargeTexts } from '../protocol/large-texts.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { InvalidUpstreamJson, notJsonAnswer, OdooFault, requestTimeout } from '../errors.ts';
import type { EncodedAnswer } from '../protocol/chunk-pool.ts';
import type { SplitOptions } from '../protocol/streamed-call.ts';
import type { StringEnvelope } from '../protocol/streamed-answer.ts';
import { restoreFromUpload } from '../services/db.ts';
import { dispatch } from '../services/dispatch.ts';
import { upstreamOf, useUpstream } from '../services/route.ts';
import { verifyCaller, type CallHead, type EarlyVerdict } from '../services/early-auth.ts';
import type { LegacyCall, ServiceResult } from '../services/service.ts';
import type { BridgeParts, ServerCallContext as CallContext } from './parts.ts';
import type { CallResult } from '../values.ts';
import { Overloaded, overloadedFault, RETRY_AFTER_SECONDS } from './admission.ts';
import { asFault, logCall, newCallContext, type CallOutcome } from './call-context.ts';
import type { CallSpan } from './tracing.ts';
import { restoreLimits, unverifiedTooLarge, writeStreamedAnswer, type RestoreInput } from './db-streams.ts';
import { BodyStalled, BodyTooLarge, bodyTooLargeFault, IncomingBody, PREFIX_BYTES } from './incoming-body.ts';
import { watchAnswer } from './answer-watch.ts';
import { closeAfterLinger } from './linger.ts';
import { nativeUpstream, serveNative } from './native-route.ts';
import { sendChunks } from './send-answer.ts';

/** An answer outside the protocol's envelope (JSON-RPC's 400 and 415). */
export interface HttpAnswer {
  status: number;
  contentType: string;
  headers: Readonly<Record<string, string>>;
  body: string;
}

/** What differs between XML-RPC and JSON-RPC. One codec per request (JSON-RPC's keeps the id). */
export interface LegacyCodec {
  readonly protocol: CallOutcome['protocol'];
  readonly contentType: string;
  /** The whole request (one buffer, or chunks) as a call. Throws the fault (or HTTP answer) Odoo gives for a bad one. */
  decode(body: Buffer | readonly Buffer[]): LegacyCall;
  /** The start of a large request: its service, method and first parameters; undefined when unreadable. */
  head(prefix: Buffer): CallHead | undefined;
  /** db.restore, its backup streamed from `source`; undefined when its shape cannot stream. */
  splitRestore(source: AsyncIterable<Buffer>, limits: SplitOptions): Promise<RestoreInput | undefined>;
  /** Sees the rest of a request dropped unread (JSON-RPC: its id is at the end). */
  dropped?(chunk: Buffer): void;
  result(result: CallResult): string | EncodedAnswer;
  fault(fault: OdooFault): string;
  /** The answer around a string written as it arrives (db.dump). */
  envelope(): StringEnvelope;
  /** `e` as an HTTP answer outside the envelope, when it is one. */
  httpAnswer(e: unknown): HttpAnswer | undefined;
}

const UNVERIFIABLE: EarlyVerdict = { kind: 'unverifiable' };

export function serveLegacyCall(
  parts: BridgeParts,
  req: IncomingMessage,
  res: ServerResponse,
  codec: LegacyCodec,
): Promise<void> {
  const tracing = parts.tracing;
  if (tracing) return tracing.inCall(req.headers, (span) => serveCall(parts, req, res, codec, span));
  return serveCall(parts, req, res, codec, undefined);
}

async function serveCall(
  parts: BridgeParts,
  req: IncomingMessage,
  res: ServerResponse,
  codec: LegacyCodec,
  span: CallSpan | undefined,
): Promise<void> {
  const startedAt = process.hrtime.bigint();
  const ctx = newCallContext(parts, req);
  const refused = parts.admission.enter(ctx.client);
  const body = new IncomingBody(req, parts);
  let call: LegacyCall | undefined;
  let result: ServiceResult | undefined;
  let failure: unknown;
  let restore: RestoreInput | undefined;
  let large = false;
  try {
    try {
      if (refused) throw new Overloaded(refused);
      const prefix = await body.prefix();
      // A call whose database a native upstream serves is sent on as it came (native-route.ts).
      const head = body.ended ? undefined : codec.head(prefix);
      const whole = body.ended ? codec.decode(prefix) : undefined;
      const seen = whole ?? head;
      const native = seen ? nativeUpstream(ctx, seen) : undefined;
      if (native && seen) {
        call = whole ?? { service: seen.service, method: seen.method, params: [...seen.params] };
        const restoring = seen.service === 'db' && seen.method === 'restore';
        const limit = restoring
          ? parts.config.maxRestoreBytes || Number.POSITIVE_INFINITY
          : parts.config.maxBodyBytes;
        const sent = await serveNative(
          ctx,
          req,
          res,
          native,
          seen,
          whole ? prefix : body.chunks(prefix, limit),
          body,
        );
        if (sent.kind === 'forwarded') {
          if (!body.ended) {
            // Answered before its end (`Connection: close` sent): the rest is read and dropped.
            lingerAfterAnswer(req);
            void body.drain(Number.POSITIVE_INFINITY);
          }
          logCall(ctx, req, { protocol: codec.protocol, call, fault: sent.fault, startedAt, span });
          return;
        }
        result = sent.result;
      } else if (whole) {
        call = whole;
        result = await dispatch(call, ctx);
      } else {
        if (head?.service === 'db' && head.method === 'restore') {
          // db.restore: Odoo checks the master password before the backup streams to it.
          call = { service: 'db', method: 'restore', params: [] };
          // Its database's upstream (the streamed path does not go through dispatch).
          const upstream = upstreamOf(head, ctx);
          if (upstream instanceof OdooFault) throw upstream;
          useUpstream(ctx, upstream);
          restore = await codec.splitRestore(body.chunks(prefix), restoreLimits(parts));
          if (!restore) throw unverifiedTooLarge();
          result = await restoreFromUpload(restore.upload, ctx);
        } else {
          const verdict = head ? await verifyCaller(head, ctx) : UNVERIFIABLE;
          if (verdict.kind === 'verified') {
            call = codec.decode(await body.rest(prefix));
            confineLargeTexts(call.service, call.method, call.params);
            result = await dispatch(call, ctx);
          } else {
            if (head) call = { service: head.service, method: head.method, params: [...head.params] };
            if (verdict.kind === 'unverifiable') throw unverifiedTooLarge();
            if (verdict.answer instanceof OdooFault) throw verdict.answer;
            result = verdict.answer;
          }
        }
      }
      if (result.kind === 'base64-stream') {
        // db.dump: the backup streams from Odoo into the answer, cut if the client stops reading.
        watchAnswer(res, parts.idle);
        const fault = await writeStreamedAnswer(res, codec.envelope(), result, ctx);
        logCall(ctx, req, { protocol: codec.protocol, call, fault, startedAt, span });
        return;
      }
    } catch (e) {
      failure = e;
    }
    const outcome = failure === undefined ? OK : classify(failure, parts, codec, ctx);
    // The rest of a request answered before its end is dropped first (never held): legacy clients
    // send their whole request before they read the answer.
    let close = outcome.close;
    if (restore || (!body.ended && !res.destroyed))
      close = await dropRest(parts, req, res, codec, body, restore, failure, close);
    large = writeAnswer(req, res, codec, ctx, { call, result, failure, startedAt, span }, outcome, close);
  } finally {
    // The call's bytes are given back, and its place: at once, or for a large answer once the
    // client has read it (answer-watch.ts; a small one is in the system's socket buffer by now).
    body.release();
    if (!refused) {
      if (large && !res.destroyed) res.once('close', () => parts.admission.leave(ctx.client));
      else parts.admission.leave(ctx.client);
    }
  }
}

/** How a call that failed is answered: a fault or an HTTP answer, and how the connection ends. */
interface Failed {
  fault: OdooFault | undefined;
  http: HttpAnswer | undefined;
  close: boolean;
  retryAfter: boolean;
}

const OK: Failed = Object.freeze({
  fault: undefined,
  http: undefined,
  close: false,
  retryAfter: false,
}) as Failed;

function classify(e: unknown, parts: BridgeParts, codec: LegacyCodec, ctx: CallContext): Failed {
  const out: Failed = { fault: undefined, http: codec.httpAnswer(e), close: false, retryAfter: false };
  if (out.http !== undefined) return out;
  if (e instanceof BodyTooLarge) {
    out.fault = bodyTooLargeFault(e, parts.config);
    out.close = true;
  } else if (e instanceof Overloaded) {
    out.fault = overloadedFault(e.why);
    out.retryAfter = true;
  } else if (e instanceof BodyStalled) {
    out.fault = requestTimeout(e.message);
    out.close = true;
  } else out.fault = asFault(e, ctx);
  return out;
}

/**
 * Reads and drops what is left of a request answered before its end; answers whether the
 * connection must be closed after the answer. A call refused before it was admitted drops at most
 * a prefix's worth, any other BRIDGE_MAX_BODY_BYTES; past that, the connection is closed.
 */
async function dropRest(
  parts: BridgeParts,
  req: IncomingMessage,
  res: ServerResponse,
  codec: LegacyCodec,
  body: IncomingBody,
  restore: RestoreInput | undefined,
  e: unknown,
  closing: boolean,
): Promise<boolean> {
  let close = closing;
  if (restore) {
    if (!(await restore.discard(parts.config.maxBodyBytes))) close = true;
  } else if (!close && !body.ended && !res.destroyed) {
    const limit = e instanceof Overloaded && e.why !== 'bytes' ? PREFIX_BYTES : parts.config.maxBodyBytes;
    if (!(await body.drain(limit, codec.dropped?.bind(codec)))) close = true;
  }
  if (close && !body.ended && !res.destroyed) {
    // Answered before the request's end, with more to come: the answer goes out, then the rest
    // is read and dropped for LINGER_MS more before the connection is closed (linger.ts).
    lingerAfterAnswer(req);
    void body.drain(Number.POSITIVE_INFINITY);
  }
  return close;
}

interface Outcome {
  call: LegacyCall | undefined;
  result: ServiceResult | undefined;
  failure: unknown;
  startedAt: bigint;
  span: CallSpan | undefined;
}

/** Writes the answer and the call's log line; true when it is a large one, held until read. */
/** Below this, an answer is written and forgotten; above, it is counted and watched until read. */
const SMALL_ANSWER_BYTES = 16 * 1024;

function writeAnswer(
  req: IncomingMessage,
  res: ServerResponse,
  codec: LegacyCodec,
  ctx: CallContext,
  o: Outcome,
  f: Failed,
  close: boolean,
): boolean {
  let fault = f.fault;
  let large = false;
  let out: string | EncodedAnswer;
  let status = 200;
  let contentType = codec.contentType;
  if (f.http) {
    status = f.http.status;
    contentType = f.http.contentType;
    out = f.http.body;
  } else if (fault) out = codec.fault(fault);
  else {
    try {
      out = codec.result(o.result as CallResult);
    } catch (err) {
      // Odoo's answer was not JSON after all: said as wherever else the bridge finds it.
      const what =
        ctx.notes.model && ctx.notes.method ? `${ctx.notes.model}.${ctx.notes.method}` : 'the call';
      fault =
        err instanceof InvalidUpstreamJson
          ? notJsonAnswer(ctx.odoo.baseUrl, what, err.detail)
          : asFault(err, ctx);
      out = codec.fault(fault);
    }
  }
  if (!res.headersSent && !res.destroyed) {
    if (close) res.setHeader('connection', 'close');
    if (f.retryAfter) res.setHeader('retry-after', String(RETRY_AFTER_SECONDS));
    if (f.http) for (const [name, value] of Object.entries(f.http.headers)) res.setHeader(name, value);
    res.writeHead(status, {
      'content-type': contentType,
      'content-length': typeof out === 'string' ? Buffer.byteLength(out) : out.length,
      'x-request-id': ctx.requestId,
    });
    if (typeof out === 'string') res.end(out);
    else if (!out.pooled && out.chunks.length === 1 && out.length < SMALL_ANSWER_BYTES) {
      // A small answer fits the socket's buffers: nothing to count or watch.
      res.end(out.chunks[0]);
    } else {
      // A large answer is counted in the in-flight budget until the client has read it, and cut
      // if the client stops reading it (answer-watch.ts).
      const size = out.length;
      ctx.admission.hold(size);
      res.once('close', () => ctx.admission.release(size));
      watchAnswer(res, ctx.idle);
      sendChunks(res, out);
      large = true;
    }
  } else if (typeof out !== 'string') out.release();
  // Shadow mode (shadow.ts): after the answer, never before; before logCall, which gives the
  // call's upstream back (the shadow call holds it too).
  ctx.shadow.after(ctx, req, codec.protocol, o.call, o.result, fault);
  logCall(ctx, req, { protocol: codec.protocol, call: o.call, fault, startedAt: o.startedAt, span: o.span });
  return large;
}

/**
 * After the answer to a request that is still arriving: node closes the connection once the
 * answer is written (`Connection: close`); here it half-closes instead and lingers (linger.ts).
 */
function lingerAfterAnswer(req: IncomingMessage): void {
  const socket = req.socket as Socket & { destroySoon?: () => void };
  socket.destroySoon = () => {
    if (socket.writable) socket.end();
    closeAfterLinger(socket);
  };
}
