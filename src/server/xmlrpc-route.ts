/**
 * `POST /xmlrpc/2/<service>` (integer fault codes) and `POST /xmlrpc/<service>` (string fault
 * codes): body → decode → dispatch → encode. Every answer, fault or not, is HTTP 200 text/xml,
 * as Odoo answers; GET and other methods get werkzeug's 405 page.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeMethodCall } from '../protocol/xmlrpc/decode.ts';
import type { EncodedAnswer } from '../protocol/chunk-pool.ts';
import { encodeFault, encodeResponseChunks } from '../protocol/xmlrpc/encode.ts';
import { xmlRpcStringEnvelope } from '../protocol/streamed-answer.ts';
import { restoreFromUpload } from '../services/db.ts';
import { dispatch } from '../services/dispatch.ts';
import type { BridgeParts, LegacyCall, ServiceResult } from '../services/service.ts';
import { asFault, logCall, newCallContext } from './call-context.ts';
import { dropRestOfRequest, readXmlRpcInput, writeStreamedAnswer, type XmlRpcInput } from './db-streams.ts';
import { BodyTooLarge, bodyTooLargeFault } from './read-body.ts';
import { sendChunks } from './send-answer.ts';

export async function serveXmlRpc(
  parts: BridgeParts,
  req: IncomingMessage,
  res: ServerResponse,
  service: string,
  style: 'int' | 'string',
): Promise<void> {
  const startedAt = process.hrtime.bigint();
  const ctx = newCallContext(parts, req);
  let call: LegacyCall | undefined;
  // Bytes for results (written straight as UTF-8 by the encoder, in pooled chunks when large), a
  // string for faults.
  let body: EncodedAnswer | string;
  let fault;
  let input: XmlRpcInput | undefined;
  try {
    input = await readXmlRpcInput(req, parts, service);
    let result: ServiceResult;
    if (input.kind === 'restore') {
      // A large db.restore: its backup streams from this request to Odoo (server/db-streams.ts).
      call = { service, method: 'restore', params: [] };
      result = await restoreFromUpload(input.upload, ctx);
    } else {
      const decoded = decodeMethodCall(input.body);
      call = { service, method: decoded.methodName, params: decoded.params };
      result = await dispatch(call, ctx);
    }
    if (result.kind === 'base64-stream') {
      // db.dump: the backup streams from Odoo into the answer.
      fault = await writeStreamedAnswer(res, xmlRpcStringEnvelope(), result, ctx);
      logCall(ctx, req, { protocol: style === 'int' ? 'xmlrpc/2' : 'xmlrpc', call, fault, startedAt });
      return;
    }
    body = encodeResponseChunks(result);
  } catch (e) {
    if (e instanceof BodyTooLarge) {
      fault = bodyTooLargeFault(parts.config.maxBodyBytes);
      res.setHeader('connection', 'close');
    } else fault = asFault(e, ctx);
    body = encodeFault(fault, style);
  }
  if (input?.kind === 'restore') await dropRestOfRequest(input, res, parts.config.maxBodyBytes);
  if (!res.headersSent && !res.destroyed) {
    res.writeHead(200, {
      'content-type': 'text/xml; charset=utf-8',
      'content-length': typeof body === 'string' ? Buffer.byteLength(body) : body.length,
      'x-request-id': ctx.requestId,
    });
    if (typeof body === 'string') res.end(body);
    else sendChunks(res, body);
  } else if (typeof body !== 'string') body.release();
  logCall(ctx, req, { protocol: style === 'int' ? 'xmlrpc/2' : 'xmlrpc', call, fault, startedAt });
}

export function methodNotAllowed(res: ServerResponse, allow: string): void {
  const body =
    '<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n<h1>Method Not Allowed</h1>\n' +
    '<p>The method is not allowed for the requested URL.</p>\n';
  res.writeHead(405, {
    'content-type': 'text/html; charset=utf-8',
    allow,
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}
