/**
 * The write freeze of an upgrade day (issue 18's runbook, step 3): the databases listed under
 * `frozen:` in BRIDGE_CONFIG refuse every object call that may write, with a clear UserError, and
 * serve the reads, so that nothing is written between the backup and the cutover. Reloaded with
 * the rest of the file (change or SIGHUP): unfreezing needs no restart.
 *
 * A call is a read when its method is one the bridge knows reads (the retry policy's list, and a
 * few more reads of the ORM and the web client); any other method, a custom one included, may
 * write and is refused. The db service's `drop` and `restore` of a frozen database are refused too.
 */
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

/**
 * Whether `db` matches one of the `frozen` patterns: a name, or a name with `*` standing for any
 * run of characters (`legacy_*`). Matched piece by piece with `indexOf` (no pattern built from it).
 */
export function isFrozen(frozen: readonly string[], db: string): boolean {
  return frozen.some((pattern) => matchesGlob(pattern, db));
}

function matchesGlob(pattern: string, name: string): boolean {
  const parts = pattern.split('*');
  if (parts.length === 1) return pattern === name;
  const first = parts[0] as string;
  const last = parts[parts.length - 1] as string;
  if (!name.startsWith(first) || name.length < first.length + last.length) return false;
  let at = first.length;
  for (const middle of parts.slice(1, -1)) {
    const i = name.indexOf(middle, at);
    if (i < 0) return false;
    at = i + middle.length;
  }
  return name.length - last.length >= at && name.endsWith(last);
}

export function frozenFault(db: string, what: string): OdooFault {
  return userError(
    `The database ${db} is frozen for an upgrade: ${what} is refused until it is unfrozen ` +
      `(odoo-rpc-bridge, BRIDGE_CONFIG frozen); reads are served.`,
  );
}
