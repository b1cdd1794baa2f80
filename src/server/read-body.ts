/**
 * Reads a request body into memory, up to a limit. Past the limit the rest is discarded (never
 * buffered) and the caller answers the client; the connection is then closed.
 */
import type { IncomingMessage } from 'node:http';
import { OdooFault } from '../errors.ts';

export class BodyTooLarge extends Error {}

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      reject(new BodyTooLarge());
      return;
    }
    let chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    const onData = (chunk: Buffer): void => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > limit) {
        tooLarge = true;
        chunks = [];
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => {
      // The request lives as long as the call: the chunks are let go now (a lone one is the body).
      req.off('data', onData);
      if (!tooLarge) resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
      chunks = [];
    });
    req.on('error', (e) => reject(e));
    req.on('aborted', () => reject(new Error('client aborted the request')));
  });
}

/** What Odoo answers (as a fault) when werkzeug refuses a body over its limit. */
export function bodyTooLargeFault(limit: number): OdooFault {
  return new OdooFault({
    kind: 'generic',
    name: 'werkzeug.exceptions.RequestEntityTooLarge',
    message: `413 Request Entity Too Large: The data value transmitted exceeds the capacity limit. (the bridge accepts at most ${limit} bytes: BRIDGE_MAX_BODY_BYTES)`,
  });
}
