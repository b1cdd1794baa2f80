/**
 * `POST /jsonrpc`: `{"jsonrpc": "2.0", "method": "call", "params": {service, method, args}, "id"}`,
 * the JSON-RPC codec of server/legacy-call.ts. Answers and errors are HTTP 200 JSON-RPC envelopes
 * (error code 0, "Odoo Server Error"), except where Odoo itself answers outside the envelope: 400
 * for invalid JSON, 415 for a wrong content type.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { utf8Chunks, type EncodedAnswer } from '../protocol/chunk-pool.ts';
import { isJsonText } from '../protocol/json/validate.ts';
import {
  JsonRpcHttpError,
  decodeJsonRpcRequest,
  encodeJsonRpcError,
  jsonRpcResultPieces,
} from '../protocol/jsonrpc.ts';
import { decodeJsonRpcHead, idFromTail, TAIL_BYTES } from '../protocol/jsonrpc-stream.ts';
import { jsonRpcStringEnvelope } from '../protocol/streamed-answer.ts';
import { CREDENTIAL_PARAMS } from '../services/early-auth.ts';
import type { BridgeParts } from './parts.ts';
import { upstreamError } from '../errors.ts';
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

  decode(body: Buffer) {
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

  result(result: CallResult): string | EncodedAnswer {
    return jsonRpcBody(jsonRpcResultPieces(this.id, checkedJson(result)));
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

/** Past this many UTF-16 units an answer goes out in pooled chunks. */
const CHUNKED_FROM = 16 * 1024;

function jsonRpcBody(pieces: string[]): string | EncodedAnswer {
  let n = 0;
  for (const piece of pieces) n += piece.length;
  return n < CHUNKED_FROM ? pieces.join('') : utf8Chunks(pieces);
}

/**
 * The upstream's JSON text is spliced into the answer as is, so it must be JSON (Python's: NaN and
 * Infinity included). Checked without building it: a large search_read would otherwise become
 * tens of MB of objects only to be thrown away.
 */
function checkedJson(result: CallResult): CallResult {
  if (result.kind === 'json' && !isJsonText(result.text))
    throw upstreamError('Odoo answered with something that is not JSON');
  return result;
}
