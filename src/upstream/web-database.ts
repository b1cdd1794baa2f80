/**
 * Odoo's database manager (`/web/database/*`, docs/wire.md §6), the only HTTP surface left for
 * the legacy `db` service: form posts that answer 303 on success and a 200 HTML page with an
 * `alert alert-danger` banner on failure, the JSON-RPC `/web/database/list`, a backup streamed
 * as `application/octet-stream`, a restore uploaded as multipart.
 *
 * This module speaks HTTP and reads those answers; what an answer means for the legacy call is
 * decided in services/db.ts. It never sends `X-Odoo-Database` or cookies (the routes are
 * `auth='none'` and would otherwise run inside a database) and never logs a field value: form
 * fields carry the master password.
 *
 * Timeouts: Odoo answers a database operation only once it is over (a create, a duplicate or a
 * restore of a large database take minutes), so the time to the answer's headers is
 * BRIDGE_DB_TIMEOUT_MS; a streamed body may take as long as it needs while data keeps flowing,
 * with BRIDGE_UPSTREAM_TIMEOUT_MS as the longest pause.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Pool } from 'undici';
import { OdooFault, upstreamError } from '../errors.ts';
import { alertDangerText, replaceScriptsAndStyles, replaceTags } from './html.ts';
import { transportFault, UpstreamFault } from './odoo-client.ts';

export interface WebDatabaseOptions {
  odooUrl: string;
  connectTimeoutMs: number;
  upstreamTimeoutMs: number;
  dbTimeoutMs: number;
  maxUpstreamBytes: number;
}

/** The form routes (POST `/web/database/<route>`). */
export type FormRoute = 'create' | 'duplicate' | 'drop' | 'backup' | 'change_password';

/** How a `/web/database/*` route answered, as far as the HTTP tells. */
export type WebOutcome =
  /** A redirect: the operation succeeded (Location as given). */
  | { kind: 'redirect'; status: number; location: string }
  /** The database manager page with an error banner: its text, unescaped (`Database backup error: Access Denied`). */
  | { kind: 'banner'; text: string }
  /** Anything else. */
  | { kind: 'other'; status: number; contentType: string; text: string };

/** `/web/database/manager` as it shows itself (docs/wire.md §6.1, §6.2). */
export interface ManagerState {
  /** The page could be read; when false the two flags below say nothing. */
  read: boolean;
  /** `list_db = False`: "The database manager has been disabled by the administrator". */
  disabled: boolean;
  /** The master password is still the default `admin`: any master password given to a route becomes the new one. */
  insecure: boolean;
}

export type ListAnswer = { kind: 'list'; names: string[] } | { kind: 'error'; name: string; message: string };

/** The backup's bytes, as Odoo streams them. */
export interface BackupFile {
  kind: 'file';
  body: Readable;
  /** Content-Length, when Odoo sent one. */
  size: number | undefined;
}

export class WebDatabaseClient {
  readonly baseUrl: string;
  private readonly basePath: string;
  private readonly pool: Pool;
  private readonly opts: WebDatabaseOptions;
  private jsonRpcId = 0;

  constructor(opts: WebDatabaseOptions) {
    this.opts = opts;
    const url = new URL(opts.odooUrl);
    this.baseUrl = opts.odooUrl;
    // Trailing slashes, tried from the first of a run only (`/\/+$/` rescans a run from each slash).
    this.basePath = url.pathname.replace(/(?<!\/)\/+$/, '');
    this.pool = new Pool(url.origin, {
      connections: 16,
      connect: { timeout: opts.connectTimeoutMs },
      keepAliveTimeout: 30_000,
      headersTimeout: opts.upstreamTimeoutMs,
      bodyTimeout: opts.upstreamTimeoutMs,
    });
  }

  where(route: string): string {
    return `${this.baseUrl}/web/database/${route}`;
  }

  /** `POST /web/database/list`: the databases Odoo lists (dbfilter applied), or its JSON-RPC error. */
  async list(requestId: string): Promise<ListAnswer> {
    const body = JSON.stringify({ jsonrpc: '2.0', method: 'call', params: {}, id: ++this.jsonRpcId });
    const res = await this.send(
      'list',
      { 'content-type': 'application/json' },
      body,
      requestId,
      this.opts.upstreamTimeoutMs,
    );
    const text = await this.text(res.body, 'list');
    let doc: { result?: unknown; error?: { data?: { name?: unknown; message?: unknown } } } | undefined;
    try {
      doc = JSON.parse(text) as typeof doc;
    } catch {
      doc = undefined;
    }
    if (
      res.statusCode === 200 &&
      doc &&
      Array.isArray(doc.result) &&
      doc.result.every((n) => typeof n === 'string')
    )
      return { kind: 'list', names: doc.result as string[] };
    const data = doc?.error?.data;
    if (res.statusCode === 200 && typeof data?.name === 'string')
      return {
        kind: 'error',
        name: data.name,
        message: typeof data.message === 'string' ? data.message : '',
      };
    throw unexpectedAnswer(this.where('list'), res.statusCode, header(res.headers, 'content-type'), text);
  }

  /** `GET /web/database/manager`, read for the two states that change what a master password does. */
  async manager(requestId: string): Promise<ManagerState> {
    const res = await this.send('manager', {}, undefined, requestId, this.opts.upstreamTimeoutMs, 'GET');
    const text = await this.text(res.body, 'manager');
    if (res.statusCode !== 200) return { read: false, disabled: false, insecure: false };
    return {
      read: true,
      disabled: /database manager has been disabled/i.test(text),
      insecure: /database manager is not protected/i.test(text),
    };
  }

  /** A form post: create, duplicate, drop, change_password (and backup, when its answer is not a file). */
  async submit(route: FormRoute, fields: Record<string, string>, requestId: string): Promise<WebOutcome> {
    const res = await this.send(
      route,
      FORM,
      new URLSearchParams(fields).toString(),
      requestId,
      this.opts.dbTimeoutMs,
    );
    return this.outcome(route, res);
  }

  /** `POST /web/database/backup`: the backup as a stream, or how Odoo refused. */
  async backup(fields: Record<string, string>, requestId: string): Promise<BackupFile | WebOutcome> {
    const res = await this.send(
      'backup',
      FORM,
      new URLSearchParams(fields).toString(),
      requestId,
      this.opts.dbTimeoutMs,
    );
    const type = header(res.headers, 'content-type') ?? '';
    if (res.statusCode === 200 && /^application\/octet-stream/i.test(type)) {
      const length = Number(header(res.headers, 'content-length'));
      return {
        kind: 'file',
        body: res.body,
        size: Number.isSafeInteger(length) && length >= 0 ? length : undefined,
      };
    }
    return this.outcome('backup', res);
  }

  /**
   * `POST /web/database/restore`, multipart: `fields`, then `backup_file` from `file` as it comes,
   * then the fields `trailer()` gives once the file is over. An error thrown by `file` or
   * `trailer` aborts the upload before its end, so Odoo never restores a partial backup; that
   * error is the one rethrown.
   */
  async restore(
    fields: Record<string, string>,
    file: AsyncIterable<Uint8Array>,
    trailer: () => Promise<Record<string, string>>,
    requestId: string,
  ): Promise<WebOutcome> {
    const boundary = `odoo-rpc-bridge-${randomBytes(18).toString('hex')}`;
    let failure: { error: unknown } | undefined;
    async function* body(): AsyncGenerator<Buffer> {
      try {
        for (const [name, value] of Object.entries(fields)) yield Buffer.from(part(boundary, name, value));
        yield Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="backup_file"; filename="backup"\r\n` +
            'Content-Type: application/octet-stream\r\n\r\n',
        );
        for await (const chunk of file)
          if (chunk.length > 0) yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        yield Buffer.from('\r\n');
        const more = await trailer();
        let end = '';
        for (const [name, value] of Object.entries(more)) end += part(boundary, name, value);
        yield Buffer.from(`${end}--${boundary}--\r\n`);
      } catch (e) {
        failure = { error: e };
        throw e;
      }
    }
    let res;
    try {
      res = await this.send(
        'restore',
        { 'content-type': `multipart/form-data; boundary=${boundary}` },
        Readable.from(body(), { objectMode: false }),
        requestId,
        this.opts.dbTimeoutMs,
      );
    } catch (e) {
      if (failure) throw failure.error;
      throw e;
    }
    if (failure) throw failure.error;
    return this.outcome('restore', res);
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  private async send(
    route: string,
    headers: Record<string, string>,
    body: string | Readable | undefined,
    requestId: string,
    headersTimeout: number,
    method: 'GET' | 'POST' = 'POST',
  ) {
    try {
      return await this.pool.request({
        method,
        path: `${this.basePath}/web/database/${route}`,
        headers: { accept: '*/*', 'x-request-id': requestId, ...headers },
        body,
        headersTimeout,
        bodyTimeout: this.opts.upstreamTimeoutMs,
      });
    } catch (e) {
      throw transportFault(e, this.where(route), headersTimeout);
    }
  }

  /** A small answer (a page, a JSON-RPC envelope) as text, capped at BRIDGE_MAX_UPSTREAM_BYTES. */
  private async text(body: Readable, route: string): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of body) {
        const buf = chunk as Buffer;
        size += buf.length;
        if (size > this.opts.maxUpstreamBytes) {
          body.destroy();
          throw new UpstreamFault(
            'too_large',
            `Odoo's answer to ${this.where(route)} is larger than BRIDGE_MAX_UPSTREAM_BYTES (${this.opts.maxUpstreamBytes} bytes)`,
          );
        }
        chunks.push(buf);
      }
    } catch (e) {
      if (e instanceof OdooFault) throw e;
      throw transportFault(e, this.where(route), this.opts.upstreamTimeoutMs);
    }
    return Buffer.concat(chunks, size).toString('utf8');
  }

  private async outcome(
    route: string,
    res: { statusCode: number; headers: Record<string, string | string[] | undefined>; body: Readable },
  ): Promise<WebOutcome> {
    const location = header(res.headers, 'location');
    if (res.statusCode >= 300 && res.statusCode < 400 && location !== undefined) {
      res.body.resume();
      return { kind: 'redirect', status: res.statusCode, location };
    }
    const text = await this.text(res.body, route);
    const contentType = header(res.headers, 'content-type') ?? '';
    // `<div class="alert alert-danger">…</div>`, not the `alert-danger text-center` notice.
    const banner = res.statusCode === 200 && /html/i.test(contentType) ? alertDangerText(text) : undefined;
    if (banner !== undefined) return { kind: 'banner', text: unescapeHtml(banner.trim()) };
    return { kind: 'other', status: res.statusCode, contentType, text };
  }
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

function part(boundary: string, name: string, value: string): string {
  return `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The text of an element as the browser shows it: markupsafe's escapes (and any other reference) undone. */
export function unescapeHtml(s: string): string {
  return replaceTags(s, '').replace(
    /&(?:#(\d+)|#x([0-9a-fA-F]+)|(amp|lt|gt|quot|apos|nbsp));/g,
    (m, dec?: string, hex?: string, name?: string) => {
      if (dec !== undefined) return safeCodePoint(Number(dec), m);
      if (hex !== undefined) return safeCodePoint(parseInt(hex, 16), m);
      return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' }[name as string] ?? m;
    },
  );
}

function safeCodePoint(cp: number, fallback: string): string {
  return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : fallback;
}

/** An answer that is none of the known ones: what it was, briefly. */
export function unexpectedAnswer(
  where: string,
  status: number,
  contentType: string | undefined,
  text: string,
): OdooFault {
  const brief = replaceTags(replaceScriptsAndStyles(text, ' '), ' ').replace(/\s+/g, ' ').trim();
  const shown = brief.length > 300 ? `${brief.slice(0, 300)}…` : brief || '(empty body)';
  return upstreamError(
    `Odoo answered ${where} with HTTP ${status} (${contentType || 'no content type'}), which is not one of the database manager's answers: ${unescapeHtml(shown)}`,
  );
}
