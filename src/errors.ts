/**
 * `OdooFault`: the one error type every layer speaks. It carries what Odoo's own exception would
 * have carried; protocol/ alone decides how it is written (XML-RPC int or string fault codes, or the
 * JSON-RPC error object). See docs/wire.md for the mapping.
 */
import type { Value } from './values.ts';

/**
 * Which branch of Odoo's fault mapping an error takes (`addons/rpc/controllers/xmlrpc.py`):
 * - `generic`: any non-Odoo exception (`ValueError`, `TypeError`, `KeyError`, ...): code 1 + traceback;
 * - `user_error`: `UserError`, `ValidationError`, `LockError` and other UserError subclasses: code 2;
 * - `missing_error`: `MissingError`: code 2 (own label on /xmlrpc);
 * - `redirect_warning`: `RedirectWarning`: code 2 (label "Warning" on /xmlrpc);
 * - `access_denied`: `AccessDenied`: code 3;
 * - `access_error`: `AccessError`: code 4.
 */
export type FaultKind =
  'generic' | 'user_error' | 'missing_error' | 'redirect_warning' | 'access_denied' | 'access_error';

export interface OdooFaultInit {
  kind: FaultKind;
  /** Qualified Python class name, as JSON-RPC's `data.name`: `odoo.exceptions.UserError`, `builtins.TypeError`. */
  name: string;
  /** `exception_to_unicode(e)`: the exception's args joined with newlines. */
  message: string;
  /** `e.args`; defaults to `[message]`. */
  arguments?: Value[];
  /** Traceback text (or `name: message` for AccessDenied), as JSON-RPC's `data.debug`. */
  debug?: string;
  /** `str(e)` where it differs from `message` (e.g. KeyError quotes its key). */
  str?: string;
}

export class OdooFault extends Error {
  readonly kind: FaultKind;
  readonly pyName: string;
  readonly arguments: Value[];
  readonly debug: string;
  readonly str: string;

  constructor(init: OdooFaultInit) {
    super(init.message);
    this.kind = init.kind;
    this.pyName = init.name;
    this.arguments = init.arguments ?? [init.message];
    this.str = init.str ?? init.message;
    this.debug = init.debug ?? syntheticTraceback(init.name, this.str);
  }

  /** The Python class name without its module: `TypeError`, `UserError`. */
  get shortName(): string {
    const dot = this.pyName.lastIndexOf('.');
    return dot < 0 ? this.pyName : this.pyName.slice(dot + 1);
  }
}

/**
 * A traceback-shaped text for errors the bridge raises itself. Legacy clients that show or parse
 * Odoo's faults read its last line, `<Class>: <message>`, which is exactly Odoo's.
 */
export function syntheticTraceback(pyName: string, str: string): string {
  // Python prints builtins by class name alone, others with their module: `psycopg2.OperationalError`.
  const label = pyName.startsWith('builtins.') ? pyName.slice('builtins.'.length) : pyName;
  return `Traceback (most recent call last):\n  File "odoo-rpc-bridge", line 1, in <bridge>\n${label}: ${str}\n`;
}

/** A plain Python exception (fault code 1 with a traceback), e.g. `pythonError('TypeError', '...')`. */
export function pythonError(
  cls: string,
  message: string,
  opts: { str?: string; arguments?: Value[] } = {},
): OdooFault {
  const name = cls.includes('.') ? cls : `builtins.${cls}`;
  return new OdooFault({ kind: 'generic', name, message, ...opts });
}

/**
 * Names as Python's "missing N required positional arguments" lists them: `'a'`, `'a' and 'b'`,
 * `'a', 'b', and 'c'`.
 */
export function pythonNameList(names: readonly string[]): string {
  const quoted = names.map((n) => `'${n}'`);
  if (quoted.length <= 1) return quoted[0] ?? '';
  if (quoted.length === 2) return `${quoted[0]} and ${quoted[1]}`;
  return `${quoted.slice(0, -1).join(', ')}, and ${quoted[quoted.length - 1]}`;
}

export function userError(message: string): OdooFault {
  return new OdooFault({ kind: 'user_error', name: 'odoo.exceptions.UserError', message });
}

export function accessDenied(message = 'Access Denied'): OdooFault {
  // Odoo suppresses the traceback of AccessDenied: debug is just "<name>: <message>\n".
  return new OdooFault({
    kind: 'access_denied',
    name: 'odoo.exceptions.AccessDenied',
    message,
    debug: `odoo.exceptions.AccessDenied: ${message}\n`,
  });
}

export function accessError(message: string): OdooFault {
  return new OdooFault({ kind: 'access_error', name: 'odoo.exceptions.AccessError', message });
}

/**
 * An error of the bridge itself (upstream down, misconfiguration): a generic fault whose message
 * says what failed and what to do.
 */
export function bridgeError(message: string): OdooFault {
  return new OdooFault({ kind: 'generic', name: 'odoo_rpc_bridge.BridgeError', message });
}

/** Python's name of the faults `upstreamError` makes (and upstream/odoo-client.ts' `UpstreamFault`). */
export const UPSTREAM_ERROR = 'odoo_rpc_bridge.UpstreamError';

/**
 * Odoo could not be reached, or answered something that is not one of its answers (not JSON, too
 * large, cut off, an unexpected status): a generic fault whose message says what Odoo did.
 */
export function upstreamError(message: string): OdooFault {
  return new OdooFault({ kind: 'generic', name: UPSTREAM_ERROR, message });
}

/**
 * Odoo answered something that is not JSON where JSON was due: one wording wherever the bridge
 * finds it (`what`: the call, e.g. `res.partner.read`; `detail`: what was wrong, or the start of
 * what came).
 */
export function notJsonAnswer(where: string, what: string, detail: string): OdooFault {
  return upstreamError(`Odoo at ${where} answered ${what} with something that is not JSON: ${detail}`);
}

/**
 * The same, found by a reader that does not know which call it reads for (the answer codecs,
 * protocol/xmlrpc/json-to-xml.ts): the route words it with {@link notJsonAnswer}.
 */
export class InvalidUpstreamJson extends OdooFault {
  readonly detail: string;
  constructor(detail: string) {
    super({
      kind: 'generic',
      name: UPSTREAM_ERROR,
      message: `the upstream Odoo answered invalid JSON: ${detail}`,
    });
    this.detail = detail;
  }
}

/** The start of a text that should have been JSON, for {@link notJsonAnswer}'s detail. */
export function textStart(text: string): string {
  return `it begins ${JSON.stringify(text.slice(0, 60))}`;
}

/**
 * An exception Odoo raised, as Odoo reported it (a JSON-2 error body, a JSON-RPC error's `data`):
 * its class, message, arguments and traceback kept as they came.
 */
export function odooException(init: OdooFaultInit): OdooFault {
  return new OdooFault(init);
}

/**
 * werkzeug's `RequestEntityTooLarge` (generic fault), `message` as werkzeug words it:
 * `413 Request Entity Too Large: The data value transmitted exceeds the capacity limit. (...)`.
 */
export function requestEntityTooLarge(message: string): OdooFault {
  return new OdooFault({ kind: 'generic', name: 'werkzeug.exceptions.RequestEntityTooLarge', message });
}

/** The client stopped sending its request's body: the bridge gave up reading it. */
export function requestTimeout(message: string): OdooFault {
  return new OdooFault({ kind: 'generic', name: 'odoo_rpc_bridge.RequestTimeout', message });
}

/** A bug in the bridge, as the client sees it: `message` points to the log, never at the bug itself. */
export function internalError(message: string): OdooFault {
  return new OdooFault({ kind: 'generic', name: 'odoo_rpc_bridge.InternalError', message });
}

/** Odoo's database manager (`/web/database/*`) answered with an error banner the bridge does not map. */
export function databaseManagerError(message: string): OdooFault {
  return new OdooFault({ kind: 'generic', name: 'odoo_rpc_bridge.DatabaseManagerError', message });
}

/**
 * The bridge is at one of its limits and the call was not run: werkzeug's 503 in Odoo's fault
 * shape, saying what is full and that retrying later will do.
 */
export function serviceUnavailable(what: string): OdooFault {
  return new OdooFault({
    kind: 'generic',
    name: 'werkzeug.exceptions.ServiceUnavailable',
    message: `503 Service Unavailable: ${what}`,
  });
}
