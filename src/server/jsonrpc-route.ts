/**
 * `POST /jsonrpc`: `{"jsonrpc": "2.0", "method": "call", "params": {service, method, args}, "id"}`.
 * Answers and errors are HTTP 200 JSON-RPC envelopes (error code 0, "Odoo Server Error"), except
 * where Odoo itself answers outside the envelope: 400 for invalid JSON, 415 for a wrong content type.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OdooFault } from '../errors.ts';
import { utf8Chunks, type EncodedAnswer } from '../protocol/chunk-pool.ts';
import { isJsonText } from '../protocol/json/validate.ts';
import {
  JsonRpcHttpError,
  decodeJsonRpcRequest,
  encodeJsonRpcError,
  jsonRpcResultPieces,
} from '../protocol/jsonrpc.ts';
import { jsonRpcStringEnvelope } from '../protocol/streamed-answer.ts';
import { restoreFromUpload } from '../services/db.ts';
import { dispatch } from '../services/dispatch.ts';
import type { BridgeParts, LegacyCall, ServiceResult } from '../services/service.ts';
import { upstreamError } from '../upstream/odoo-client.ts';
import type { CallResult, Value } from '../values.ts';
import { asFault, logCall, newCallContext } from './call-context.ts';
import { dropRestOfRequest, readJsonRpcInput, writeStreamedAnswer, type JsonRpcInput } from './db-streams.ts';
import { BodyTooLarge, bodyTooLargeFault } from './read-body.ts';
import { sendChunks } from './send-answer.ts';

export async function serveJsonRpc(
  parts: BridgeParts,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const startedAt = process.hrtime.bigint();
  const ctx = newCallContext(parts, req);
  let call: LegacyCall | undefined;
  let fault: OdooFault | undefined;
  let id: Value = null;
  let status = 200;
  let contentType = 'application/json; charset=utf-8';
  let extraHeaders: Readonly<Record<string, string>> = {};
  // A large answer in pooled chunks (its pieces never joined into one string), else a string.
  let body: string | EncodedAnswer;
  let input: JsonRpcInput | undefined;
  try {
    input = await readJsonRpcInput(req, parts);
    let result: ServiceResult;
    if (input.kind === 'restore') {
      // A large db.restore: its backup streams from this request to Odoo (server/db-streams.ts).
      id = input.id();
      call = { service: 'db', method: 'restore', params: [] };
      result = await restoreFromUpload(input.upload, ctx);
      id = input.id();
    } else {
      const decoded = decodeJsonRpcRequest(input.body, req.headers['content-type']);
      if (!decoded.ok) {
        id = decoded.id;
        throw decoded.fault;
      }
      id = decoded.request.id;
      call = {
        service: decoded.request.service,
        method: decoded.request.method,
        params: decoded.request.args,
      };
      result = await dispatch(call, ctx);
    }
    if (result.kind === 'base64-stream') {
      // db.dump: the backup streams from Odoo into the answer.
      fault = await writeStreamedAnswer(res, jsonRpcStringEnvelope(id), result, ctx);
      logCall(ctx, req, { protocol: 'jsonrpc', call, fault, startedAt });
      return;
    }
    body = jsonRpcBody(jsonRpcResultPieces(id, checkedJson(result)));
  } catch (e) {
    if (input?.kind === 'restore') id = input.id();
    if (e instanceof JsonRpcHttpError) {
      status = e.status;
      contentType = e.contentType;
      extraHeaders = e.headers;
      body = e.body;
    } else {
      if (e instanceof BodyTooLarge) {
        fault = bodyTooLargeFault(parts.config.maxBodyBytes);
        res.setHeader('connection', 'close');
      } else fault = asFault(e, ctx);
      body = encodeJsonRpcError(id, fault);
    }
  }
  if (input?.kind === 'restore') await dropRestOfRequest(input, res, parts.config.maxBodyBytes);
  if (!res.headersSent && !res.destroyed) {
    res.writeHead(status, {
      ...extraHeaders,
      'content-type': contentType,
      'content-length': typeof body === 'string' ? Buffer.byteLength(body) : body.length,
      'x-request-id': ctx.requestId,
    });
    if (typeof body === 'string') res.end(body);
    else sendChunks(res, body);
  } else if (typeof body !== 'string') body.release();
  logCall(ctx, req, { protocol: 'jsonrpc', call, fault, startedAt });
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
