/**
 * Bounded names for forwarded requests, for metrics: the route family of a path and the HTTP
 * method, each from a fixed set (anything else is `other`), so a client cannot grow the label set.
 */

const FAMILIES: readonly [RegExp, string][] = [
  [/^\/web\/session(\/|$)/, '/web/session'],
  [/^\/web\/dataset(\/|$)/, '/web/dataset'],
  [/^\/web\/database(\/|$)/, '/web/database'],
  [/^\/web\/version\/?$/, '/web/version'],
  [/^\/web\/webclient(\/|$)/, '/web/webclient'],
  [/^\/web\/(image|content|binary)(\/|$)/, '/web/content'],
  [/^\/web\/action(\/|$)/, '/web/action'],
  [/^\/web\/static(\/|$)/, 'static'],
  [/^\/web(\/|$)/, '/web'],
  [/^\/json\/2(\/|$)/, '/json/2'],
  [/^\/doc(-bearer)?(\/|$)/, '/doc'],
  [/^\/websocket(\/|$)/, '/websocket'],
  [/^\/longpolling(\/|$)/, '/longpolling'],
  [/^\/odoo(\/|$)/, '/odoo'],
  [/^\/[\w.-]+\/static\//, 'static'],
];

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The route family of a request URL (query string ignored). */
export function routeFamily(url: string): string {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  for (const [re, name] of FAMILIES) if (re.test(path)) return name;
  return 'other';
}

export function methodLabel(method: string | undefined): string {
  return method !== undefined && METHODS.has(method) ? method : 'other';
}

/** `2xx`…`5xx` for an answer from Odoo; `unreachable` when the bridge answered 502 itself. */
export function statusClass(status: number | undefined): string {
  if (status === undefined) return 'unreachable';
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other';
}

/** The path for a log line: no query string (it may carry tokens), at most 200 characters. */
export function loggedPath(url: string): string {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
}
