/**
 * The exceptions the fake raises, and the JSON-2 error body Odoo 19 builds from them
 * (`Json2Dispatcher.handle_error` + `serialize_exception`, docs/wire.md §4.7):
 * `{"name", "message", "arguments", "context": {}, "debug"}`.
 *
 * `debug` is a short synthesized traceback whose last line reads like Python's
 * `traceback.format_exception` (`werkzeug.exceptions.NotFound: 404 Not Found: …`,
 * `ValueError: …`, `odoo.exceptions.AccessError: …`); AccessDenied has no traceback, as in 4b-55
 * and 4d-53.
 */
import type { PyDict, PyJson } from './fake-odoo-json.ts';

const HTTP_REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
};

export class OdooError extends Error {
  /** HTTP status of the JSON-2 answer. */
  readonly status: number;
  /** `<module>.<Class>`, e.g. `odoo.exceptions.AccessError`, `builtins.TypeError`. */
  readonly pyName: string;
  readonly args: PyJson[];
  readonly headers: Record<string, string>;
  readonly traceback: boolean;

  constructor(
    status: number,
    pyName: string,
    message: string,
    args: PyJson[],
    headers: Record<string, string> = {},
    traceback = true,
  ) {
    super(message);
    this.status = status;
    this.pyName = pyName;
    this.args = args;
    this.headers = headers;
    this.traceback = traceback;
  }

  /** The last traceback line: `Class: str(exc)` (builtins lose their module, as in Python). */
  lastLine(): string {
    const cls = this.pyName.startsWith('builtins.') ? this.pyName.slice('builtins.'.length) : this.pyName;
    if (this.pyName.startsWith('werkzeug.exceptions.')) {
      const code = this.args[1];
      return `${cls}: ${String(code)} ${HTTP_REASONS[Number(code)] ?? ''}: ${this.message}`;
    }
    // str(KeyError('x')) is "'x'" (the repr), unlike every other exception.
    if (cls === 'KeyError') return `${cls}: '${this.message}'`;
    return `${cls}: ${this.message}`;
  }

  body(): PyDict {
    const debug = this.traceback
      ? `Traceback (most recent call last):\n  File "fake_odoo.py", line 1, in <fake>\n    raise ${this.pyName.split('.').pop() ?? ''}(...)\n${this.lastLine()}\n`
      : `${this.lastLine()}\n`;
    return { name: this.pyName, message: this.message, arguments: this.args, context: {}, debug };
  }
}

/** A werkzeug HTTPException raised in a json2 route: `arguments` = `[description, code]`. */
export function httpError(
  status: number,
  cls: string,
  description: string,
  headers: Record<string, string> = {},
): OdooError {
  return new OdooError(status, `werkzeug.exceptions.${cls}`, description, [description, status], headers);
}

export const notFound = (d: string): OdooError => httpError(404, 'NotFound', d);
export const unprocessable = (d: string): OdooError => httpError(422, 'UnprocessableEntity', d);
export const badRequest = (d: string): OdooError => httpError(400, 'BadRequest', d);
/** 401 with `WWW-Authenticate: Bearer ` (werkzeug 2.2 writes the trailing space, captured in 4d-20). */
export const unauthorized = (d: string): OdooError =>
  httpError(401, 'Unauthorized', d, { 'WWW-Authenticate': 'Bearer ' });

function odooException(status: number, cls: string, message: string): OdooError {
  return new OdooError(status, `odoo.exceptions.${cls}`, message, [message]);
}

export const userError = (m: string): OdooError => odooException(422, 'UserError', m);
export const validationError = (m: string): OdooError => odooException(422, 'ValidationError', m);
export const accessError = (m: string): OdooError => odooException(403, 'AccessError', m);
export const missingError = (m: string): OdooError => odooException(404, 'MissingError', m);
export const accessDenied = (m: string): OdooError =>
  new OdooError(403, 'odoo.exceptions.AccessDenied', m, [m], {}, false);
export const sessionExpired = (): OdooError =>
  new OdooError(403, 'odoo.http.SessionExpiredException', 'Session expired', ['Session expired']);

/** Any other exception: 500, `message` = args joined with newlines. */
export function builtinError(
  cls: 'TypeError' | 'ValueError' | 'KeyError' | 'AttributeError' | 'IndexError',
  message: string,
): OdooError {
  return new OdooError(500, `builtins.${cls}`, message, [message]);
}

/**
 * Something the real server does but this fake does not model. A 500 with a name no real Odoo
 * sends, so that a test relying on it fails loudly instead of passing on invented data.
 */
export function notImplemented(what: string): OdooError {
  const m = `fake Odoo does not implement ${what}`;
  return new OdooError(500, 'fake_odoo.NotImplemented', m, [m]);
}
