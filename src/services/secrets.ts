/**
 * Which strings of a legacy call may be secrets, wherever the client put them: what the bridge
 * writes about a call (its log line, the faults it logs, the inventory, metrics labels) masks
 * every occurrence of them.
 *
 * - The password position always: `execute_kw(db, uid, PASSWORD, …)`, `login(db, login,
 *   PASSWORD)`, the db service's master password (and `create_database`'s user password,
 *   `change_admin_password`'s new one).
 * - Until the caller is verified, the other credential positions too (db, uid, login): a client
 *   that swapped its key and its uid, or its password and its login, has its secret there. A
 *   database the bridge has seen verified (KnownNames) is named all the same.
 */
import type { KnownNames } from '../auth/known-names.ts';
import type { Value } from '../values.ts';
import type { CallNotes, LegacyCall } from './service.ts';

/** The db service's functions and the indexes of their password parameters. */
const DB_SECRETS: Readonly<Record<string, readonly number[]>> = {
  create_database: [0, 4],
  duplicate_database: [0],
  drop: [0],
  dump: [0],
  restore: [0],
  change_admin_password: [0, 1],
  rename: [0],
  migrate_databases: [0],
};

/**
 * And of their database names: the bridge cannot verify the master password (only Odoo can), so
 * a name is named only when it is a database seen verified (`dump(name, master)` swapped would
 * otherwise show the master password as a database).
 */
const DB_NAMES: Readonly<Record<string, readonly number[]>> = {
  create_database: [1],
  duplicate_database: [1, 2],
  drop: [1],
  dump: [1],
  restore: [1],
  rename: [1, 2],
  db_exist: [0],
};

export function secretsOf(call: LegacyCall | undefined, notes: CallNotes, known: KnownNames): string[] {
  if (call === undefined) return [];
  const p = call.params;
  const out: string[] = [];
  const add = (v: Value | undefined): void => {
    if (typeof v === 'string' && v.length > 0 && !out.includes(v)) out.push(v);
  };
  const addDb = (v: Value | undefined): void => {
    if (typeof v === 'string' && !known.isKnownDb(v)) add(v);
  };
  switch (call.service) {
    case 'object':
      add(p[2]);
      if (!notes.verified) {
        addDb(p[0]);
        add(p[1]);
      }
      break;
    case 'common':
      if (call.method === 'login' || call.method === 'authenticate') {
        add(p[2]);
        if (!notes.verified) {
          addDb(p[0]);
          add(p[1]);
        }
      }
      break;
    case 'db':
      for (const i of DB_SECRETS[call.method] ?? []) add(p[i]);
      for (const i of DB_NAMES[call.method] ?? []) addDb(p[i]);
      break;
  }
  return out;
}

/** `text` with every occurrence of each secret replaced by `***`. Linear: split and join. */
export function maskText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join('***');
  return out;
}

/** `value` as is, or `***` when it holds a secret. */
export function maskName(value: string | undefined, secrets: readonly string[]): string | undefined {
  if (value === undefined) return undefined;
  for (const s of secrets) if (value.includes(s)) return maskText(value, secrets);
  return value;
}
