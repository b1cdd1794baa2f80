/**
 * The HTTP side of the two `db` calls that move whole backups, with bounded memory:
 *
 * - reading a large `db.restore` (`splitXmlRpcRestore`, `splitJsonRpcRestore`, from
 *   server/legacy-call.ts): the request is split around its backup parameter
 *   (protocol/xmlrpc/stream-call.ts, protocol/jsonrpc-stream.ts) and handed to the db service as
 *   a `RestoreUpload`, whose text is read from the socket only as fast as Odoo takes the upload.
 *   A restore within the first bytes of a request (server/incoming-body.ts) is read whole.
 * - writing a streamed result (`writeStreamedAnswer`, db.dump): the protocol's envelope, the
 *   backup through a base64 encoder as Odoo sends it, the envelope's end. If Odoo fails once the
 *   answer has started, the connection is destroyed: the client sees a broken answer, never a
 *   complete document holding a truncated backup.
 */
import type { ServerResponse } from 'node:http';
import { requestEntityTooLarge, upstreamError, type OdooFault } from '../errors.ts';
import { Base64Encoder } from '../protocol/base64-stream.ts';
import { splitJsonRpcCall } from '../protocol/jsonrpc-stream.ts';
import type { StringEnvelope } from '../protocol/streamed-answer.ts';
import { splitXmlRpcCall } from '../protocol/xmlrpc/stream-call.ts';
import type { RestoreUpload } from '../services/db.ts';
import type { CallContext, StreamedBase64 } from '../services/service.ts';
import type { BridgeParts } from './parts.ts';
import type { Value } from '../values.ts';
import type { SplitOptions } from '../protocol/streamed-call.ts';
import { PREFIX_BYTES } from './incoming-body.ts';

/** A db.restore split around its backup (server/legacy-call.ts). */
export interface RestoreInput {
  upload: RestoreUpload;
  /** Reads and drops what is left of the request; false when more than `maxBytes` were. */
  discard(maxBytes: number): Promise<boolean>;
}

/** An XML-RPC db.restore (`restore(master_pwd, db_name, data, copy)`), its `data` streamed. */
export async function splitXmlRpcRestore(
  source: AsyncIterable<Buffer>,
  limits: SplitOptions,
): Promise<RestoreInput | undefined> {
  const split = await splitXmlRpcCall(source, {
    ...limits,
    streamedParam: (method) => (method === 'restore' ? 2 : undefined),
  });
  if (split.kind === 'whole') return undefined;
  return {
    discard: split.discard,
    upload: {
      head: split.head.params.slice(0, 2),
      text: split.text,
      finish: async () => (await split.finish()).params,
    },
  };
}

/** A JSON-RPC db.restore, its `args[2]` streamed; `onId` is told the request's id as it is read. */
export async function splitJsonRpcRestore(
  source: AsyncIterable<Buffer>,
  limits: SplitOptions,
  contentType: string | undefined,
  onId: (id: Value) => void,
): Promise<RestoreInput | undefined> {
  const split = await splitJsonRpcCall(source, {
    ...limits,
    param: 2,
    accept: (service, method) => service === 'db' && method === 'restore',
    contentType,
  });
  if (split.kind === 'whole') return undefined;
  if (!split.head.ok) throw new Error('a streamed JSON-RPC call always starts well-formed');
  onId(split.head.request.id);
  return {
    discard: split.discard,
    upload: {
      head: split.head.request.args.slice(0, 2),
      text: split.text,
      async finish() {
        const whole = await split.finish();
        onId(whole.ok ? whole.request.id : whole.id);
        if (!whole.ok) throw whole.fault;
        return whole.request.args;
      },
    },
  };
}

/**
 * The limits of a streamed restore: the backup up to BRIDGE_MAX_RESTORE_BYTES; the rest of the
 * request (master password, name, the closing markup), which is held, within twice the bytes an
 * unverified request may hold (server/incoming-body.ts: the split starts from that much).
 */
export function restoreLimits(parts: BridgeParts): SplitOptions {
  const { maxRestoreBytes } = parts.config;
  return {
    maxBytes: 2 * PREFIX_BYTES,
    maxStreamedBytes: maxRestoreBytes,
    tooLarge: (which: 'body' | 'streamed'): Error =>
      which === 'body' ? unverifiedTooLarge() : restoreTooLarge(maxRestoreBytes),
  };
}

/** What Odoo answers (as a fault) past a body limit, naming the bridge's setting. */
function restoreTooLarge(limit: number): OdooFault {
  return requestEntityTooLarge(
    `413 Request Entity Too Large: The data value transmitted exceeds the capacity limit. (the bridge accepts db.restore requests of at most ${limit} bytes: BRIDGE_MAX_RESTORE_BYTES)`,
  );
}

/**
 * A request over the bytes the bridge reads before it knows who sends it, that names no caller
 * the bridge can verify first (server/incoming-body.ts).
 */
export function unverifiedTooLarge(): OdooFault {
  return requestEntityTooLarge(
    `413 Request Entity Too Large: The data value transmitted exceeds the capacity limit. (odoo-rpc-bridge reads at most ${PREFIX_BYTES / 1024} KiB of a request before it knows who sends it: a larger call must start with its credentials, as execute_kw(db, uid, password, ...) and authenticate(db, login, password, ...) do, and in JSON-RPC name params.service and params.method before params.args; a larger db.restore must carry its backup as a base64 string)`,
  );
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
