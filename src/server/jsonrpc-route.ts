/**
 * `POST /jsonrpc`: `{"jsonrpc": "2.0", "method": "call", "params": {service, method, args}, "id"}`,
 * the JSON-RPC codec of server/legacy-call.ts. Answers and errors are HTTP 200 JSON-RPC envelopes
 * (error code 0, "Odoo Server Error"), except where Odoo itself answers outside the envelope: 400
 * for invalid JSON, 415 for a wrong content type.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { releaseNothing, type EncodedAnswer } from '../protocol/chunk-pool.ts';
import {
  JsonRpcHttpError,
  decodeJsonRpcRequest,
  encodeJsonRpcError,
  jsonRpcResultBytes,
} from '../protocol/jsonrpc.ts';
import { checkJson } from '../protocol/xmlrpc/json-to-xml.ts';
import { decodeJsonRpcHead, idFromTail, TAIL_BYTES } from '../protocol/jsonrpc-stream.ts';
import { jsonRpcStringEnvelope } from '../protocol/streamed-answer.ts';
import { CREDENTIAL_PARAMS } from '../services/early-auth.ts';
import type { BridgeParts } from './parts.ts';
import type { CallResult, Value } from '../values.ts';
import { splitJsonRpcRestore } from './db-streams.ts';
import { serveLegacyCall, type LegacyCodec } from './legacy-call.ts';

export function serveJsonRpc(parts: BridgeParts, req: IncomingMessage, res: ServerResponse): Promise<void> {
  return serveLegacyCall(parts, req, res, new JsonRpcCodec(req.headers['content-type']));
}

/** The codec of one request: it remembers the request's id, which every answer repeats. */
class JsonRpcCodec implements LegacyCodec {
  readonly protocol = 'jsonrpc';
  readonly contentType = 'application/json; charset=utf-8';
  private readonly requestType: string | undefined;
  private id: Value = null;
  /** The last bytes of a request dropped unread, where its id is. */
  private tail: Buffer | undefined;

  constructor(requestType: string | undefined) {
    this.requestType = requestType;
  }

  decode(body: Buffer | readonly Buffer[]) {
    const decoded = decodeJsonRpcRequest(body, this.requestType);
    this.id = decoded.ok ? decoded.request.id : decoded.id;
    if (!decoded.ok) throw decoded.fault;
    const { service, method, args } = decoded.request;
    return { service, method, params: args };
  }

  head(prefix: Buffer) {
    let decoded;
    try {
      decoded = decodeJsonRpcHead(prefix, this.requestType, CREDENTIAL_PARAMS);
    } catch (e) {
      // The content type is the request's, whatever its body: its 415 stands. Bad JSON is left
      // for the whole request to show (it is never read if no caller is verified first).
      if (e instanceof JsonRpcHttpError && e.status === 415) throw e;
      return undefined;
    }
    if (decoded === undefined) return undefined;
    this.id = decoded.ok ? decoded.request.id : decoded.id;
    if (!decoded.ok) return undefined;
    const { service, method, args } = decoded.request;
    return { service, method, params: args };
  }

  splitRestore(source: AsyncIterable<Buffer>, limits: Parameters<LegacyCodec['splitRestore']>[1]) {
    return splitJsonRpcRestore(source, limits, this.requestType, (id) => (this.id = id));
  }

  dropped(chunk: Buffer): void {
    const kept = this.tail === undefined ? chunk : Buffer.concat([this.tail, chunk]);
    this.tail = Buffer.from(kept.subarray(Math.max(0, kept.length - TAIL_BYTES)));
  }

  result(result: CallResult): EncodedAnswer {
    // The upstream's JSON is spliced into the answer as is, so it must be JSON (Python's: NaN and
    // Infinity included): checked by the same reader as XML-RPC's, writing nothing.
    if (result.kind === 'json') checkJson(result.bytes);
    const { chunks, length } = jsonRpcResultBytes(this.id, result);
    const single = chunks.length === 1 || length < ONE_BUFFER_BELOW;
    return {
      chunks: single ? [Buffer.concat(chunks, length)] : chunks,
      length,
      pooled: false,
      release: releaseNothing,
    };
  }

  fault(fault: Parameters<LegacyCodec['fault']>[0]): string {
    // A request answered before its end: its id is where clients write it, at the end.
    const id = this.tail === undefined ? this.id : (idFromTail(this.tail) ?? this.id);
    return encodeJsonRpcError(id, fault);
  }

  envelope() {
    return jsonRpcStringEnvelope(this.id);
  }

  httpAnswer(e: unknown) {
    if (!(e instanceof JsonRpcHttpError)) return undefined;
    return { status: e.status, contentType: e.contentType, headers: e.headers, body: e.body };
  }
}

/** Below this many bytes an answer is joined into one buffer (one write); above, its pieces are written as they are. */
const ONE_BUFFER_BELOW = 16 * 1024;
