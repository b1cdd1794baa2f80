/**
 * Routing a legacy call to the upstream that serves its database (src/upstream/routes.ts): the
 * database a call names, and the call's context given that upstream's parts. A call that names
 * no database goes to the first upstream; one whose database no upstream serves gets Odoo's own
 * fault for a database that does not exist.
 */
import { pythonError, type OdooFault } from '../errors.ts';
import type { Upstream } from '../upstream/routes.ts';
import type { Value } from '../values.ts';
import type { CallContext, UpstreamServices } from './service.ts';

/** Where the db service's functions name their database (after the master password, if any). */
const DB_PARAM: Readonly<Record<string, number>> = {
  db_exist: 0,
  create_database: 1,
  duplicate_database: 1,
  drop: 1,
  dump: 1,
  restore: 1,
  rename: 1,
};

/** The database a call is for, or undefined when it names none (common.version, db.list, ...). */
export function databaseOf(call: {
  service: string;
  method: string;
  params: readonly Value[];
}): string | undefined {
  let at: number | undefined;
  if (call.service === 'object') at = 0;
  else if (call.service === 'common')
    at = call.method === 'login' || call.method === 'authenticate' ? 0 : undefined;
  else if (call.service === 'db')
    at = Object.hasOwn(DB_PARAM, call.method) ? DB_PARAM[call.method] : undefined;
  // db.migrate_databases(password, [names]): the first name's server.
  const names = call.service === 'db' && call.method === 'migrate_databases' ? call.params[1] : undefined;
  if (Array.isArray(names)) return typeof names[0] === 'string' ? names[0] : undefined;
  const db = at === undefined ? undefined : call.params[at];
  return typeof db === 'string' ? db : undefined;
}

/** The upstream of a call (its database's, or the first), or the fault for a database none serves. */
export function upstreamOf(
  call: { service: string; method: string; params: readonly Value[] },
  ctx: CallContext,
): Upstream<UpstreamServices> | OdooFault {
  const routes = ctx.routes;
  const db = databaseOf(call);
  const upstream = db === undefined ? routes.first : routes.for(db);
  if (upstream) return upstream;
  return pythonError(
    'psycopg2.OperationalError',
    `database "${db}" does not exist (no upstream of odoo-rpc-bridge serves it: BRIDGE_CONFIG upstreams)`,
  );
}

/**
 * Gives the call's context the parts of `upstream`, and names it in the call's log line. The
 * upstream is held until the call is over (`logCall` releases it): one that leaves the config
 * meanwhile is closed only then.
 */
export function useUpstream(ctx: CallContext, upstream: Upstream<UpstreamServices>): void {
  ctx.upstream?.release();
  upstream.hold();
  const p = upstream.parts;
  ctx.odoo = p.odoo;
  ctx.signatures = p.signatures;
  ctx.version = p.version;
  ctx.webDb = p.webDb;
  ctx.native = p.native;
  ctx.serviceKey = p.serviceKey;
  ctx.upstream = upstream;
  if (ctx.routes.all().length > 1) ctx.notes.upstream = upstream.name;
}
