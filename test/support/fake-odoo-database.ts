/**
 * The fake Odoo's database manager: the `/web/database/*` routes, answering as Odoo 19's
 * controllers do in the captures (4f-*) and docs/wire.md §6: form posts that redirect (303) on
 * success and render the manager page with an `alert alert-danger` banner on failure, the
 * JSON-RPC `/web/database/list`, a backup streamed as `application/octet-stream` (chunked), a
 * multipart restore. The master password is `masterpw` (the captures') unless told otherwise.
 *
 * Modelled: the insecure pre-step (a server whose master password is `admin` takes any given
 * one as the new one; 403 with list_db off), `list_db = False`, the name pattern, the existence
 * checks, an in-memory store of backups so that dump → restore → dump round-trips (lab2's is
 * the real captured backup). A database created or restored here has no JSON-2 data.
 *
 *     odoo.database.masterPassword = 'admin';   // an insecure server
 *     odoo.database.cutBackupAfter = 100_000;   // the next backups break after 100 kB
 *     odoo.database.restores;                   // what was restored, bytes included
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';

export interface FakeDatabaseManagerOptions {
  /** Odoo's master password (default `masterpw`; `admin` makes the server "insecure"). */
  masterPassword?: string;
  /** `list_db` (default true). */
  listDb?: boolean;
}

interface Backups {
  /** What `backup_format=zip` answers. */
  zip: Buffer;
  /** What any other format answers (pg_dump's custom format). */
  dump: Buffer;
}

const DBNAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const HTML_CT = 'text/html; charset=utf-8';
const BANNER_LINE = '<div class="alert alert-danger">Database backup error: Access Denied</div>';

/** A page Odoo answers instead of the operation: thrown, then written. */
class PageAnswer extends Error {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string>;
  constructor(status: number, body: string, headers: Record<string, string> = {}) {
    super(`HTTP ${status}`);
    this.status = status;
    this.body = body;
    this.headers = headers;
  }
}

/** An exception inside a controller's try: becomes the banner "<Op> error: <message>". */
class ControllerError extends Error {}

export class FakeDatabaseManager {
  masterPassword: string;
  listDb: boolean;
  /** The databases, with what a backup of each answers. */
  readonly databases = new Map<string, Backups>();
  /** The form fields each successful create was given (the master password left out). */
  readonly created = new Map<string, Record<string, string>>();
  /** Each successful restore: the database, the uploaded backup and the `copy` field. */
  readonly restores: Array<{ name: string; bytes: Buffer; copy: string | undefined }> = [];
  /** Each duplicate: source, target, neutralize field. */
  readonly duplicates: Array<{ name: string; newName: string; neutralize: string | undefined }> = [];
  /** When set, backups stop after this many bytes and the connection is destroyed. */
  cutBackupAfter: number | undefined;
  private readonly template: string;
  private readonly onDrop: (name: string) => void;

  constructor(
    dbNames: string[],
    fixturesDir: string,
    opts: FakeDatabaseManagerOptions,
    onDrop: (name: string) => void,
  ) {
    this.masterPassword = opts.masterPassword ?? 'masterpw';
    this.listDb = opts.listDb ?? true;
    this.onDrop = onDrop;
    const page = (
      JSON.parse(readFileSync(join(fixturesDir, '4f-04-web-database-backup-bad-master.json'), 'utf8')) as {
        response: { body: string };
      }
    ).response.body;
    if (!page.includes(BANNER_LINE))
      throw new Error('the captured database manager page has no error banner');
    this.template = page;
    for (const name of dbNames) {
      if (name === 'lab2') {
        this.databases.set(name, {
          zip: readFileSync(join(fixturesDir, 'files', 'lab2-backup.zip')),
          dump: readFileSync(join(fixturesDir, 'files', 'lab2-backup.dump')),
        });
      } else this.databases.set(name, synthetic(name));
    }
  }

  handles(path: string): boolean {
    return path.startsWith('/web/database/');
  }

  /** Answers one `/web/database/*` request (`raw` is its whole body). */
  async handle(req: IncomingMessage, res: ServerResponse, path: string, raw: Buffer): Promise<void> {
    const route = path.slice('/web/database/'.length);
    try {
      if (route === 'list') return this.list(res, raw);
      if (route === 'manager' || route === 'selector') {
        if (req.method !== 'GET')
          throw new PageAnswer(
            405,
            werkzeug(405, 'Method Not Allowed', 'The method is not allowed for the requested URL.'),
          );
        return this.sendPage(res, 200, this.page(''));
      }
      const handler = (
        {
          create: this.create,
          duplicate: this.duplicate,
          drop: this.drop,
          backup: this.backup,
          restore: this.restore,
          change_password: this.changePassword,
        } as Record<string, (form: Form, res: ServerResponse) => Promise<void> | void>
      )[route];
      if (!handler)
        throw new PageAnswer(
          404,
          werkzeug(404, 'Not Found', 'The requested URL was not found on the server.'),
        );
      if (req.method !== 'POST')
        throw new PageAnswer(
          405,
          werkzeug(405, 'Method Not Allowed', 'The method is not allowed for the requested URL.'),
        );
      const form = parseForm(req.headers['content-type'] ?? '', raw);
      await handler.call(this, form, res);
    } catch (e) {
      if (e instanceof PageAnswer) return this.sendPage(res, e.status, e.body, e.headers);
      throw e;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Routes

  private list(res: ServerResponse, raw: Buffer): void {
    let id: unknown = null;
    try {
      id = (JSON.parse(raw.toString('utf8')) as { id?: unknown }).id ?? null;
    } catch {
      // not modelled: answer with id null
    }
    const answer = this.listDb
      ? { jsonrpc: '2.0', id, result: this.names() }
      : {
          jsonrpc: '2.0',
          id,
          error: {
            code: 0,
            message: 'Odoo Server Error',
            data: {
              name: 'odoo.exceptions.AccessDenied',
              message: 'Access Denied',
              arguments: ['Access Denied'],
              context: {},
              debug: 'odoo.exceptions.AccessDenied: Access Denied\n',
            },
          },
        };
    const body = Buffer.from(JSON.stringify(answer));
    res.writeHead(200, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': String(body.length),
    });
    res.end(body);
  }

  private create(form: Form, res: ServerResponse): void {
    const { master_pwd: pwd, name } = required(form, ['master_pwd', 'name', 'lang', 'password']);
    this.insecureStep(pwd);
    this.attempt('Database creation error', () => {
      if (!DBNAME_PATTERN.test(name))
        throw new ControllerError('Invalid database name: only letters, digits, _ - and . are allowed');
      for (const k of ['login', 'phone'])
        if (form.fields[k] === undefined) throw new ControllerError(`'${k}'`);
      this.checkSuper(pwd);
      this.management();
      if (this.databases.has(name)) throw new ControllerError(`database '${name}' already exists!`);
      this.databases.set(name, synthetic(name));
      const { master_pwd: _ignored, ...rest } = form.fields;
      this.created.set(name, rest);
    });
    this.redirect(res, '/odoo', { 'Set-Cookie': 'session_id=fake-new-session; HttpOnly; Path=/' });
  }

  private duplicate(form: Form, res: ServerResponse): void {
    const { master_pwd: pwd, name, new_name: newName } = required(form, ['master_pwd', 'name', 'new_name']);
    this.insecureStep(pwd);
    this.attempt('Database duplication error', () => {
      if (!DBNAME_PATTERN.test(newName))
        throw new ControllerError('Invalid database name: only letters, digits, _ - and . are allowed');
      this.checkSuper(pwd);
      this.management();
      const source = this.databases.get(name);
      if (!source) throw new ControllerError(`template database "${name}" does not exist\n`);
      if (this.databases.has(newName)) throw new ControllerError(`database "${newName}" already exists\n`);
      this.databases.set(newName, source);
      this.duplicates.push({ name, newName, neutralize: form.fields['neutralize_database'] });
    });
    this.redirect(res, '/web/database/manager');
  }

  private drop(form: Form, res: ServerResponse): void {
    const { master_pwd: pwd, name } = required(form, ['master_pwd', 'name']);
    this.insecureStep(pwd);
    this.attempt('Database deletion error', () => {
      this.checkSuper(pwd);
      this.management();
      // An unknown database: legacy returns False, which the route ignores.
      if (this.databases.delete(name)) this.onDrop(name);
    });
    this.redirect(res, '/web/database/manager');
  }

  private async backup(form: Form, res: ServerResponse): Promise<void> {
    const { master_pwd: pwd, name } = required(form, ['master_pwd', 'name']);
    const format = form.fields['backup_format'] ?? 'zip';
    this.insecureStep(pwd);
    let backups: Backups | undefined;
    this.attempt('Database backup error', () => {
      this.checkSuper(pwd);
      if (!this.listDb) throw new ControllerError('Access Denied'); // http.db_list() needs list_db
      backups = this.databases.get(name);
      if (!backups) throw new ControllerError(`Database '${name}' is not known`);
    });
    const bytes = format === 'zip' ? (backups as Backups).zip : (backups as Backups).dump;
    res.writeHead(200, {
      'Content-Type': 'application/octet-stream; charset=binary',
      'Content-Disposition': `attachment; filename*=UTF-8''${name}_2026-11-28_04-30-53.${format}`,
      'X-Content-Type-Options': 'nosniff',
    });
    const cut = this.cutBackupAfter;
    const end = cut === undefined ? bytes.length : Math.min(cut, bytes.length);
    for (let at = 0; at < end; at += 64 * 1024) {
      if (!res.write(bytes.subarray(at, Math.min(end, at + 64 * 1024))))
        await new Promise((resolve) => res.once('drain', resolve));
    }
    if (cut !== undefined) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      res.destroy();
      return;
    }
    res.end();
  }

  private restore(form: Form, res: ServerResponse): void {
    const { master_pwd: pwd, name } = required(form, ['master_pwd', 'name']);
    const file = form.files['backup_file'];
    if (file === undefined) throw new PageAnswer(500, werkzeug(500, 'Internal Server Error', INTERNAL));
    this.insecureStep(pwd);
    this.attempt('Database restore error', () => {
      this.checkSuper(pwd);
      this.management();
      if (this.databases.has(name)) throw new ControllerError('Database already exists');
      if (file.length === 0) throw new ControllerError("Couldn't restore database");
      this.databases.set(name, { zip: file, dump: file });
      this.restores.push({ name, bytes: file, copy: form.fields['copy'] });
    });
    this.redirect(res, '/web/database/manager');
  }

  private changePassword(form: Form, res: ServerResponse): void {
    const { master_pwd: pwd, master_pwd_new: next } = required(form, ['master_pwd', 'master_pwd_new']);
    this.attempt('Master password update error', () => {
      this.checkSuper(pwd);
      this.management();
      this.masterPassword = next;
    });
    this.redirect(res, '/web/database/manager');
  }

  // ---------------------------------------------------------------------------------------------
  // Odoo's checks

  /** docs/wire.md §6.1: a server still on `admin` takes the given password as its new one. */
  private insecureStep(pwd: string): void {
    if (this.masterPassword !== 'admin' || pwd === '') return;
    if (!this.listDb) throw new PageAnswer(403, werkzeug(403, 'Forbidden', 'Access Denied'));
    this.masterPassword = pwd;
  }

  private checkSuper(pwd: string): void {
    if (pwd === '' || pwd !== this.masterPassword) throw new ControllerError('Access Denied');
  }

  /** `check_db_management_enabled`. */
  private management(): void {
    if (!this.listDb) throw new ControllerError('Access Denied');
  }

  /** A controller's `try: … except Exception as e: render(error=…)`. */
  private attempt(label: string, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof ControllerError)) throw e;
      throw new PageAnswer(
        200,
        this.page(`<div class="alert alert-danger">${escapeHtml(`${label}: ${e.message}`)}</div>`),
      );
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Pages

  private names(): string[] {
    return [...this.databases.keys()].sort();
  }

  /** The captured manager page, with `banner` where its error banner was, and the notices of the server's state. */
  private page(banner: string): string {
    let notices = '';
    if (!this.listDb)
      notices +=
        '<div class="alert alert-danger text-center">The database manager has been disabled by the administrator</div>';
    if (this.masterPassword === 'admin')
      notices +=
        '<div class="alert alert-warning">Warning, your Odoo database manager is not protected.<br/>Please set a master password to secure it.</div>';
    return this.template.replace(BANNER_LINE, notices + banner);
  }

  private redirect(res: ServerResponse, location: string, headers: Record<string, string> = {}): void {
    const body = `<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n<p>You should be redirected automatically to the target URL: <a href="${location}">${location}</a>. If not, click the link.\n`;
    this.sendPage(res, 303, body, { Location: location, ...headers });
  }

  private sendPage(
    res: ServerResponse,
    status: number,
    body: string,
    headers: Record<string, string> = {},
  ): void {
    const bytes = Buffer.from(body, 'utf8');
    res.writeHead(status, { 'Content-Type': HTML_CT, 'Content-Length': String(bytes.length), ...headers });
    res.end(bytes);
  }
}

const INTERNAL =
  'The server encountered an internal error and was unable to complete your request. Either the server is overloaded or there is an error in the application.';

function werkzeug(code: number, title: string, description: string): string {
  return `<!doctype html>\n<html lang=en>\n<title>${code} ${title}</title>\n<h1>${title}</h1>\n<p>${description}</p>\n`;
}

/** markupsafe's escape, as `t-out` applies it. */
function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&#34;')
    .replace(/'/g, '&#39;');
}

/** A backup for a database that has no captured one: recognisable bytes. */
function synthetic(name: string): Backups {
  const zip = Buffer.concat([
    Buffer.from('PK\x03\x04', 'latin1'),
    Buffer.from(`fake backup of ${name}\n`.repeat(50)),
  ]);
  return {
    zip,
    dump: Buffer.concat([Buffer.from('PGDMP', 'latin1'), Buffer.from(`fake dump of ${name}\n`.repeat(50))]),
  };
}

interface Form {
  fields: Record<string, string>;
  files: Record<string, Buffer>;
}

/** The arguments the route's signature requires: a missing one is a TypeError, i.e. a 500 page. */
function required<K extends string>(form: Form, names: K[]): Record<K, string> {
  const out = {} as Record<K, string>;
  for (const n of names) {
    const v = form.fields[n];
    if (v === undefined) throw new PageAnswer(500, werkzeug(500, 'Internal Server Error', INTERNAL));
    out[n] = v;
  }
  return out;
}

function parseForm(contentType: string, raw: Buffer): Form {
  const mimetype = contentType.split(';')[0]?.trim().toLowerCase();
  if (mimetype === 'application/x-www-form-urlencoded') {
    const fields: Record<string, string> = {};
    for (const [k, v] of new URLSearchParams(raw.toString('utf8'))) if (!(k in fields)) fields[k] = v;
    return { fields, files: {} };
  }
  if (mimetype === 'multipart/form-data') {
    const boundary = /boundary=("?)([^";]+)\1/.exec(contentType)?.[2];
    const parsed = boundary === undefined ? undefined : parseMultipart(raw, boundary);
    if (!parsed)
      throw new PageAnswer(
        400,
        werkzeug(
          400,
          'Bad Request',
          'The browser (or proxy) sent a request that this server could not understand.',
        ),
      );
    return parsed;
  }
  return { fields: {}, files: {} };
}

/** A complete multipart body, or undefined when it is not one (cut off, malformed). */
function parseMultipart(raw: Buffer, boundary: string): Form | undefined {
  const delimiter = Buffer.from(`--${boundary}`);
  const form: Form = { fields: {}, files: {} };
  let pos = raw.indexOf(delimiter);
  if (pos !== 0) return undefined;
  for (;;) {
    pos += delimiter.length;
    if (raw.toString('latin1', pos, pos + 2) === '--') return form;
    if (raw.toString('latin1', pos, pos + 2) !== '\r\n') return undefined;
    const headersEnd = raw.indexOf('\r\n\r\n', pos);
    if (headersEnd < 0) return undefined;
    const headers = raw.toString('utf8', pos + 2, headersEnd);
    const next = raw.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headersEnd + 4);
    if (next < 0) return undefined;
    const content = raw.subarray(headersEnd + 4, next);
    const disposition = /content-disposition:([^\r\n]*)/i.exec(headers)?.[1] ?? '';
    const name = /\bname="([^"]*)"/.exec(disposition)?.[1];
    if (name === undefined) return undefined;
    if (/\bfilename="/.test(disposition)) form.files[name] = Buffer.from(content);
    else if (!(name in form.fields)) form.fields[name] = content.toString('utf8');
    pos = next + 2;
  }
}
