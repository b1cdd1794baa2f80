/**
 * The envelope around a string result written as it arrives (db.dump's base64): everything the
 * ordinary encoders write before and after the string's contents. Taken from the encoders
 * themselves, so the framing is byte for byte theirs (and Odoo's).
 */
import { valueResult, type Value } from '../values.ts';
import { encodeJsonRpcResult } from './jsonrpc.ts';
import { encodeResponse } from './xmlrpc/encode.ts';

export interface StringEnvelope {
  head: string;
  tail: string;
  contentType: string;
}

/** `methodResponse` up to `<value><string>` and from `</string></value>`. */
export function xmlRpcStringEnvelope(): StringEnvelope {
  const full = encodeResponse(valueResult(''));
  const at = full.indexOf('<string></string>') + '<string>'.length;
  return { head: full.slice(0, at), tail: full.slice(at), contentType: 'text/xml; charset=utf-8' };
}

/** `{"jsonrpc": "2.0", "id": <id>, "result": "` and `"}`. Base64 needs no JSON escapes. */
export function jsonRpcStringEnvelope(id: Value): StringEnvelope {
  const full = encodeJsonRpcResult(id, valueResult(''));
  const at = full.lastIndexOf('""') + 1;
  return { head: full.slice(0, at), tail: full.slice(at), contentType: 'application/json; charset=utf-8' };
}
