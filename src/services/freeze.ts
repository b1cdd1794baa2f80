/**
 * The write freeze of an upgrade day (issue 18's runbook, step 3): the databases listed under
 * `frozen:` in BRIDGE_CONFIG, and those frozen with `POST /_bridge/freeze/<db>`, refuse every
 * object call that may write, with a clear UserError, and serve the reads, so that nothing is
 * written between the backup and the cutover. Reloaded with the rest of the file (change or
 * SIGHUP), or `DELETE /_bridge/freeze/<db>`: unfreezing needs no restart.
 *
 * A call is a read when its method is one the bridge knows reads (the retry policy's list, and a
 * few more reads of the ORM and the web client); any other method, a custom one included, may
 * write and is refused. The db service's `drop`, `restore`, `duplicate_database` (from or to a
 * frozen name) and `create_database` of a frozen name are refused too, and
 * `change_admin_password` while any database is frozen; `dump` and the other reads are served.
 */
import { matchesAny } from '../db-patterns.ts';
import { userError, type OdooFault } from '../errors.ts';
import { READ_ONLY_METHODS } from '../upstream/retry.ts';

/** Reads beyond the retry policy's list (that one holds only what is safe to send twice). */
const MORE_READS: ReadonlySet<string> = new Set([
  'name_get',
  'fields_get_keys',
  'read_progress_bar',
  'web_name_search',
  'get_metadata',
  'get_external_id',
  'export_data',
  'check_access_rule',
  'check_field_access_rights',
  'formatted_read_grouping_sets',
]);

export function isReadMethod(method: string): boolean {
  return READ_ONLY_METHODS.has(method) || MORE_READS.has(method);
}

/** Whether `db` matches one of the `frozen` patterns (src/db-patterns.ts). */
export function isFrozen(frozen: readonly string[], db: string): boolean {
  return matchesAny(frozen, db);
}

/** db.change_admin_password while any database is frozen (server-wide: no one database named). */
export function masterPasswordFrozenFault(): OdooFault {
  return userError(
    'A database is frozen for an upgrade: db.change_admin_password is refused until every database is unfrozen (odoo-rpc-bridge freeze); reads are served.',
  );
}

export function frozenFault(db: string, what: string): OdooFault {
  return userError(
    `The database ${db} is frozen for an upgrade: ${what} is refused until it is unfrozen ` +
      `(odoo-rpc-bridge freeze); reads are served.`,
  );
}

/** Databases frozen at run time (`POST /_bridge/freeze/<db>`), at most. */
export const MAX_RUNTIME_FROZEN = 1000;

/** A database frozen at run time, and since when (ISO time). */
export interface RuntimeFreeze {
  db: string;
  since: string;
}

/**
 * What is frozen now: the `frozen` patterns of BRIDGE_CONFIG (read at each call, so a reload
 * applies at once) and the databases frozen at run time through the admin endpoints (kept here,
 * and in Redis when the replicas share their state: src/shared/freeze-share.ts). `isFrozen` is on
 * every object call's path: a map lookup, and the patterns only when some are configured.
 */
export class FreezeState {
  private readonly patterns: () => readonly string[];
  private runtime = new Map<string, RuntimeFreeze>();

  constructor(patterns: () => readonly string[]) {
    this.patterns = patterns;
  }

  isFrozen(db: string): boolean {
    if (this.runtime.size > 0 && this.runtime.has(db)) return true;
    const patterns = this.patterns();
    return patterns.length > 0 && isFrozen(patterns, db);
  }

  /** Whether any database is frozen (db.change_admin_password is refused meanwhile). */
  get any(): boolean {
    return this.runtime.size > 0 || this.patterns().length > 0;
  }

  /** Whether `db` is frozen by BRIDGE_CONFIG (a run-time unfreeze cannot lift that). */
  byConfig(db: string): boolean {
    return isFrozen(this.patterns(), db);
  }

  /** Freezes `db` here; false when MAX_RUNTIME_FROZEN are frozen already. */
  freeze(db: string, since = new Date().toISOString()): boolean {
    if (this.runtime.has(db)) return true;
    if (this.runtime.size >= MAX_RUNTIME_FROZEN) return false;
    this.runtime.set(db, { db, since });
    return true;
  }

  /** Unfreezes `db` here (a run-time freeze); answers whether it was frozen at run time. */
  unfreeze(db: string): boolean {
    return this.runtime.delete(db);
  }

  /** The run-time freezes as the shared state holds them (src/shared/freeze-share.ts). */
  replace(freezes: readonly RuntimeFreeze[]): void {
    this.runtime = new Map(freezes.slice(0, MAX_RUNTIME_FROZEN).map((f) => [f.db, f]));
  }

  /** What `GET /_bridge/freeze` and the page show. */
  list(): { config: string[]; runtime: RuntimeFreeze[] } {
    return { config: [...this.patterns()], runtime: [...this.runtime.values()] };
  }
}

/**
 * The refusal a freeze gives a legacy call as it came (native mode, src/server/native-route.ts,
 * where no service of the bridge runs): an object call that may write to a frozen database, a db
 * function that writes a frozen one, or `change_admin_password` while any is frozen.
 */
export function freezeRefusal(
  call: { service: string; method: string; params: readonly unknown[] },
  freeze: FreezeState,
): OdooFault | undefined {
  if (!freeze.any) return undefined;
  const p = call.params;
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  if (call.service === 'object' && (call.method === 'execute_kw' || call.method === 'execute')) {
    const [db, , , model, method] = p.map(text);
    if (method && !isReadMethod(method) && freeze.isFrozen(db ?? ''))
      return frozenFault(db ?? '', `${model}.${method}`);
    return undefined;
  }
  if (call.service !== 'db') return undefined;
  if (call.method === 'change_admin_password') return masterPasswordFrozenFault();
  const names =
    call.method === 'duplicate_database' || call.method === 'rename'
      ? [text(p[1]), text(p[2])]
      : call.method === 'migrate_databases'
        ? (Array.isArray(p[1]) ? p[1] : []).map(text)
        : ['drop', 'restore', 'create_database'].includes(call.method)
          ? [text(p[1])]
          : [];
  const frozen = names.find((n) => freeze.isFrozen(n));
  return frozen === undefined ? undefined : frozenFault(frozen, `db.${call.method}`);
}
