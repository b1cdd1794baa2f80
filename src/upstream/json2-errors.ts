/**
 * JSON-2 error answers → the fault legacy Odoo gives for the same situation.
 *
 * JSON-2 answers `{name, message, arguments, context, debug}` with a 4xx/5xx status; legacy RPC
 * raised the same exception inside `call_kw` and wrote it as fault 1/2/3/4. Classify by `name`,
 * never by status alone (422 is both UserError and a werkzeug argument error). The pairs are in
 * the captures: 4d-25 ↔ 4b-31, 4d-26 ↔ 4b-32, 4d-27 ↔ 4b-33, 4d-28 ↔ 4b-34, 4d-33 ↔ 4b-35,
 * 4d-36b ↔ 4b-36b, 4d-37 ↔ 4b-37, 4d-24 ↔ 4b-38.
 */
import {
  accessDenied,
  accessError,
  notJsonAnswer,
  odooException,
  pythonError,
  upstreamError,
  userError,
  type FaultKind,
  type OdooFault,
} from '../errors.ts';
import type { CallSite, Value } from '../values.ts';
import { replaceScriptsAndStyles, replaceTags } from './html.ts';
import type { UpstreamAnswer } from './odoo-client.ts';

interface Json2ErrorBody {
  name: string;
  message: string;
  arguments: Value[];
  debug: string;
}

/** Reads a JSON-2 error body, or undefined when the answer is not one (HTML page, garbage). */
export function readJson2Error(answer: UpstreamAnswer): Json2ErrorBody | undefined {
  if (!answer.contentType.includes('json')) return undefined;
  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null) return undefined;
  const b = body as Record<string, unknown>;
  if (typeof b['name'] !== 'string' || typeof b['message'] !== 'string') return undefined;
  return {
    name: b['name'],
    message: b['message'],
    arguments: Array.isArray(b['arguments'])
      ? (b['arguments'] as unknown[]).map(simpleArgument)
      : [b['message']],
    debug: typeof b['debug'] === 'string' ? b['debug'] : '',
  };
}

/** Exception arguments are strings and numbers in practice; anything else is kept as its JSON text. */
function simpleArgument(a: unknown): Value {
  if (a === null || typeof a === 'string' || typeof a === 'boolean') return a;
  if (typeof a === 'number' && Number.isSafeInteger(a)) return a;
  return JSON.stringify(a);
}

const UNKNOWN_MODEL = /^the model '(.*)' does not exist$/;
const UNKNOWN_METHOD = /^The method '(.*)' does not exist$/;

/** The legacy fault for a JSON-2 answer whose status is not 200. */
export function faultFromJson2(answer: UpstreamAnswer, site: CallSite): OdooFault {
  const err = readJson2Error(answer);
  if (!err) return faultFromNonJson(answer, site);
  const { name, message } = err;
  /** Odoo's own exception, as JSON-2 reported it (class, args and traceback kept). */
  const same = (kind: FaultKind, extra: { str?: string } = {}): OdooFault =>
    odooException({
      kind,
      name,
      message,
      arguments: err.arguments,
      ...(err.debug ? { debug: err.debug } : {}),
      ...extra,
    });
  switch (name) {
    case 'werkzeug.exceptions.Unauthorized':
      // Invalid, expired or revoked key: legacy answers a wrong password with AccessDenied.
      return accessDenied();
    case 'odoo.exceptions.AccessDenied':
    case 'odoo.http.SessionExpiredException':
      return accessDenied(name === 'odoo.exceptions.AccessDenied' ? message : 'Access Denied');
    case 'odoo.exceptions.AccessError':
      return same('access_error');
    case 'odoo.exceptions.MissingError':
      return same('missing_error');
    case 'odoo.exceptions.RedirectWarning':
      return same('redirect_warning', { str: pyTupleRepr(err.arguments) });
    case 'werkzeug.exceptions.NotFound': {
      if (UNKNOWN_MODEL.test(message)) return userError(`Object ${site.model} doesn't exist`);
      const m = UNKNOWN_METHOD.exec(message);
      if (m) return pythonError('AttributeError', message);
      return upstreamError(`Odoo answered 404 for ${site.model}.${site.method}: ${message}`);
    }
    case 'werkzeug.exceptions.UnprocessableEntity': {
      // The call did not fit the method: Python's TypeError in legacy RPC.
      if (/^cannot call .* with ids$/.test(message))
        return pythonError(
          'TypeError',
          `${message}: ${site.model}.${site.method} is an @api.model method but the bridge sent record ids. ` +
            `Declare its signature (signatures: in BRIDGE_CONFIG, model: true) or set ODOO_DOCS_KEY so the bridge can read it.`,
        );
      return pythonError('TypeError', message);
    }
    case 'werkzeug.exceptions.BadRequest':
      return pythonError('ValueError', message);
    case 'werkzeug.exceptions.RequestEntityTooLarge':
      return pythonError('werkzeug.exceptions.RequestEntityTooLarge', message);
  }
  if (name.startsWith('odoo.exceptions.') || answer.status === 422 || answer.status === 409) {
    // UserError, ValidationError, LockError, and addon exceptions derived from UserError.
    if (answer.status === 403) return accessError(message);
    if (answer.status === 500) return same('generic');
    return same('user_error');
  }
  if (answer.status === 403) return same('access_error');
  // Any other exception (builtins.ValueError, psycopg2 errors, ...): fault 1 with Odoo's traceback.
  return same('generic');
}

/** HTML or garbage instead of a JSON-2 answer: say what the upstream did. */
function faultFromNonJson(answer: UpstreamAnswer, site: CallSite): OdooFault {
  const text = htmlText(answer.text);
  if (answer.status === 404 && /No database is selected/.test(answer.text)) {
    // Legacy: connecting to a missing database is a psycopg2.OperationalError (captures 4b-07, 4b-38).
    return pythonError(
      'psycopg2.OperationalError',
      `database "${site.db}" does not exist (Odoo at ${site.baseUrl} has no database "${site.db}", or its dbfilter ` +
        `rejects it for this host; with a single-database Odoo, try ODOO_DB_HEADER=never)`,
    );
  }
  if (answer.status === 200) return notJsonAnswer(site.baseUrl, `${site.model}.${site.method}`, text);
  return upstreamError(
    `Odoo at ${site.baseUrl} answered HTTP ${answer.status} (${answer.contentType || 'no content type'}) ` +
      `for ${site.model}.${site.method}: ${text}`,
  );
}

/** The readable text of an HTML or text answer, short enough for a fault message. */
export function htmlText(body: string): string {
  const text = replaceTags(replaceScriptsAndStyles(body, ' '), ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > 300 ? `${text.slice(0, 300)}…` : text || '(empty body)';
}

/** Python's `repr()` of a tuple of simple values: `str(RedirectWarning(...))`. */
function pyTupleRepr(args: Value[]): string {
  const repr = (v: Value): string => {
    if (v === null) return 'None';
    if (v === true) return 'True';
    if (v === false) return 'False';
    if (typeof v === 'string')
      return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
    if (typeof v === 'number' || typeof v === 'bigint') return String(v);
    if (Array.isArray(v)) return `[${v.map(repr).join(', ')}]`;
    return String(v);
  };
  return args.length === 1 ? `(${repr(args[0] ?? null)},)` : `(${args.map(repr).join(', ')})`;
}
