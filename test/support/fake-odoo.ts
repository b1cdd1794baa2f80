/**
 * A fake Odoo 19 server for integration tests: the JSON-2 API (`POST /json/2/<model>/<method>`),
 * api_doc (`/doc-bearer/...`), `/web/version` and `/web/webclient/version_info`, answering
 * what the real server answered in the captures (test/fixtures/captures, located by
 * test/support/captures.ts): same statuses, Content-Types, error bodies, data.
 *
 *     const odoo = await startFakeOdoo();
 *     // … point the bridge at odoo.url …
 *     odoo.requests;            // everything the bridge sent
 *     odoo.data.lab.models['res.partner'].records.get(9);
 *     odoo.setFault({ kind: 'status', status: 502, times: 1 });
 *     await odoo.close();
 *
 * `/web/session/authenticate` (capture 4d-50, minimally: the password is the login; uid, db,
 * username, versions and user_context) and
 * `/web/dataset/call_kw` answer JSON-RPC for the whole-URL drop-in tests, and
 * `/web/content/big-download?mb=N` streams N MiB. Not modelled (see the test file for the
 * captures this skips): the legacy `/xmlrpc` and `/jsonrpc`
 * endpoints (the bridge serves those). `/web/database/*` is test/support/fake-odoo-database.ts
 * (`odoo.database`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  accessDenied,
  accessError,
  badRequest,
  notFound,
  notImplemented,
  OdooError,
  sessionExpired,
  unauthorized,
  unprocessable,
} from './fake-odoo-errors.ts';
import { DEFAULT_FIXTURES_DIR, loadFixtures, seedDatabase } from './fake-odoo-data.ts';
import { FakeDatabaseManager, type FakeDatabaseManagerOptions } from './fake-odoo-database.ts';
import { sendBrokenReply, type BodyFault } from './fake-odoo-faults.ts';
import {
  dumpsPy,
  isDict,
  parsePyJson,
  PyJsonDecodeError,
  PyTuple,
  type PyDict,
  type PyJson,
} from './fake-odoo-json.ts';
import { keyIdentityAnswer } from './fake-odoo-key-identity.ts';
import { checkAccess, execute, type Env, type FakeDatabase } from './fake-odoo-orm.ts';
import {
  bind,
  BindError,
  HIDDEN_CORE_METHODS,
  PRIVATE_METHODS,
  REMOVED_AFTER_19_0,
  after19,
  renameParam,
  versionInfoOf,
  type MethodSig,
} from './fake-odoo-signatures.ts';

export type { FakeDatabase } from './fake-odoo-orm.ts';

export interface FakeKey {
  key: string;
  db: string;
  uid: number;
  login: string;
  /** `expiration_date` as Odoo writes it (`YYYY-MM-DD HH:MM:SS`, UTC); absent: never expires. */
  expires?: string;
  /** `scope` (default `rpc`). */
  scope?: string | false;
}

/** A web session the fake knows (the fake has no /web/session/authenticate; tests hand them in). */
export interface FakeSession {
  sid: string;
  db: string;
  uid: number;
}

export interface FakeOdooOptions {
  /** API keys (default: the three keys of the captures). */
  keys?: FakeKey[];
  /** Databases served (default `['lab', 'lab2']`; only these two have seed data). */
  dbs?: string[];
  /** Users in the "Technical Documentation" group, who may read api_doc (default `[2]`). */
  docsAllowedUids?: number[];
  /** Session cookies (`session_id`) the fake accepts (default none). */
  sessions?: FakeSession[];
  /** Where the capture files are (default: CAPTURES_DIR of test/support/captures.ts). */
  fixturesDir?: string;
  /** The database manager's master password and list_db (default `masterpw`, true). */
  database?: FakeDatabaseManagerOptions;
  /** Port to listen on (default: a free one). */
  port?: number;
  /**
   * What `/web/version` says (default `'19.0'`; `'saas~19.2'`, `'20.0'`, …). Past 19.0 the methods
   * the next release removed (`read_group`, `check_access_rights`, `check_access_rule`) are gone.
   */
  serverVersion?: string;
  /** `res.users/context_get` answers `{}`, as in Odoo's own test suite (default false). */
  contextGetWithoutUid?: boolean;
  /** `res.users.apikeys` refused and `ir.http/session_info` missing (default false). */
  keyIdentityUnavailable?: boolean;
}

export interface RecordedRequest {
  method: string;
  /** Path and query string, as sent. */
  path: string;
  /** Header names lower-cased, as node gives them. */
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The body parsed with JSON.parse, when it is JSON. */
  json?: unknown;
}

export type FakeFault =
  /** Wait `ms` before answering at all. */
  | { kind: 'delay'; ms: number; times?: number }
  /** Send the headers and the first half of the body, then the rest after `ms`. */
  | { kind: 'slow-body'; ms: number; times?: number }
  /** Answer this instead (default body: a 502 Bad Gateway HTML page). */
  | { kind: 'status'; status: number; body?: string; contentType?: string; times?: number }
  /** 200 with a JSON Content-Type and a body that is not JSON. */
  | { kind: 'garbage'; times?: number }
  /** Announce a longer Content-Length than sent, send half the body, then destroy the socket. */
  | { kind: 'truncate'; times?: number }
  /** Destroy the socket without answering. */
  | { kind: 'reset'; times?: number }
  /** reset-mid-body, truncated-json, big-garbage (test/support/fake-odoo-faults.ts). */
  | BodyFault;

/** The in-memory databases by name. */
export type FakeOdooData = Record<string, FakeDatabase>;

export interface FakeOdoo {
  /** `http://127.0.0.1:<port>` */
  url: string;
  requests: RecordedRequest[];
  data: FakeOdooData;
  keys: FakeKey[];
  /** The `/web/database/*` routes and their state (databases, master password, list_db, ...). */
  database: FakeDatabaseManager;
  /** Faults apply to `/json/2` and `/doc-bearer` requests; `times` defaults to "until cleared". */
  setFault(f: FakeFault | null): void;
  /** Bytes of `/web/content/big-download` written so far (all downloads together). */
  bigDownloadWritten(): number;
  /** TCP connections accepted so far. */
  connectionsAccepted(): number;
  /** Closes the listener and every connection: connecting is refused until listenAgain(). */
  stopListening(): Promise<void>;
  /** Listens again on the same port. */
  listenAgain(): Promise<void>;
  /** Signature drift: a module renamed `method`'s parameter (binding, and `/doc-bearer` unless `doc: false`). */
  renameParam(
    db: string,
    model: string,
    method: string,
    from: string,
    to: string,
    opts?: { doc?: boolean },
  ): void;
  close(): Promise<void>;
}

/** The API keys of the captures (a throwaway lab server's). */
export const CAPTURED_KEYS: FakeKey[] = [
  { key: '040753787b83d20c2e9ba76e9a13369befc5a77a', db: 'lab', uid: 2, login: 'admin' },
  { key: '18b3aae398e1cedc8d2df380a3f77a8c74fadbe3', db: 'lab', uid: 5, login: 'demo' },
  { key: '6c521ba6f15f551e57ecfb133629732591b480d9', db: 'lab2', uid: 2, login: 'admin' },
];

const VERSION_INFO: PyJson = [19, 0, 0, 'final', 0, ''];
const JSON_CT = 'application/json; charset=utf-8';
const HTML_CT = 'text/html; charset=utf-8';

// Captured bodies (4d-23, 4d-52, 4e-11) and werkzeug's page layout for the others.
const NOT_FOUND_NODB =
  '<!DOCTYPE html>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>No database is selected and the requested URL was not found in the server-wide controllers.</p>\n<p>Please verify the hostname, <a href=/web/login>login</a> and try again.</p>\n\n<!-- Alternatively, use the X-Odoo-Database header. -->\n';
const NOT_FOUND_DESCRIPTION =
  'The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.';

function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function werkzeugPage(code: number, title: string, description: string): string {
  return `<!doctype html>\n<html lang=en>\n<title>${code} ${title}</title>\n<h1>${title}</h1>\n<p>${description}</p>\n`;
}

const STATUS_TITLES: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

const DOC_ETAGS: Record<string, { index: string; model: string; lastModified: string; file: string }> = {
  lab: {
    index: '4bf3894a2f29e1fcd9c755aaca09e77d45ed7d202a306c0db8c648a732125f12',
    model: '844f65f3039f252ea7b0b77ee1e076c8e89fd5e72381539ced97096001bbd688',
    lastModified: 'Sat, 28 Nov 2026 04:30:16 GMT',
    file: 'odoo-doc-index-2-4bf3894a2f29e1fcd9c755aaca09e77d45ed7d202a306c0db8c648a732125f12.json',
  },
  lab2: {
    index: '6a5c9b14272b62d329db3331db6b48cbe714f1902a1ada8f5f790402fa6c84fd',
    // Not captured: lab2's model pages carry another HMAC; any stable value does.
    model: '2e0f3b8d9f1c4a5b6c7d8e9f00112233445566778899aabbccddeeff00112233',
    lastModified: 'Sat, 28 Nov 2026 04:30:17 GMT',
    file: 'odoo-doc-index-2-6a5c9b14272b62d329db3331db6b48cbe714f1902a1ada8f5f790402fa6c84fd.json',
  },
};

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function jsonReply(status: number, value: PyJson, headers: Record<string, string> = {}): Reply {
  return { status, headers: { ...headers, 'Content-Type': JSON_CT }, body: dumpsPy(value) };
}

function errorReply(err: OdooError): Reply {
  return jsonReply(err.status, err.body(), err.headers);
}

function htmlReply(status: number, body: string, headers: Record<string, string> = {}): Reply {
  return { status, headers: { 'Content-Type': HTML_CT, ...headers }, body };
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function etagMatches(req: IncomingMessage, etag: string): boolean {
  const cc = String(req.headers['cache-control'] ?? '');
  if (/(^|,)\s*no-cache\s*(,|$)/i.test(cc)) return false;
  const inm = req.headers['if-none-match'];
  if (!inm) return false;
  return inm.split(',').some((t) => {
    const v = t
      .trim()
      .replace(/^W\//, '')
      .replace(/^"(.*)"$/, '$1');
    return v === '*' || v === etag;
  });
}

class FakeOdooServer {
  readonly opts: Required<Omit<FakeOdooOptions, 'port'>>;
  readonly data: FakeOdooData = {};
  readonly requests: RecordedRequest[] = [];
  fault: FakeFault | null = null;
  faultLeft = Infinity;
  bigWritten = 0;
  readonly database: FakeDatabaseManager;

  constructor(opts: FakeOdooOptions) {
    this.opts = {
      keys: opts.keys ?? CAPTURED_KEYS.map((k) => ({ ...k })),
      dbs: opts.dbs ?? ['lab', 'lab2'],
      docsAllowedUids: opts.docsAllowedUids ?? [2],
      sessions: opts.sessions ?? [],
      fixturesDir: opts.fixturesDir ?? DEFAULT_FIXTURES_DIR,
      database: opts.database ?? {},
      serverVersion: opts.serverVersion ?? '19.0',
      contextGetWithoutUid: opts.contextGetWithoutUid ?? false,
      keyIdentityUnavailable: opts.keyIdentityUnavailable ?? false,
    };
    const fx = loadFixtures(this.opts.fixturesDir);
    for (const db of this.opts.dbs) {
      if (db !== 'lab' && db !== 'lab2')
        throw new Error(`fake Odoo has seed data for 'lab' and 'lab2' only, not '${db}'`);
      this.data[db] = seedDatabase(fx, db);
    }
    this.database = new FakeDatabaseManager(
      this.opts.dbs,
      this.opts.fixturesDir,
      this.opts.database,
      (name) => {
        delete this.data[name];
      },
    );
  }

  setFault(f: FakeFault | null): void {
    this.fault = f;
    this.faultLeft = f?.times ?? Infinity;
  }

  /** The fault to apply to this request, if any (counts it). */
  takeFault(path: string): FakeFault | null {
    if (
      !this.fault ||
      !(path === '/json/2' || path.startsWith('/json/2/') || path.startsWith('/doc-bearer/'))
    )
      return null;
    const f = this.fault;
    if (--this.faultLeft <= 0) this.setFault(null);
    return f;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    const body = raw.toString('utf8');
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: { ...req.headers },
      body,
    };
    if (body) {
      try {
        recorded.json = JSON.parse(body) as unknown;
      } catch {
        // not JSON: leave `json` out
      }
    }
    this.requests.push(recorded);

    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    if (path === '/web/content/big-download') return this.bigDownload(req, res);
    if (this.database.handles(path)) return this.database.handle(req, res, path, raw);
    const fault = this.takeFault(path);
    if (fault?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'delay') await new Promise((r) => setTimeout(r, fault.ms));
    if (fault?.kind === 'status') {
      const title = STATUS_TITLES[fault.status] ?? 'Error';
      const b =
        fault.body ?? werkzeugPage(fault.status, title, `fake upstream answered ${fault.status} ${title}`);
      return this.send(res, {
        status: fault.status,
        headers: { 'Content-Type': fault.contentType ?? HTML_CT },
        body: b,
      });
    }
    if (fault?.kind === 'garbage') {
      return this.send(res, {
        status: 200,
        headers: { 'Content-Type': JSON_CT },
        body: '<html>this is not JSON</html>',
      });
    }

    let reply: Reply;
    try {
      reply = this.route(req, path, body);
    } catch (e) {
      if (e instanceof HttpReply) reply = e.reply;
      else if (e instanceof OdooError) reply = errorReply(e);
      else throw e;
    }

    if (fault?.kind === 'truncate') {
      const bytes = Buffer.from(reply.body, 'utf8');
      res.writeHead(reply.status, { ...reply.headers, 'Content-Length': String(bytes.length + 100) });
      res.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
      setTimeout(() => res.destroy(), 10);
      return;
    }
    if (fault?.kind === 'reset-mid-body' || fault?.kind === 'truncated-json' || fault?.kind === 'big-garbage')
      return sendBrokenReply(res, fault, reply);
    if (fault?.kind === 'slow-body') {
      const bytes = Buffer.from(reply.body, 'utf8');
      res.writeHead(reply.status, { ...reply.headers, 'Content-Length': String(bytes.length) });
      res.write(bytes.subarray(0, Math.floor(bytes.length / 2)));
      await new Promise((r) => setTimeout(r, fault.ms));
      if (!res.destroyed) res.end(bytes.subarray(Math.floor(bytes.length / 2)));
      return;
    }
    this.send(res, reply);
  }

  /** `GET /web/content/big-download?mb=N`: N MiB (default 50) of bytes, written as the client reads. */
  async bigDownload(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const mb = Number(new URL(req.url ?? '/', 'http://fake').searchParams.get('mb') ?? '50');
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    res.writeHead(200, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(mb * chunk.length),
      'Content-Disposition': 'attachment; filename=big.bin',
    });
    for (let i = 0; i < mb && !res.destroyed; i++) {
      this.bigWritten += chunk.length;
      if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
    }
    res.end();
  }

  send(res: ServerResponse, reply: Reply): void {
    // Odoo adds `X-Content-Type-Options: nosniff` to its successful answers (not to errors).
    const ok = reply.status < 300 || reply.status === 304;
    const headers = ok ? { ...reply.headers, 'X-Content-Type-Options': 'nosniff' } : reply.headers;
    if (reply.status === 304) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    const bytes = Buffer.from(reply.body, 'utf8');
    res.writeHead(reply.status, { ...headers, 'Content-Length': String(bytes.length) });
    res.end(bytes);
  }

  // -------------------------------------------------------------------------------------------
  // Routing

  route(req: IncomingMessage, path: string, body: string): Reply {
    const method = req.method ?? 'GET';
    if (path === '/web/version' || path === '/json/version') {
      const version = this.opts.serverVersion;
      return jsonReply(200, {
        version_info: version === '19.0' ? VERSION_INFO : versionInfoOf(version),
        version,
      });
    }
    if (path === '/web/webclient/version_info') {
      let id: PyJson = null;
      try {
        const parsed = parsePyJson(body);
        if (isDict(parsed) && 'id' in parsed) id = parsed.id as PyJson;
      } catch {
        // a JSON-RPC parse error is not modelled; answer with id null
      }
      return jsonReply(200, {
        jsonrpc: '2.0',
        id,
        result: {
          server_version: '19.0',
          server_version_info: VERSION_INFO,
          server_serie: '19.0',
          protocol_version: 1,
        },
      });
    }

    const sel = this.selectDb(req);
    if ('reply' in sel) return sel.reply;
    const { db, session } = sel;
    if (path === '/web/session/authenticate') return this.sessionAuthenticate(body);
    if (!db) return htmlReply(404, NOT_FOUND_NODB);
    if (path === '/web/dataset/call_kw' || path.startsWith('/web/dataset/call_kw/'))
      return this.callKw(db, session, body);

    if (path === '/json/2' || path.startsWith('/json/2/')) {
      const parts = path === '/json/2' ? [] : path.slice('/json/2/'.length).split('/');
      const isRpc = method === 'POST' && parts.length === 2 && parts.every((p) => p.length > 0);
      const routeName = isRpc ? '/json/2/<__model__>/<__method__>' : '/json/2';
      this.checkMediaType(req, routeName);
      if (!isRpc) {
        // The catch-all route (auth='public') parses the body, then always answers 404.
        this.parseBody(req, body);
        throw notFound('Did you mean POST /json/2/<model>/<method>?');
      }
      const uid = this.authBearer(req, db, session);
      const params = this.parseBody(req, body);
      const [model, fn] = parts.map(decodeURIComponent) as [string, string];
      const data = this.data[db] as FakeDatabase;
      const userName = (id: number): string => {
        const rows = this.rpc(data, 2, 'res.users', 'read', [
          ['ids', [id]],
          ['fields', ['name']],
        ]);
        return Array.isArray(rows) ? String((rows[0] as PyDict | undefined)?.['name'] ?? '') : '';
      };
      const own = keyIdentityAnswer(this.opts, db, uid, model, fn, Object.fromEntries(params), userName);
      if (own !== undefined) return jsonReply(200, own);
      return jsonReply(200, this.rpc(data, uid, model, fn, params));
    }

    if (path.startsWith('/doc-bearer/') && path.endsWith('.json')) {
      const name = path.slice('/doc-bearer/'.length, -'.json'.length);
      const isIndex = name === 'index';
      this.checkMediaType(req, isIndex ? '/doc-bearer/index.json' : '/doc-bearer/<model_name>.json');
      const uid = this.authBearer(req, db, session);
      this.parseBody(req, body);
      return this.doc(req, this.data[db] as FakeDatabase, uid, isIndex ? null : decodeURIComponent(name));
    }

    if (path === '/doc/index.json' || (path.startsWith('/doc/') && path.endsWith('.json'))) {
      // auth='user': only a session user gets in.
      this.checkMediaType(req, path === '/doc/index.json' ? '/doc/index.json' : '/doc/<model_name>.json');
      if (!session) throw sessionExpired();
      this.parseBody(req, body);
      const name = path.slice('/doc/'.length, -'.json'.length);
      return this.doc(
        req,
        this.data[db] as FakeDatabase,
        session.uid,
        name === 'index' ? null : decodeURIComponent(name),
      );
    }
    if (path === '/doc' || path === '/doc/index.html' || path.startsWith('/doc/')) {
      if (!session) {
        const query = new URL(req.url ?? '/', 'http://fake').search;
        const target = `/web/login?redirect=${encodeURIComponent(`${path}?${query.slice(1)}`)}`;
        return htmlReply(
          303,
          `<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n<p>You should be redirected automatically to the target URL: <a href="${escapeHtml(target)}">${escapeHtml(target)}</a>. If not, click the link.\n`,
          { Location: target },
        );
      }
      throw notImplemented('the /doc HTML pages');
    }
    return htmlReply(404, werkzeugPage(404, 'Not Found', NOT_FOUND_DESCRIPTION));
  }

  /**
   * `POST /web/session/authenticate` (capture 4d-50), minimally: the password is the user's login
   * (the lab's admin/admin); answers a session_id cookie and part of the session info.
   */
  sessionAuthenticate(body: string): Reply {
    const req = JSON.parse(body) as {
      id?: PyJson;
      params?: { db?: string; login?: string; password?: string };
    };
    const { db = '', login = '', password = '' } = req.params ?? {};
    const key = this.opts.keys.find((k) => k.db === db && k.login === login);
    if (!key || password !== login || !this.data[db])
      return jsonReply(200, {
        jsonrpc: '2.0',
        id: req.id ?? null,
        error: {
          code: 200,
          message: 'Odoo Server Error',
          data: {
            name: 'odoo.exceptions.AccessDenied',
            message: 'Access Denied',
            arguments: ['Access Denied'],
            context: {},
            debug: '',
          },
        },
      });
    const sid = `fake-session-${this.opts.sessions.length + 1}-${key.uid}`;
    this.opts.sessions.push({ sid, db, uid: key.uid });
    return jsonReply(
      200,
      {
        jsonrpc: '2.0',
        id: req.id ?? null,
        result: {
          uid: key.uid,
          db,
          username: login,
          server_version: '19.0',
          server_version_info: VERSION_INFO,
          // session_info's `user_context` is the user's `context_get()` (odoorpc 0.9 reads it).
          user_context: this.rpc(this.data[db] as FakeDatabase, key.uid, 'res.users', 'context_get', []),
        },
      },
      {
        'Set-Cookie': `session_id=${sid}; Expires=Sun, 28 Nov 2027 04:31:52 GMT; Max-Age=604800; HttpOnly; Path=/`,
      },
    );
  }

  /** `POST /web/dataset/call_kw[/<path>]` with a session cookie: a JSON-RPC ORM call. */
  callKw(db: string, session: FakeSession | null, body: string): Reply {
    const req = parsePyJson(body) as unknown as {
      id?: PyJson;
      params?: { model?: string; method?: string; args?: PyJson[]; kwargs?: PyDict };
    };
    if (!session)
      return jsonReply(200, {
        jsonrpc: '2.0',
        id: req.id ?? null,
        error: {
          code: 100,
          message: 'Odoo Session Expired',
          data: {
            name: 'odoo.http.SessionExpiredException',
            message: 'Session expired',
            arguments: ['Session expired'],
            context: {},
            debug: '',
          },
        },
      });
    const { model = '', method = '', args = [], kwargs = {} } = req.params ?? {};
    const [first] = args;
    const params: [string, PyJson][] = Object.entries(kwargs);
    if (first !== undefined) params.push([method === 'search_read' ? 'domain' : 'ids', first]);
    return jsonReply(200, {
      jsonrpc: '2.0',
      id: req.id ?? null,
      result: this.rpc(this.data[db] as FakeDatabase, session.uid, model, method, params),
    });
  }

  /** `_get_session_and_dbname` (docs/wire.md §4.2), without dbfilter. */
  selectDb(req: IncomingMessage): { db: string | null; session: FakeSession | null } | { reply: Reply } {
    const header = req.headers['x-odoo-database'];
    const headerDb = typeof header === 'string' ? header : null;
    const sid = cookie(req, 'session_id');
    const session = sid ? (this.opts.sessions.find((s) => s.sid === sid && this.data[s.db]) ?? null) : null;
    if (session) {
      if (headerDb !== null && headerDb !== session.db) {
        return {
          reply: htmlReply(
            403,
            werkzeugPage(
              403,
              'Forbidden',
              'Cannot use both the session_id cookie and the x-odoo-database header.',
            ),
          ),
        };
      }
      return { db: session.db, session };
    }
    if (headerDb !== null) return { db: this.data[headerDb] ? headerDb : null, session: null };
    const dbs = Object.keys(this.data);
    return { db: dbs.length === 1 ? (dbs[0] as string) : null, session: null };
  }

  /** A json2 route refuses a non-JSON body with 415 (HTML), before authentication. */
  checkMediaType(req: IncomingMessage, routeName: string): void {
    const length = Number(req.headers['content-length'] ?? 0);
    const mimetype =
      String(req.headers['content-type'] ?? '')
        .split(';')[0]
        ?.trim()
        .toLowerCase() ?? '';
    if (!length || mimetype === 'application/json') return;
    const compatible = ['http', ...(mimetype === 'application/json-rpc' ? ['jsonrpc'] : [])];
    const description = escapeHtml(
      `Request inferred type is compatible with [${compatible.map((c) => `'${c}'`).join(', ')}] but '${routeName}' is type='json2'.\n\nPlease verify the Content-Type request header and try again.`,
    ).replace(/\n/g, '<br>');
    throw new HttpReply(
      htmlReply(415, werkzeugPage(415, 'Unsupported Media Type', description), {
        Accept: 'application/json',
      }),
    );
  }

  /** `ir.http._auth_method_bearer` (docs/wire.md §4.3). */
  authBearer(req: IncomingMessage, db: string, session: FakeSession | null): number {
    const header = req.headers.authorization;
    const m = typeof header === 'string' ? /^bearer\s+(.+)$/i.exec(header) : null;
    if (m) {
      const token = m[1] as string;
      const key = this.opts.keys.find((k) => k.key === token && k.db === db);
      const user = key ? this.data[db]?.models['res.users']?.records.get(key.uid) : undefined;
      if (!key || (user && user.active === false)) throw unauthorized('Invalid apikey');
      if (session && session.uid !== key.uid)
        throw accessDenied('Session user does not match the used apikey.');
      return key.uid;
    }
    if (!session)
      throw unauthorized('User not authenticated, use an API Key with a Bearer Authorization header.');
    const h = req.headers;
    const interactive =
      h['sec-fetch-dest'] === 'document' &&
      h['sec-fetch-mode'] === 'navigate' &&
      (h['sec-fetch-site'] === 'none' || h['sec-fetch-site'] === 'same-origin') &&
      h['sec-fetch-user'] === '?1';
    if (!interactive) throw unauthorized('Missing "Authorization" or Sec-headers for interactive usage.');
    return session.uid;
  }

  /** `Json2Dispatcher.dispatch`: the body counts only with a Content-Length, and only if it is an object. */
  parseBody(req: IncomingMessage, body: string): [string, PyJson][] {
    if (!Number(req.headers['content-length'] ?? 0)) return [];
    let parsed: PyJson;
    try {
      parsed = parsePyJson(body);
    } catch (e) {
      if (e instanceof PyJsonDecodeError) throw badRequest(`could not parse the body as json: ${e.message}`);
      throw e;
    }
    return isDict(parsed) ? Object.entries(parsed) : [];
  }

  // -------------------------------------------------------------------------------------------
  // JSON-2 call (`WebJson2Controller.web_json_2_rpc`)

  rpc(
    db: FakeDatabase,
    uid: number,
    modelName: string,
    methodName: string,
    params: [string, PyJson][],
  ): PyJson {
    let ids: PyJson = [];
    let context: PyJson | undefined;
    const kwargs: [string, PyJson][] = [];
    for (const [k, v] of params) {
      if (k === '__model__' || k === '__method__') continue;
      if (k === 'ids') ids = v;
      else if (k === 'context') context = v;
      else kwargs.push([k, v]);
    }
    if (!db.registry.has(modelName)) throw notFound(`the model '${modelName}' does not exist`);
    const model = db.models[modelName];

    const privateMsg = `Private methods (such as '${modelName}.${methodName}') cannot be called remotely.`;
    if (methodName.startsWith('_')) throw accessError(privateMsg);
    const exists =
      (model?.methods.has(methodName) ?? false) ||
      (db.registry.get(modelName)?.methods.has(methodName) ?? false) ||
      HIDDEN_CORE_METHODS.some((m) => m.name === methodName);
    if (PRIVATE_METHODS.has(methodName)) throw accessError(privateMsg);
    if (!exists || (REMOVED_AFTER_19_0.has(methodName) && after19(this.opts.serverVersion)))
      throw notFound(`The method '${modelName}.${methodName}' does not exist`);
    if (!model) throw notImplemented(`the model '${modelName}'`);
    const sig: MethodSig | undefined = model.methods.get(methodName);
    if (!sig) throw notImplemented(`the signature of ${modelName}.${methodName}`);

    const idList = normalizeIds(ids);
    if (sig.apiModel && idList.length) throw unprocessable(`cannot call ${modelName}.${methodName} with ids`);
    let bound;
    try {
      bound = bind(sig, kwargs);
    } catch (e) {
      if (e instanceof BindError) throw unprocessable(e.message);
      throw e;
    }
    // `with_context(context)` replaces the request context ({'lang': …}); `"context": null`
    // keeps it.
    const ctx: PyDict =
      context === undefined ? {} : context === null ? { lang: 'en_US' } : isDict(context) ? context : {};
    const env: Env = { db, uid, context: ctx };
    // One request is one transaction: run on a copy of the touched state, keep it on success.
    const snapshot = snapshotDb(db);
    try {
      return execute({ env, model, method: sig, ids: idList, bound });
    } catch (e) {
      restoreDb(db, snapshot);
      throw e;
    }
  }

  // -------------------------------------------------------------------------------------------
  // api_doc

  doc(req: IncomingMessage, db: FakeDatabase, uid: number, modelName: string | null): Reply {
    if (!this.opts.docsAllowedUids.includes(uid)) {
      throw accessError('This page is only accessible to Technical Documentation users.');
    }
    const tags = DOC_ETAGS[db.name] as (typeof DOC_ETAGS)[string];
    if (modelName === null) {
      if (etagMatches(req, tags.index)) return { status: 304, headers: {}, body: '' };
      return jsonReply(200, db.docIndex, {
        'Content-Disposition': `inline; filename=${tags.file}`,
        'Last-Modified': tags.lastModified,
        'Cache-Control': 'no-cache, private',
        ETag: `"${tags.index}"`,
        'Content-Security-Policy': "default-src 'none'",
        'Content-Language': 'en-US',
      });
    }
    if (!db.registry.has(modelName)) throw notFound(NOT_FOUND_DESCRIPTION);
    const model = db.models[modelName];
    if (!model) throw notImplemented(`the api_doc page of '${modelName}'`);
    checkAccess({ db, uid, context: {} }, model, 'read');
    if (etagMatches(req, tags.model)) return { status: 304, headers: {}, body: '' };
    return jsonReply(200, model.doc, {
      ETag: tags.model,
      'Cache-Control': 'no-cache, private',
      'Content-Language': 'en-US',
    });
  }
}

/** A ready-made reply thrown from deep inside routing (the 415 page). */
class HttpReply extends OdooError {
  readonly reply: Reply;
  constructor(reply: Reply) {
    super(reply.status, 'werkzeug.exceptions.HTTPException', '', []);
    this.reply = reply;
  }
}

function normalizeIds(ids: PyJson): number[] {
  if (ids === null || ids === false) return [];
  if (typeof ids === 'number') return [ids];
  const list = ids instanceof PyTuple ? ids.items : ids;
  if (Array.isArray(list)) {
    return list.map((x) => {
      if (typeof x !== 'number' || !Number.isInteger(x))
        throw notImplemented(`ids that are not integers (${dumpsPy(ids)})`);
      return x;
    });
  }
  throw notImplemented(`ids of this shape (${dumpsPy(ids)})`);
}

interface Snapshot {
  tables: Map<string, { records: Map<number, PyDict>; nextId: number }>;
}

function snapshotDb(db: FakeDatabase): Snapshot {
  const tables = new Map<string, { records: Map<number, PyDict>; nextId: number }>();
  for (const [name, m] of Object.entries(db.models)) {
    tables.set(name, { records: new Map([...m.records].map(([id, r]) => [id, { ...r }])), nextId: m.nextId });
  }
  return { tables };
}

/** Rolls back the records (in place); sequences keep what they handed out, as in PostgreSQL. */
function restoreDb(db: FakeDatabase, snap: Snapshot): void {
  for (const [name, t] of snap.tables) {
    const m = db.models[name];
    if (!m) continue;
    m.records.clear();
    for (const [id, r] of t.records) m.records.set(id, r);
  }
}

/** Starts a fake Odoo 19 server on 127.0.0.1. */
export async function startFakeOdoo(opts: FakeOdooOptions = {}): Promise<FakeOdoo> {
  const fake = new FakeOdooServer(opts);
  const server: Server = createServer((req, res) => {
    fake.handle(req, res).catch((e: unknown) => {
      const reply =
        e instanceof HttpReply
          ? e.reply
          : jsonReply(500, {
              name: 'fake_odoo.Crash',
              message: String(e instanceof Error ? (e.stack ?? e.message) : e),
              arguments: [],
              context: {},
              debug: '',
            });
      if (!res.headersSent) fake.send(res, reply);
      else res.destroy();
    });
  });
  let accepted = 0;
  server.on('connection', () => accepted++);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests: fake.requests,
    data: fake.data,
    keys: fake.opts.keys,
    database: fake.database,
    setFault: (f) => fake.setFault(f),
    bigDownloadWritten: () => fake.bigWritten,
    connectionsAccepted: () => accepted,
    renameParam: (db, model, method, from, to, o) => {
      const m = fake.data[db]?.models[model];
      if (!m) throw new Error(`fake Odoo: no model ${db}/${model}`);
      renameParam(m, method, from, to, o);
    },
    stopListening: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
    listenAgain: () =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        if (!server.listening) return resolve();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
