/**
 * `POST /xmlrpc/2/<service>` (integer fault codes) and `POST /xmlrpc/<service>` (string fault
 * codes): the XML-RPC codec of server/legacy-call.ts. Every answer, fault or not, is HTTP 200
 * text/xml, as Odoo answers; GET and other methods get werkzeug's 405 page.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { encodeFault, encodeResponseChunks } from '../protocol/xmlrpc/encode.ts';
import { decodeMethodCall, decodeMethodCallHead } from '../protocol/xmlrpc/decode.ts';
import { xmlRpcStringEnvelope } from '../protocol/streamed-answer.ts';
import type { BridgeParts } from './parts.ts';
import { splitXmlRpcRestore } from './db-streams.ts';
import { serveLegacyCall, type LegacyCodec } from './legacy-call.ts';

export function serveXmlRpc(
  parts: BridgeParts,
  req: IncomingMessage,
  res: ServerResponse,
  service: string,
  style: 'int' | 'string',
): Promise<void> {
  // The codec keeps no state of its own: one per service and style serves every call.
  const known = style === 'int' ? CODECS_2.get(service) : CODECS.get(service);
  return serveLegacyCall(parts, req, res, known ?? xmlRpcCodec(service, style));
}

function xmlRpcCodec(service: string, style: 'int' | 'string'): LegacyCodec {
  return {
    protocol: style === 'int' ? 'xmlrpc/2' : 'xmlrpc',
    contentType: 'text/xml; charset=utf-8',
    decode(body) {
      const { methodName, params } = decodeMethodCall(body);
      return { service, method: methodName, params };
    },
    head(prefix) {
      const head = decodeMethodCallHead(prefix);
      return head?.methodName === undefined
        ? undefined
        : { service, method: head.methodName, params: head.params };
    },
    splitRestore: (source, limits) => splitXmlRpcRestore(source, limits),
    result: (result) => encodeResponseChunks(result),
    fault: (fault) => encodeFault(fault, style),
    envelope: xmlRpcStringEnvelope,
    httpAnswer: () => undefined,
  };
}

const SERVICES = ['common', 'object', 'db'];
const CODECS_2 = new Map(SERVICES.map((s) => [s, xmlRpcCodec(s, 'int')]));
const CODECS = new Map(SERVICES.map((s) => [s, xmlRpcCodec(s, 'string')]));

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
