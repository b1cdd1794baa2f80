/**
 * What replaces a legacy call once the bridge is gone, and the ready-to-copy `curl` and Python
 * `requests` snippets that make that request. Pure: no I/O.
 *
 * Object calls become `POST /json/2/<model>/<method>` with the named arguments the bridge
 * computed. The other legacy functions become what Odoo 19 serves instead: `/web/version`, the
 * database manager's routes (`/web/database/*`, form posts with the master password), a JSON-2
 * read, or nothing (a note says what to do).
 *
 * Snippets never hold a secret: the URL, the API key and the master password are the
 * placeholders `$ODOO_URL`, `$ODOO_API_KEY`, `$ODOO_MASTER_PASSWORD` (curl) and
 * `os.environ[...]` (Python).
 */

/** What the inventory knows about one kind of call. */
export interface CallShape {
  service: string;
  /** The legacy function (`execute_kw`, `authenticate`, `list`, …). */
  function: string;
  /** Object calls: the model and the model's method (the JSON-2 one, after any shim). */
  model?: string | undefined;
  method?: string | undefined;
  db?: string | undefined;
  /** Object calls: the JSON-2 body the bridge computed for the last such call (JSON text). */
  body?: string | undefined;
  /** The body was cut to fit the inventory's bounds. */
  truncated?: boolean | undefined;
}

export interface SnippetOptions {
  /** Send `X-Odoo-Database` when the db is known (ODOO_DB_HEADER=auto). */
  dbHeader: boolean;
}

export interface Replacement {
  /** `json2`: a JSON-2 call; `http`: another Odoo route; `none`: no request replaces it. */
  kind: 'json2' | 'http' | 'none';
  /** What to do, in a sentence or two. */
  note: string;
  /** `POST /json/2/res.partner/search_read`, `GET /web/version`, … (absent for `none`). */
  request?: string;
  /** JSON-2 body or JSON-RPC body (JSON text). */
  body?: string;
  /** The body is an example cut short: complete it before use. */
  truncated?: boolean;
  curl?: string;
  python?: string;
}

/** A form field's value: literal text, or an environment variable holding a secret. */
type FormValue = { text: string } | { env: string };
interface HttpRequest {
  verb: 'GET' | 'POST';
  path: string;
  /** application/json body (JSON text). */
  json?: string;
  /** Authorization + X-Odoo-Database, as JSON-2 takes them. */
  json2?: boolean;
  form?: Array<[string, FormValue]>;
  /** multipart/form-data, with one file field. */
  file?: { field: string; path: string };
  /** Where curl writes the answer (a backup). */
  output?: string;
}

const MODEL = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const METHOD = /^[A-Za-z][A-Za-z0-9_]{0,127}$/;
const MASTER = { env: 'ODOO_MASTER_PASSWORD' } as const;

const FORM_NOTE =
  "Odoo's database manager: a form post with the master password; it answers 303 on success and a " +
  'page with an error banner otherwise (the manager must be enabled: list_db = True).';

export function replacementFor(call: CallShape, opts: SnippetOptions): Replacement {
  const db = call.db;
  const text = (v: string | undefined): FormValue => ({ text: v ?? '' });
  switch (`${call.service}.${call.function}`) {
    case 'object.execute':
    case 'object.execute_kw':
      return objectReplacement(call, opts);
    case 'common.version':
    case 'common.about':
    case 'db.server_version':
      return http(
        'The server version, without authentication: GET /web/version answers {"version": …, "version_info": […]}.',
        { verb: 'GET', path: '/web/version' },
        opts,
      );
    case 'common.login':
    case 'common.authenticate':
      return json2(
        'Not needed: JSON-2 takes an API key in each request\'s "Authorization: bearer" header, there is no ' +
          'session and no uid to pass. To check a key and learn its user (uid), call res.users/context_get:',
        'res.users',
        'context_get',
        '{}',
        false,
        db,
        opts,
      );
    case 'common.set_loglevel':
      return none('No equivalent (Odoo ignored it already): remove the call.');
    case 'db.list':
      return http(
        "The database manager's JSON-RPC route (needs list_db = True); with one database, nothing to list.",
        {
          verb: 'POST',
          path: '/web/database/list',
          json: '{"jsonrpc": "2.0", "method": "call", "params": {}}',
        },
        opts,
      );
    case 'db.db_exist':
      return none(
        'No direct equivalent: list the databases (POST /web/database/list), or make any JSON-2 call with ' +
          'X-Odoo-Database set (404: no such database, 401: it exists but the key is missing or refused).',
      );
    case 'db.list_lang':
      return json2(
        "The languages, read over JSON-2 (any active user's API key):",
        'res.lang',
        'search_read',
        '{"domain": [], "fields": ["code", "name"], "context": {"active_test": false}}',
        false,
        db,
        opts,
      );
    case 'db.list_countries':
      return json2(
        "The countries, read over JSON-2 (any active user's API key); codes are upper-case here:",
        'res.country',
        'search_read',
        '{"domain": [], "fields": ["code", "name"]}',
        false,
        db,
        opts,
      );
    case 'db.create_database':
      return http(
        FORM_NOTE,
        {
          verb: 'POST',
          path: '/web/database/create',
          form: [
            ['master_pwd', MASTER],
            ['name', text(db)],
            ['login', { text: 'admin' }],
            ['password', { env: 'ODOO_ADMIN_PASSWORD' }],
            ['lang', { text: 'en_US' }],
            ['country_code', { text: '' }],
            ['phone', { text: '' }],
          ],
        },
        opts,
      );
    case 'db.duplicate_database':
      return http(
        FORM_NOTE,
        {
          verb: 'POST',
          path: '/web/database/duplicate',
          form: [
            ['master_pwd', MASTER],
            ['name', text(db)],
            ['new_name', { text: `${db ?? ''}-copy` }],
          ],
        },
        opts,
      );
    case 'db.drop':
      return http(
        FORM_NOTE,
        {
          verb: 'POST',
          path: '/web/database/drop',
          form: [
            ['master_pwd', MASTER],
            ['name', text(db)],
          ],
        },
        opts,
      );
    case 'db.dump':
      return http(
        `${FORM_NOTE} The answer is the backup file itself.`,
        {
          verb: 'POST',
          path: '/web/database/backup',
          form: [
            ['master_pwd', MASTER],
            ['name', text(db)],
            ['backup_format', { text: 'zip' }],
          ],
          output: 'backup.zip',
        },
        opts,
      );
    case 'db.restore':
      return http(
        `${FORM_NOTE} The backup is uploaded as a file (multipart), not as base64 text.`,
        {
          verb: 'POST',
          path: '/web/database/restore',
          form: [
            ['master_pwd', MASTER],
            ['name', text(db)],
            ['copy', { text: 'true' }],
          ],
          file: { field: 'backup_file', path: 'backup.zip' },
        },
        opts,
      );
    case 'db.change_admin_password':
      return http(
        FORM_NOTE,
        {
          verb: 'POST',
          path: '/web/database/change_password',
          form: [
            ['master_pwd', MASTER],
            ['master_pwd_new', { env: 'ODOO_NEW_MASTER_PASSWORD' }],
          ],
        },
        opts,
      );
    case 'db.rename':
    case 'db.migrate_databases':
      return none('Odoo 19 serves no replacement: do it on the server (odoo-bin, or the database manager).');
    default:
      return none(`Not a legacy function Odoo served: ${call.service}.${call.function}.`);
  }
}

function objectReplacement(call: CallShape, opts: SnippetOptions): Replacement {
  const { model, method } = call;
  if (model === undefined || method === undefined || !MODEL.test(model) || !METHOD.test(method))
    return none('The call named no valid model and method: nothing to translate.');
  const known = call.body !== undefined;
  const note = known
    ? call.truncated
      ? 'The same call over JSON-2, with the named arguments of the last call, cut short to fit the inventory (complete them):'
      : 'The same call over JSON-2, with the named arguments of the last call:'
    : 'The same call over JSON-2; the bridge did not get as far as naming its arguments (it failed before): pass them by name.';
  return json2(note, model, method, call.body ?? '{}', call.truncated === true, call.db, opts);
}

function none(note: string): Replacement {
  return { kind: 'none', note };
}

function json2(
  note: string,
  model: string,
  method: string,
  body: string,
  truncated: boolean,
  db: string | undefined,
  opts: SnippetOptions,
): Replacement {
  const path = `/json/2/${model}/${method}`;
  const req: HttpRequest = { verb: 'POST', path, json: body, json2: true };
  return {
    kind: 'json2',
    note,
    request: `POST ${path}`,
    body,
    ...(truncated ? { truncated } : {}),
    curl: curlOf(req, db, opts),
    python: pythonOf(req, db, opts),
  };
}

function http(note: string, req: HttpRequest, opts: SnippetOptions): Replacement {
  return {
    kind: 'http',
    note,
    request: `${req.verb} ${req.path}`,
    ...(req.json !== undefined ? { body: req.json } : {}),
    curl: curlOf(req, undefined, opts),
    python: pythonOf(req, undefined, opts),
  };
}

// -------------------------------------------------------------------------------------------
// curl

/** A shell word that is taken literally: single-quoted. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function curlOf(req: HttpRequest, db: string | undefined, opts: SnippetOptions): string {
  const lines = [`curl -sS${req.verb === 'GET' ? '' : ' -X POST'} "$ODOO_URL${req.path}"`];
  if (req.json2) {
    lines.push(`-H "Authorization: bearer $ODOO_API_KEY"`);
    if (db !== undefined && opts.dbHeader) lines.push(`-H ${shellQuote(`X-Odoo-Database: ${db}`)}`);
  }
  if (req.json !== undefined) {
    lines.push(`-H 'Content-Type: application/json; charset=utf-8'`);
    lines.push(`-d ${shellQuote(req.json)}`);
  }
  const flag = req.file ? '-F' : '--data-urlencode';
  for (const [name, value] of req.form ?? [])
    lines.push(
      'text' in value ? `${flag} ${shellQuote(`${name}=${value.text}`)}` : `${flag} "${name}=$${value.env}"`,
    );
  if (req.file) lines.push(`-F ${shellQuote(`${req.file.field}=@${req.file.path}`)}`);
  if (req.output) lines.push(`-o ${shellQuote(req.output)}`);
  return lines.join(' \\\n  ');
}

// -------------------------------------------------------------------------------------------
// Python requests

/** A Python string literal (JSON's escapes are Python's). */
function pyString(s: string): string {
  return JSON.stringify(s);
}

/**
 * JSON text as a Python literal: the same text with `true`, `false`, `null` outside strings
 * written `True`, `False`, `None` (JSON strings and numbers are Python literals already).
 */
export function jsonToPython(json: string): string {
  let out = '';
  let i = 0;
  while (i < json.length) {
    const c = json[i] as string;
    if (c === '"') {
      let j = i + 1;
      while (j < json.length && json[j] !== '"') j += json[j] === '\\' ? 2 : 1;
      out += json.slice(i, j + 1);
      i = j + 1;
    } else if (json.startsWith('true', i)) {
      out += 'True';
      i += 4;
    } else if (json.startsWith('false', i)) {
      out += 'False';
      i += 5;
    } else if (json.startsWith('null', i)) {
      out += 'None';
      i += 4;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function pythonOf(req: HttpRequest, db: string | undefined, opts: SnippetOptions): string {
  const args = [`    f"{os.environ['ODOO_URL']}${req.path.replace(/[{}]/g, '$&$&')}",`];
  if (req.json2) {
    const headers = [`        "Authorization": f"bearer {os.environ['ODOO_API_KEY']}",`];
    if (db !== undefined && opts.dbHeader) headers.push(`        "X-Odoo-Database": ${pyString(db)},`);
    args.push('    headers={', ...headers, '    },');
  }
  if (req.json !== undefined) args.push(`    json=${jsonToPython(req.json)},`);
  if (req.form) {
    args.push('    data={');
    for (const [name, value] of req.form)
      args.push(
        `        ${pyString(name)}: ${'text' in value ? pyString(value.text) : `os.environ[${pyString(value.env)}]`},`,
      );
    args.push('    },');
  }
  if (req.file) args.push(`    files={${pyString(req.file.field)}: open(${pyString(req.file.path)}, "rb")},`);
  const lines = [
    'import os',
    '',
    'import requests',
    '',
    `response = requests.${req.verb === 'GET' ? 'get' : 'post'}(`,
    ...args,
    ...(req.form && !req.output ? ['    allow_redirects=False,'] : []),
    ')',
    'response.raise_for_status()',
  ];
  if (req.output)
    lines.push(`with open(${pyString(req.output)}, "wb") as f:`, '    f.write(response.content)');
  else if (req.form) lines.push('print(response.status_code)  # 303: done');
  else lines.push('print(response.json())');
  return lines.join('\n');
}
