/**
 * The HTTP side of the two `db` calls that move whole backups, with bounded memory:
 *
 * - reading a request that may be a `db.restore` (`readXmlRpcInput`, `readJsonRpcInput`): a
 *   large body is split around its backup parameter (protocol/xmlrpc/stream-call.ts,
 *   protocol/jsonrpc-stream.ts) and handed to the db service as a `RestoreUpload`, whose text is
 *   read from the socket only as fast as Odoo takes the upload. Any other request, and any small
 *   one, is read whole as before.
 * - writing a streamed result (`writeStreamedAnswer`, db.dump): the protocol's envelope, the
 *   backup through a base64 encoder as Odoo sends it, the envelope's end. If Odoo fails once the
 *   answer has started, the connection is destroyed: the client sees a broken answer, never a
 *   complete document holding a truncated backup.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OdooFault } from '../errors.ts';
import { Base64Encoder } from '../protocol/base64-stream.ts';
import { splitJsonRpcCall } from '../protocol/jsonrpc-stream.ts';
import type { StringEnvelope } from '../protocol/streamed-answer.ts';
import { splitXmlRpcCall } from '../protocol/xmlrpc/stream-call.ts';
import type { RestoreUpload } from '../services/db.ts';
import type { BridgeParts, CallContext, StreamedBase64 } from '../services/service.ts';
import { upstreamError } from '../upstream/odoo-client.ts';
import type { Value } from '../values.ts';
import { BodyTooLarge, readBody } from './read-body.ts';

/** Bodies up to this size are read whole even for db.restore: streaming only pays for large backups. */
export const STREAM_THRESHOLD = 1024 * 1024;

export type XmlRpcInput =
  | { kind: 'whole'; body: Buffer }
  | { kind: 'restore'; upload: RestoreUpload; discard(maxBytes: number): Promise<boolean> };
export type JsonRpcInput =
  | { kind: 'whole'; body: Buffer }
  | { kind: 'restore'; upload: RestoreUpload; id(): Value; discard(maxBytes: number): Promise<boolean> };

/** The body of `POST /xmlrpc[/2]/<service>`: whole, or (a large db.restore) split. */
export async function readXmlRpcInput(
  req: IncomingMessage,
  parts: BridgeParts,
  service: string,
): Promise<XmlRpcInput> {
  if (service !== 'db' || isSmall(req))
    return { kind: 'whole', body: await readBody(req, parts.config.maxBodyBytes) };
  const split = await splitXmlRpcCall(req, {
    ...limits(parts),
    streamedParam: (method) => (method === 'restore' ? 2 : undefined),
  });
  if (split.kind === 'whole') return split;
  return {
    kind: 'restore',
    discard: split.discard,
    upload: {
      head: split.head.params.slice(0, 2),
      text: split.text,
      finish: async () => (await split.finish()).params,
    },
  };
}

/** The body of `POST /jsonrpc`: whole, or (a large db.restore) split. */
export async function readJsonRpcInput(req: IncomingMessage, parts: BridgeParts): Promise<JsonRpcInput> {
  if (isSmall(req)) return { kind: 'whole', body: await readBody(req, parts.config.maxBodyBytes) };
  const split = await splitJsonRpcCall(req, {
    ...limits(parts),
    param: 2,
    accept: (service, method) => service === 'db' && method === 'restore',
    contentType: req.headers['content-type'],
  });
  if (split.kind === 'whole') return split;
  if (!split.head.ok) throw new Error('a streamed JSON-RPC call always starts well-formed');
  let id: Value = split.head.request.id;
  return {
    kind: 'restore',
    id: () => id,
    discard: split.discard,
    upload: {
      head: split.head.request.args.slice(0, 2),
      text: split.text,
      async finish() {
        const whole = await split.finish();
        id = whole.ok ? whole.request.id : whole.id;
        if (!whole.ok) throw whole.fault;
        return whole.request.args;
      },
    },
  };
}

function isSmall(req: IncomingMessage): boolean {
  const declared = Number(req.headers['content-length']);
  return (
    Number.isFinite(declared) && req.headers['content-length'] !== undefined && declared <= STREAM_THRESHOLD
  );
}

function limits(parts: BridgeParts) {
  const { maxBodyBytes, maxRestoreBytes } = parts.config;
  return {
    maxBytes: maxBodyBytes,
    maxStreamedBytes: maxRestoreBytes,
    tooLarge: (which: 'body' | 'streamed'): Error =>
      which === 'body' ? new BodyTooLarge() : restoreTooLarge(maxRestoreBytes),
  };
}

/** What Odoo answers (as a fault) past a body limit, naming the bridge's setting. */
function restoreTooLarge(limit: number): OdooFault {
  return new OdooFault({
    kind: 'generic',
    name: 'werkzeug.exceptions.RequestEntityTooLarge',
    message: `413 Request Entity Too Large: The data value transmitted exceeds the capacity limit. (the bridge accepts db.restore requests of at most ${limit} bytes: BRIDGE_MAX_RESTORE_BYTES)`,
  });
}

/**
 * After a streamed restore: the rest of a request refused before its end is read and dropped
 * before the answer is written, since legacy clients send their whole request before reading the
 * answer. Past `maxBytes` more, the connection is closed after the answer instead.
 */
export async function dropRestOfRequest(
  input: { discard(maxBytes: number): Promise<boolean> },
  res: ServerResponse,
  maxBytes: number,
): Promise<void> {
  if (!(await input.discard(maxBytes)) && !res.headersSent) res.setHeader('connection', 'close');
}

/**
 * Writes `result` (db.dump) inside `envelope`, as it arrives, at the pace the client reads it.
 * Returns undefined when the whole answer was written, or what failed (for the log) after
 * destroying the connection: the envelope's end is written only once Odoo's whole backup is in.
 */
export function writeStreamedAnswer(
  res: ServerResponse,
  envelope: StringEnvelope,
  result: StreamedBase64,
  ctx: CallContext,
): Promise<OdooFault | undefined> {
  const headers: Record<string, string | number> = {
    'content-type': envelope.contentType,
    'x-request-id': ctx.requestId,
  };
  if (result.size !== undefined)
    headers['content-length'] =
      Buffer.byteLength(envelope.head) +
      Base64Encoder.encodedLength(result.size) +
      Buffer.byteLength(envelope.tail);
  const source = result.source;
  const encoder = new Base64Encoder();
  let bytes = 0;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (failure?: string): void => {
      if (settled) return;
      settled = true;
      ctx.notes.backupBytes = bytes;
      if (failure === undefined) return resolve(undefined);
      res.destroy();
      source.destroy();
      resolve(
        upstreamError(
          `db.dump: the backup stream broke after ${bytes} bytes (${failure}); the answer was cut off so that no truncated backup reads as complete`,
        ),
      );
    };
    res.writeHead(200, headers);
    res.write(envelope.head);
    source.on('data', (chunk: Buffer) => {
      if (settled) return;
      bytes += chunk.length;
      const text = encoder.push(chunk);
      // Base64 is ASCII: written as Latin-1, the length of each chunk needs no scan.
      if (text.length > 0 && !res.write(text, 'latin1')) {
        source.pause();
        res.once('drain', () => source.resume());
      }
    });
    source.once('end', () => {
      if (result.size !== undefined && bytes !== result.size)
        return finish(`Odoo sent ${bytes} bytes of a ${result.size}-byte backup`);
      // Only now, with the whole backup read, does the answer become a complete document.
      res.end(encoder.end() + envelope.tail, () => finish());
    });
    source.once('error', (e) => finish(describe(e)));
    source.once('close', () => {
      if (!source.readableEnded) finish("Odoo's answer ended early");
    });
    res.once('close', () => {
      if (!res.writableFinished) finish('the client went away');
    });
  });
}

function describe(e: unknown): string {
  const err = e as { code?: unknown; message?: unknown };
  return [err.code, err.message].filter((x) => typeof x === 'string' && x !== '').join(': ') || String(e);
}
