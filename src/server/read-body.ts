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
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!tooLarge) resolve(Buffer.concat(chunks, size));
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
