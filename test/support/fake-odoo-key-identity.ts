/**
 * What the fake Odoo answers about a key's own user, for the bridge's "whose key is this?"
 * (src/auth/key-verifier.ts), built from a real Odoo 19.0's answers
 * (test/fixtures/native/whose-key.json):
 * - `res.users/context_get`, which a customised Odoo (`contextGetWithoutUid`) answers `{}`, as
 *   Odoo's own test suite patches it;
 * - `res.users.apikeys/search_read` and `search_count`: an ir.rule shows a user only their own
 *   keys (`[('user_id', '=', user.id)]`), a Settings administrator every user's;
 * - `ir.http/session_info`: web's session description, whose `uid` is null for a bearer call but
 *   whose `user_settings.user_id` and `username` are the key's user.
 */
import { readFileSync } from 'node:fs';
import type { FakeKey } from './fake-odoo.ts';
import { accessError, notFound } from './fake-odoo-errors.ts';
import type { PyDict, PyJson } from './fake-odoo-json.ts';

const NATIVE = JSON.parse(
  readFileSync(new URL('../fixtures/native/whose-key.json', import.meta.url), 'utf8'),
) as { answers: Record<'admin' | 'demo', { session_info: PyDict }> };

/** The lab's Settings administrators (group_system): they see every user's keys. */
const SETTINGS_ADMINS = new Set([2]);

export interface KeyIdentityOptions {
  keys: readonly FakeKey[];
  contextGetWithoutUid: boolean;
  /** Neither other source answers either: the keys' model refused, web not installed. */
  keyIdentityUnavailable: boolean;
}

/** The answer to one of these calls, or undefined for any other call (the ORM answers it). */
export function keyIdentityAnswer(
  o: KeyIdentityOptions,
  db: string,
  uid: number,
  model: string,
  method: string,
  params: PyDict,
  userName: (uid: number) => string,
): PyJson | undefined {
  if (model === 'res.users' && method === 'context_get') return o.contextGetWithoutUid ? {} : undefined;
  if (o.keyIdentityUnavailable && model === 'res.users.apikeys')
    throw accessError("You are not allowed to access 'API Key' (res.users.apikeys) records.");
  if (o.keyIdentityUnavailable && model === 'ir.http') throw notFound("the model 'ir.http' does not exist");
  if (model === 'ir.http' && method === 'session_info') return sessionInfo(o, db, uid, userName);
  if (model !== 'res.users.apikeys') return undefined;
  const visible = o.keys
    .map((k, i) => ({ id: i + 1, key: k }))
    .filter(({ key }) => key.db === db && (SETTINGS_ADMINS.has(uid) || key.uid === uid));
  const rows = visible.filter(({ key }) => matches(key.uid, params['domain'] ?? []));
  if (method === 'search_count') return rows.length;
  if (method !== 'search_read') throw new Error(`fake Odoo: res.users.apikeys.${method} is not modelled`);
  const limit = typeof params['limit'] === 'number' ? params['limit'] : rows.length;
  return rows.slice(0, limit).map(({ id, key }) => ({
    id,
    user_id: [key.uid, userName(key.uid)],
    name: 'lab key',
    scope: key.scope ?? 'rpc',
    expiration_date: key.expires ?? false,
  }));
}

/** `[]`, or one `('user_id', '=' | '!=', id)` condition: what the bridge sends. */
function matches(ownerUid: number, domain: PyJson): boolean {
  if (!Array.isArray(domain)) throw new Error('fake Odoo: a domain must be a list');
  return domain.every((leaf) => {
    if (!Array.isArray(leaf) || leaf[0] !== 'user_id' || typeof leaf[2] !== 'number')
      throw new Error(`fake Odoo: res.users.apikeys domain ${JSON.stringify(domain)} is not modelled`);
    if (leaf[1] === '=') return ownerUid === leaf[2];
    if (leaf[1] === '!=') return ownerUid !== leaf[2];
    throw new Error(`fake Odoo: operator ${String(leaf[1])} is not modelled`);
  });
}

/** The recorded session_info (demo's), with this key's user in it. */
function sessionInfo(
  o: KeyIdentityOptions,
  db: string,
  uid: number,
  userName: (uid: number) => string,
): PyDict {
  const recorded = NATIVE.answers.demo.session_info;
  const settings = recorded['user_settings'] as PyDict;
  const login = o.keys.find((k) => k.db === db && k.uid === uid)?.login ?? false;
  return {
    ...recorded,
    db,
    name: userName(uid),
    username: login,
    is_system: false,
    is_admin: false,
    user_settings: { ...settings, id: uid, user_id: { id: uid } },
  };
}
