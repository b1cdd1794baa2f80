/**
 * The legacy `db` service (docs/wire.md §1.3, §6), served from Odoo 19's database manager
 * (`/web/database/*`), `/web/version` and JSON-2.
 *
 * As in Odoo's `odoo.service.db.dispatch`: `db_exist`, `list`, `list_lang` and `server_version`
 * take no master password; every other function takes it as `params[0]` (an empty one is Access
 * Denied); an unknown name is `KeyError('Method not found: <name>')`. The web routes check the
 * master password themselves and answer 303 or an HTML page with an error banner
 * (upstream/web-database.ts); each answer becomes what the legacy function returns or raises.
 *
 * Two things the web routes do that legacy Odoo does not are headed off before any form is sent:
 * - on a server whose master password is still the default `admin`, the routes first make the
 *   given master password the new one (§6.1): legacy refuses any other password, so the bridge
 *   refuses it too (GET /web/database/manager tells whether the server is in that state);
 * - a master password is checked by Odoo only once a restore's whole upload has arrived: the
 *   bridge checks it first (a backup of no database: "Access Denied" for a wrong password, "is
 *   not known" for the right one) so that nothing is forwarded for a wrong one.
 *
 * `dump` answers a stream (the backup through a base64 encoder, never held whole); `restore`
 * takes one (the request's backup parameter, base64-decoded as it arrives), see
 * server/db-streams.ts. The master password is never logged and never put in a fault.
 */
import { firstServing } from '../upstream/routes.ts';
import { frozenFault, masterPasswordFrozenFault } from './freeze.ts';
import {
  accessDenied,
  bridgeError,
  databaseManagerError,
  odooException,
  pythonError,
  notJsonAnswer,
  textStart,
  upstreamError,
  OdooFault,
} from '../errors.ts';
import { RestoreDecoder } from '../protocol/base64-stream.ts';
import { pyFloatRepr } from '../protocol/py-float.ts';
import { faultFromJson2 } from '../upstream/json2-errors.ts';
import { unexpectedAnswer, type FormRoute, type WebOutcome } from '../upstream/web-database.ts';
import {
  Binary,
  DateTime,
  PyFloat,
  pyTypeName,
  truthy,
  valueResult,
  type CallResult,
  type Value,
} from '../values.ts';
import type { CallContext, Service, ServiceFunction, ServiceResult } from './service.ts';

/** A legacy db function's Python signature (after the master password), for Python's TypeErrors. */
interface Signature {
  fn: string;
  params: readonly string[];
  required: number;
}

type Plain = (params: Value[], ctx: CallContext) => Promise<ServiceResult>;
type WithMaster = (password: string, args: Value[], ctx: CallContext) => Promise<ServiceResult>;

/**
 * The backup parameter of a `restore` call, as the route reads it: the call's start, the
 * parameter's text as it arrives, and the rest of the call once the text is over.
 */
export interface RestoreUpload {
  /** `[master_pwd, db_name]`. */
  head: Value[];
  /** The backup, base64, as text. */
  text: AsyncIterable<string>;
  /** All the call's params (the backup's place holds a placeholder); throws the fault of a bad request. */
  finish(): Promise<Value[]>;
}

// ------------------------------------------------------------------------------------------------
// Dispatch

/** `odoo.service.db.dispatch(method, params)`. */
async function dispatchDb(method: string, params: Value[], ctx: CallContext): Promise<ServiceResult> {
  const plain = Object.hasOwn(PLAIN, method) ? PLAIN[method] : undefined;
  if (plain) {
    const error = arityError(SIGNATURES[method] as Signature, params);
    if (error) throw error;
    return plain(params, ctx);
  }
  const fn = WITH_MASTER[method] as WithMaster;
  if (params.length === 0) throw pythonError('IndexError', 'list index out of range');
  const [password, ...args] = params as [Value, ...Value[]];
  if (!truthy(password) || typeof password !== 'string') throw accessDenied();
  const error = arityError(SIGNATURES[method] as Signature, args);
  if (error && !UNSERVED.has(method)) {
    // Odoo checks the master password first.
    await verifyMasterPassword(password, ctx);
    throw error;
  }
  return fn(password, args, ctx);
}

const SIGNATURES: Record<string, Signature> = {
  db_exist: { fn: 'exp_db_exist', params: ['db_name'], required: 1 },
  list: { fn: 'exp_list', params: ['document'], required: 0 },
  list_lang: { fn: 'exp_list_lang', params: [], required: 0 },
  server_version: { fn: 'exp_server_version', params: [], required: 0 },
  create_database: {
    fn: 'exp_create_database',
    params: ['db_name', 'demo', 'lang', 'user_password', 'login', 'country_code', 'phone'],
    required: 3,
  },
  duplicate_database: {
    fn: 'exp_duplicate_database',
    params: ['db_original_name', 'db_name', 'neutralize_database'],
    required: 2,
  },
  drop: { fn: 'exp_drop', params: ['db_name'], required: 1 },
  dump: { fn: 'exp_dump', params: ['db_name', 'format'], required: 2 },
  restore: { fn: 'exp_restore', params: ['db_name', 'data', 'copy'], required: 2 },
  rename: { fn: 'exp_rename', params: ['old_name', 'new_name'], required: 2 },
  change_admin_password: { fn: 'exp_change_admin_password', params: ['new_password'], required: 1 },
  migrate_databases: { fn: 'exp_migrate_databases', params: ['databases'], required: 1 },
  list_countries: { fn: 'exp_list_countries', params: [], required: 0 },
};

/** Python's TypeError for calling `sig.fn(*args)` with the wrong number of arguments. */
function arityError(sig: Signature, args: Value[]): OdooFault | undefined {
  const total = sig.params.length;
  const given = args.length;
  if (given > total) {
    const takes =
      sig.required === total
        ? `${total} positional argument${total === 1 ? '' : 's'}`
        : `from ${sig.required} to ${total} positional arguments`;
    return pythonError(
      'TypeError',
      `${sig.fn}() takes ${takes} but ${given} ${given === 1 ? 'was' : 'were'} given`,
    );
  }
  if (given < sig.required) {
    const missing = sig.params.slice(given, sig.required).map((p) => `'${p}'`);
    const list =
      missing.length === 1
        ? missing[0]
        : missing.length === 2
          ? `${missing[0]} and ${missing[1]}`
          : `${missing.slice(0, -1).join(', ')}, and ${missing[missing.length - 1]}`;
    return pythonError(
      'TypeError',
      `${sig.fn}() missing ${missing.length} required positional argument${missing.length === 1 ? '' : 's'}: ${list}`,
    );
  }
  return undefined;
}

// ------------------------------------------------------------------------------------------------
// Functions without a master password

const PLAIN: Record<string, Plain> = {
  async list(_params, ctx) {
    return valueResult(await listedDatabases(ctx));
  },

  async db_exist(params, ctx) {
    const name = params[0];
    if (typeof name !== 'string') return valueResult(false); // Odoo: any failure to connect is False
    ctx.notes.db = name;
    const listed = await ctx.webDb.list(ctx.requestId);
    if (listed.kind === 'list') return valueResult(listed.names.includes(name));
    if (!isAccessDenied(listed.name)) throw listError(listed);
    // list_db = False: ask JSON-2 whether the database opens (401 for no key) or not (404).
    if (ctx.config.dbHeader === 'never')
      throw bridgeError(
        'db.db_exist cannot tell: Odoo refuses /web/database/list (list_db = False) and ODOO_DB_HEADER=never forbids naming a database',
      );
    const answer = await ctx.odoo.json2('res.users', 'context_get', '{}', {
      db: name,
      requestId: ctx.requestId,
    });
    if (answer.status === 401) return valueResult(true);
    if (answer.status === 404) return valueResult(false);
    throw faultFromJson2(answer, {
      db: name,
      model: 'res.users',
      method: 'context_get',
      baseUrl: ctx.odoo.baseUrl,
    });
  },

  async server_version(_params, ctx) {
    return valueResult((await ctx.version.get()).version);
  },

  async list_lang(_params, ctx) {
    const rows = await serviceSearchRead(ctx, 'list_lang', 'res.lang', ['code', 'name']);
    return valueResult(byName(rows.map((r) => [String(r['code']), String(r['name'])])));
  },
};

async function listedDatabases(ctx: CallContext): Promise<string[]> {
  if (ctx.routes.all().length > 1) return unionOfLists(ctx);
  const listed = await ctx.webDb.list(ctx.requestId);
  if (listed.kind === 'list') return listed.names;
  throw listError(listed, ctx);
}

function isAccessDenied(name: string): boolean {
  return name === 'odoo.exceptions.AccessDenied';
}

/** `/web/database/list`'s JSON-RPC error as the legacy fault (Access Denied when `list_db = False`). */
function listError(e: { name: string; message: string }, ctx?: CallContext): OdooFault {
  if (isAccessDenied(e.name)) {
    if (ctx) hint(ctx, LIST_DB_HINT);
    return accessDenied(e.message || 'Access Denied');
  }
  return odooException({ kind: 'generic', name: e.name, message: e.message });
}

const LIST_DB_HINT =
  "Odoo's database manager is disabled (list_db = False in its configuration): legacy Odoo answers Access Denied too; " +
  'set list_db = True on the Odoo server to serve the db service';

function hint(ctx: CallContext, text: string): void {
  ctx.log.warn({ requestId: ctx.requestId, hint: text }, 'db service');
}

// ------------------------------------------------------------------------------------------------
// Functions with a master password

const UNSERVED = new Set(['rename', 'migrate_databases']);

const WITH_MASTER: Record<string, WithMaster> = {
  async create_database(password, args, ctx) {
    const [
      name = null,
      demo = null,
      lang = null,
      userPassword = 'admin',
      login = 'admin',
      country = null,
      phone = null,
    ] = args;
    ctx.notes.db = formValue(name);
    await guardMasterPassword(password, ctx);
    refuseIfFrozen(ctx, formValue(name), 'db.create_database');
    const fields: Record<string, string> = {
      master_pwd: password,
      name: formValue(name),
      lang: formValue(lang),
      password: formValue(userPassword),
      login: formValue(login),
      phone: formValue(phone),
    };
    // The route reads these by truthiness of the form value: absent is false.
    if (truthy(country)) fields['country_code'] = formValue(country);
    if (truthy(demo)) fields['demo'] = '1';
    const outcome = await ctx.webDb.submit('create', fields, ctx.requestId);
    expectDone('create', outcome, ctx, [password, fields['password'] as string]);
    return valueResult(true);
  },

  async duplicate_database(password, args, ctx) {
    const [original = null, name = null, neutralize = false] = args;
    ctx.notes.db = formValue(original);
    await guardMasterPassword(password, ctx);
    refuseIfFrozen(ctx, formValue(original), 'db.duplicate_database');
    refuseIfFrozen(ctx, formValue(name), 'db.duplicate_database');
    const fields: Record<string, string> = {
      master_pwd: password,
      name: formValue(original),
      new_name: formValue(name),
    };
    if (truthy(neutralize)) fields['neutralize_database'] = '1';
    expectDone('duplicate', await ctx.webDb.submit('duplicate', fields, ctx.requestId), ctx, [password]);
    return valueResult(true);
  },

  async drop(password, args, ctx) {
    const name = args[0] ?? null;
    ctx.notes.db = formValue(name);
    await guardMasterPassword(password, ctx);
    refuseIfFrozen(ctx, formValue(name), 'db.drop');
    // Legacy answers False for a database it does not list; the web route redirects either way.
    const existed = (await listedDatabases(ctx)).includes(formValue(name));
    const outcome = await ctx.webDb.submit(
      'drop',
      { master_pwd: password, name: formValue(name) },
      ctx.requestId,
    );
    expectDone('drop', outcome, ctx, [password]);
    return valueResult(existed);
  },

  async dump(password, args, ctx) {
    const [name = null, format = null] = args;
    ctx.notes.db = formValue(name);
    await guardMasterPassword(password, ctx);
    const fields = { master_pwd: password, name: formValue(name), backup_format: formValue(format) };
    const answer = await ctx.webDb.backup(fields, ctx.requestId);
    if (answer.kind === 'file') return { kind: 'base64-stream', source: answer.body, size: answer.size };
    throw refused('backup', answer, ctx, [password], formValue(name));
  },

  async restore(password, args, ctx) {
    const [name = null, data = null] = args;
    return restoreFromUpload(
      {
        head: [password, name],
        text: {
          async *[Symbol.asyncIterator]() {
            yield restoreText(data);
          },
        },
        finish: async () => [password, ...args],
      },
      ctx,
    );
  },

  async change_admin_password(password, args, ctx) {
    await guardMasterPassword(password, ctx);
    // Server-wide: refused while any database is frozen (the upgrade needs the master password as it is).
    if (ctx.freeze.any) {
      ctx.metrics.frozenRefusal();
      throw masterPasswordFrozenFault();
    }
    const fields = { master_pwd: password, master_pwd_new: formValue(args[0] ?? null) };
    expectDone('change_password', await ctx.webDb.submit('change_password', fields, ctx.requestId), ctx, [
      password,
      fields.master_pwd_new,
    ]);
    return valueResult(true);
  },

  async list_countries(password, _args, ctx) {
    await verifyMasterPassword(password, ctx);
    const rows = await serviceSearchRead(ctx, 'list_countries', 'res.country', ['code', 'name']);
    // Odoo reads its country data file, whose codes are lower-case.
    return valueResult(byName(rows.map((r) => [String(r['code']).toLowerCase(), String(r['name'])])));
  },

  async rename() {
    throw bridgeError(
      "db.rename has no equivalent in Odoo 19's database manager or JSON-2 API, so the bridge cannot serve it. " +
        'To rename a database: stop Odoo, ALTER DATABASE "<old>" RENAME TO "<new>" in PostgreSQL and rename the ' +
        'filestore directory <data_dir>/filestore/<old> to <new>. (duplicate_database + drop gives a copy with a new database UUID, which is not a rename.)',
    );
  },

  async migrate_databases() {
    throw bridgeError(
      "db.migrate_databases has no equivalent in Odoo 19's database manager or JSON-2 API, so the bridge cannot serve it. " +
        'To update the modules of a database, run on the Odoo server: odoo-bin -d <database> -u all --stop-after-init ' +
        '(or -u <module,...>), or use Apps > Upgrade in the database.',
    );
  },
};

/**
 * db.list with several upstreams (BRIDGE_CONFIG upstreams): each one's list, keeping the
 * databases the bridge routes to that upstream, sorted. An upstream that cannot list is left
 * out (logged), unless none can: then the first one's fault.
 */
async function unionOfLists(ctx: CallContext): Promise<string[]> {
  const routes = ctx.routes;
  // One reading of the routes: a reload while the lists come must not pair them with others.
  const upstreams = routes.all();
  const lists = await Promise.all(
    upstreams.map(async (u): Promise<string[] | OdooFault> => {
      try {
        if (u.parts.native) {
          const names = await u.parts.native.jsonrpc(
            'db',
            'list',
            [],
            u.settings.timeoutMs ?? ctx.config.upstreamTimeoutMs,
          );
          if (!Array.isArray(names))
            throw bridgeError(`Odoo at ${u.settings.url} answered db.list without a list`);
          return names.filter((n): n is string => typeof n === 'string');
        }
        const listed = await u.parts.webDb.list(ctx.requestId);
        if (listed.kind === 'list') return listed.names;
        return listError(listed);
      } catch (e) {
        return e instanceof OdooFault
          ? e
          : bridgeError(`db.list at ${u.settings.url}: ${(e as Error).message}`);
      }
    }),
  );
  const names = new Set<string>();
  upstreams.forEach((u, i) => {
    const list = lists[i];
    if (list instanceof OdooFault) {
      ctx.log.warn(
        { requestId: ctx.requestId, upstream: u.name, problem: list.message },
        'db.list: an upstream could not list its databases',
      );
      return;
    }
    for (const name of list ?? []) if (firstServing(upstreams, name) === u) names.add(name);
  });
  if (names.size === 0 && lists.every((l) => l instanceof OdooFault)) throw lists[0] as OdooFault;
  return [...names].sort();
}

/** Refuses (a UserError, counted) a database operation on a frozen database (src/services/freeze.ts). */
function refuseIfFrozen(ctx: CallContext, db: string, what: string): void {
  if (!ctx.freeze.isFrozen(db)) return;
  ctx.metrics.frozenRefusal();
  throw frozenFault(db, what);
}

/** `db.restore`, streamed or not: the master password, then the upload, then Odoo's answer. */
export async function restoreFromUpload(upload: RestoreUpload, ctx: CallContext): Promise<CallResult> {
  const [password, name = null] = upload.head;
  if (!truthy(password) || typeof password !== 'string') throw accessDenied();
  ctx.notes.db = formValue(name);
  // Before any of the backup is read: a wrong master password must not cost a whole upload.
  await verifyMasterPassword(password, ctx);
  refuseIfFrozen(ctx, formValue(name), 'db.restore');
  const decoder = new RestoreDecoder();
  async function* file(): AsyncGenerator<Buffer> {
    for await (const text of upload.text) for (const bytes of decoder.push(text)) yield bytes;
    for (const bytes of decoder.end()) yield bytes;
  }
  const trailer = async (): Promise<Record<string, string>> => {
    const params = await upload.finish();
    const error = arityError(SIGNATURES['restore'] as Signature, params.slice(1));
    if (error) throw error;
    return { copy: truthy(params[3]) ? 'true' : 'false' };
  };
  const outcome = await ctx.webDb.restore(
    { master_pwd: password, name: formValue(name) },
    file(),
    trailer,
    ctx.requestId,
  );
  ctx.notes.backupBytes = decoder.decodedBytes;
  expectDone('restore', outcome, ctx, [password]);
  return valueResult(true);
}

/** `exp_restore`'s `len(data)` and `base64.b64decode(chunk)` on a parameter that is not a str. */
function restoreText(data: Value): string {
  if (typeof data === 'string') return data;
  if (Array.isArray(data) || data instanceof Map) {
    if ((Array.isArray(data) ? data.length : data.size) === 0) return '';
    throw pythonError(
      'TypeError',
      `argument should be a bytes-like object or ASCII string, not '${pyTypeName(data)}'`,
    );
  }
  if (data instanceof Binary) throw pythonError('TypeError', "object of type 'Binary' has no len()");
  throw pythonError('TypeError', `object of type '${pyTypeName(data)}' has no len()`);
}

// ------------------------------------------------------------------------------------------------
// The master password

/**
 * Refuses what legacy Odoo refuses but the web routes would not: any master password but `admin`
 * while the server's is still the default (the route would make it the new one), and everything
 * when the database manager is disabled.
 */
async function guardMasterPassword(password: string, ctx: CallContext): Promise<void> {
  const state = await ctx.webDb.manager(ctx.requestId);
  if (!state.read)
    hint(
      ctx,
      `${ctx.webDb.where('manager')} could not be read, so the bridge cannot tell whether Odoo's master password is still the default 'admin' (in which case its routes would adopt the given one)`,
    );
  if (state.disabled) {
    hint(ctx, LIST_DB_HINT);
    throw accessDenied();
  }
  if (state.insecure && password !== 'admin') {
    hint(
      ctx,
      "Odoo's master password is still the default 'admin', so legacy Odoo refuses any other; the bridge refused this " +
        'call rather than let /web/database/* make the given password the new master password. Set one on the Odoo server (admin_passwd).',
    );
    throw accessDenied();
  }
}

/** Access Denied unless `password` is Odoo's master password (see the module comment). */
async function verifyMasterPassword(password: string, ctx: CallContext): Promise<void> {
  await guardMasterPassword(password, ctx);
  const answer = await ctx.webDb.backup(
    { master_pwd: password, name: '', backup_format: 'zip' },
    ctx.requestId,
  );
  if (answer.kind === 'file') {
    answer.body.destroy();
    return;
  }
  if (answer.kind === 'banner' && /^Database backup error: Database '.*' is not known$/.test(answer.text))
    return;
  throw refused('backup', answer, ctx, [password]);
}

// ------------------------------------------------------------------------------------------------
// Odoo's answers

const EXPECTED_LOCATION: Record<FormRoute | 'restore', RegExp> = {
  create: /\/(odoo|web)\/?$/,
  duplicate: /\/web\/database\/manager$/,
  drop: /\/web\/database\/manager$/,
  backup: /\/web\/database\/manager$/,
  restore: /\/web\/database\/manager$/,
  change_password: /\/web\/database\/manager$/,
};

/** Checks that a route answered its success redirect; throws the legacy fault otherwise. */
function expectDone(
  route: FormRoute | 'restore',
  outcome: WebOutcome,
  ctx: CallContext,
  secrets: string[],
): void {
  if (outcome.kind === 'redirect' && outcome.status === 303) {
    let path: string;
    try {
      path = new URL(outcome.location, 'http://odoo').pathname;
    } catch {
      path = '';
    }
    if (EXPECTED_LOCATION[route].test(path)) return;
  }
  throw refused(route, outcome, ctx, secrets);
}

const BANNER_PREFIX: Record<FormRoute | 'restore', string> = {
  create: 'Database creation error: ',
  duplicate: 'Database duplication error: ',
  drop: 'Database deletion error: ',
  backup: 'Database backup error: ',
  restore: 'Database restore error: ',
  change_password: 'Master password update error: ',
};

/** What legacy Odoo raises where the web route answered `outcome` (never a silent success). */
function refused(
  route: FormRoute | 'restore',
  outcome: WebOutcome,
  ctx: CallContext,
  secrets: string[],
  dbName?: string,
): OdooFault {
  const where = ctx.webDb.where(route);
  if (outcome.kind === 'redirect')
    return upstreamError(
      `Odoo answered ${where} with a redirect (HTTP ${outcome.status}) to ${scrub(outcome.location, secrets)}, not the database manager's answer: is a proxy in front of Odoo redirecting it?`,
    );
  if (outcome.kind === 'other') {
    if (outcome.status === 403) {
      // The insecure-password step of §6.1 with list_db = False, or a proxy refusing the route.
      hint(ctx, `${where} answered 403 Forbidden: ${LIST_DB_HINT}`);
      return accessDenied();
    }
    if (outcome.status === 404)
      return upstreamError(
        `Odoo answered ${where} with 404 Not Found: the database manager routes are not served (the web module is not loaded, or a proxy blocks /web/database/)`,
      );
    return unexpectedAnswer(where, outcome.status, outcome.contentType, scrub(outcome.text, secrets));
  }
  const banner = scrub(outcome.text, secrets);
  const prefix = BANNER_PREFIX[route];
  const message = banner.startsWith(prefix) ? banner.slice(prefix.length) : banner;
  if (message === 'Access Denied') return accessDenied();
  if (route === 'create' && /^database '.*' already exists!$/.test(message))
    return pythonError('odoo.service.db.DatabaseExists', message);
  if (
    route === 'restore' &&
    (message === 'Database already exists' || message === "Couldn't restore database")
  )
    return pythonError('Exception', message);
  if (route === 'drop' && message.startsWith("Couldn't drop database "))
    return pythonError('Exception', message);
  if (route === 'duplicate' && /^database ".*" already exists$/.test(message.trimEnd()))
    return pythonError('psycopg2.errors.DuplicateDatabase', message);
  if (route === 'backup' && dbName !== undefined && /^Database '.*' is not known$/.test(message))
    return pythonError(
      'psycopg2.OperationalError',
      `database "${dbName}" does not exist (Odoo at ${ctx.webDb.baseUrl} does not list "${dbName}": it does not exist, or its dbfilter hides it for this host)`,
    );
  return databaseManagerError(`Odoo's database manager (${where}) answered with the error "${banner}"`);
}

/** Odoo's text with the call's passwords taken out, should it ever quote them. */
function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 3) out = out.split(s).join('[redacted]');
  return out;
}

// ------------------------------------------------------------------------------------------------
// JSON-2 with the service key

async function serviceSearchRead(
  ctx: CallContext,
  fn: string,
  model: string,
  fields: string[],
): Promise<Array<Record<string, unknown>>> {
  const key = ctx.serviceKey;
  if (!key)
    throw bridgeError(
      `db.${fn} is read from ${model} over JSON-2, which needs an API key: set ODOO_SERVICE_KEY=<database>:<api key> ` +
        '(an API key of any active user of that database; the bridge uses it for nothing else)',
    );
  const body = JSON.stringify({ domain: [], fields, context: { active_test: false, lang: 'en_US' } });
  const answer = await ctx.odoo.json2(model, 'search_read', body, {
    db: key.db,
    apiKey: key.key,
    requestId: ctx.requestId,
  });
  const site = {
    db: key.db ?? '(the server default)',
    model,
    method: 'search_read',
    baseUrl: ctx.odoo.baseUrl,
  };
  if (answer.status === 401)
    throw bridgeError(
      `Odoo refused ODOO_SERVICE_KEY for database ${site.db} (401): give an API key of an active user of that database`,
    );
  if (answer.status !== 200) throw faultFromJson2(answer, site);
  let rows: unknown;
  try {
    rows = JSON.parse(answer.text);
  } catch {
    throw notJsonAnswer(ctx.odoo.baseUrl, `${model}.search_read`, textStart(answer.text));
  }
  if (!Array.isArray(rows))
    throw upstreamError(`Odoo answered ${model}.search_read with something that is not a list of records`);
  return rows as Array<Record<string, unknown>>;
}

/** Python's `sorted(pairs, key=lambda p: p[1])`: by name, code point by code point, stable. */
function byName(pairs: [string, string][]): Value[] {
  const cmp = (a: string, b: string): number => {
    const x = [...a];
    const y = [...b];
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      const d = (x[i] as string).codePointAt(0)! - (y[i] as string).codePointAt(0)!;
      if (d !== 0) return d;
    }
    return x.length - y.length;
  };
  return [...pairs].sort((a, b) => cmp(a[1], b[1]));
}

/** A parameter as the form field Odoo would read: Python's `str()`, falsy None/False as empty. */
function formValue(v: Value): string {
  if (v === null || v === false) return '';
  if (v === true) return 'True';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (v instanceof PyFloat) return pyFloatRepr(v.value);
  if (v instanceof Binary) return v.base64;
  if (v instanceof DateTime) return v.odoo;
  return JSON.stringify(v, (_k, x: unknown) =>
    x instanceof Map ? Object.fromEntries(x) : typeof x === 'bigint' ? String(x) : x,
  );
}

/** The db service: the functions above (those that take the master password check it first). */
export const dbService: Service = {
  functions: Object.fromEntries(
    [...Object.keys(PLAIN), ...Object.keys(WITH_MASTER)].map((method): [string, ServiceFunction] => [
      method,
      (params, ctx) => dispatchDb(method, params, ctx),
    ]),
  ),
  // Odoo's db dispatcher: `KeyError('Method not found: <name>')`.
  methodMissing: (method) =>
    pythonError('KeyError', `Method not found: ${method}`, { str: `'Method not found: ${method}'` }),
};
