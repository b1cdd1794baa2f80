/**
 * "Whose key is this?" In pass-through authentication the legacy password *is* an Odoo API key;
 * in mapped authentication the key is the one held for a credential entry. Before a key is used
 * for a call, the bridge asks Odoo whose key it is (`res.users/context_get` with that key as bearer)
 * so that a legacy `uid` that is not the key's user gets `Access Denied`, as Odoo does.
 *
 * An Odoo whose `context_get` names no uid is asked two other things the key's user can read
 * (`uidWithoutContext`). Answers are cached for BRIDGE_AUTH_CACHE_TTL_SECONDS under a keyed hash of (db, key) with a
 * per-process secret (keyed-hash.ts): the key itself is never a cache key, never logged.
 */
import { LRUCache } from 'lru-cache';
import { faultFromJson2 } from '../upstream/json2-errors.ts';
import type { OdooClient } from '../upstream/odoo-client.ts';
import { notJsonAnswer, textStart, upstreamError } from '../errors.ts';
import { KeyedHash } from './keyed-hash.ts';

export interface KeyIdentity {
  uid: number;
  /** The user's login, once asked for (common.login / authenticate). */
  login?: string;
}

export class KeyVerifier {
  /** The Odoo that serves a database (src/upstream/routes.ts). */
  private readonly odooFor: (db: string) => OdooClient;
  private readonly keyed = new KeyedHash();
  private readonly cache: LRUCache<string, KeyIdentity>;
  /**
   * Keys whose user could not be told (context_get names none, and neither other source answers),
   * with the reason: asked again only after a few seconds, not on every call.
   */
  private readonly untold = new LRUCache<string, string>({ max: 1_000, ttl: 10_000 });
  /** Upstream verifications made (not answered from the cache), for tests and metrics. */
  verifications = 0;

  constructor(odoo: OdooClient | ((db: string) => OdooClient), ttlMs: number, max = 10_000) {
    this.odooFor = typeof odoo === 'function' ? odoo : () => odoo;
    this.cache = new LRUCache<string, KeyIdentity>({ max, ttl: Math.max(ttlMs, 1) });
  }

  /** The uid owning `apiKey` in `db`, or null when Odoo refuses the key (401). */
  async userOf(db: string, apiKey: string, requestId?: string): Promise<KeyIdentity | null> {
    const id = this.cacheKey(db, apiKey);
    const cached = this.cache.get(id);
    if (cached) return cached;
    const untold = this.untold.get(id);
    if (untold !== undefined) throw upstreamError(untold);
    this.verifications++;
    const answer = await this.odooFor(db).json2('res.users', 'context_get', '{}', { db, apiKey, requestId });
    if (answer.status === 401) return null;
    if (answer.status !== 200)
      throw faultFromJson2(answer, {
        db,
        model: 'res.users',
        method: 'context_get',
        baseUrl: this.odooFor(db).baseUrl,
      });
    const uid =
      readUid(this.json(answer.text, 'res.users.context_get', db)) ??
      (await this.uidWithoutContext(id, db, apiKey, requestId));
    const identity: KeyIdentity = { uid };
    this.cache.set(id, identity);
    return identity;
  }

  /** Like `userOf`, with the user's login (one more upstream read the first time). */
  async userWithLogin(db: string, apiKey: string, requestId?: string): Promise<KeyIdentity | null> {
    const identity = await this.userOf(db, apiKey, requestId);
    if (!identity || identity.login !== undefined) return identity;
    const body = JSON.stringify({ ids: [identity.uid], fields: ['login'] });
    const answer = await this.odooFor(db).json2('res.users', 'read', body, { db, apiKey, requestId });
    if (answer.status === 401) return null;
    if (answer.status !== 200)
      throw faultFromJson2(answer, {
        db,
        model: 'res.users',
        method: 'read',
        baseUrl: this.odooFor(db).baseUrl,
      });
    const login = readLogin(this.json(answer.text, 'res.users.read', db));
    if (login === undefined)
      throw upstreamError(`Odoo's res.users/read answer has no login for uid ${identity.uid}`);
    const withLogin = { uid: identity.uid, login };
    this.cache.set(this.cacheKey(db, apiKey), withLogin);
    return withLogin;
  }

  /**
   * The key's user when `context_get` names none (a customised `res.users.context_get`: Odoo's own
   * test suite patches it to answer `{}`). Two sources the key's own user can always read:
   * - its API keys (`res.users.apikeys`): an ir.rule shows a user only their own keys, and a
   *   Settings administrator everyone's, so the caller's own key is always among them; when they
   *   all belong to one user, that user is the caller;
   * - web's `ir.http/session_info`, whose `user_settings.user_id` is the caller (for an
   *   administrator who sees other users' keys too).
   * Neither answering: the bridge's fault, saying so.
   */
  private async uidWithoutContext(
    id: string,
    db: string,
    apiKey: string,
    requestId?: string,
  ): Promise<number> {
    const known = this.untold.get(id);
    if (known !== undefined) throw upstreamError(known);
    const ask = async (model: string, method: string, body: unknown): Promise<unknown> => {
      const answer = await this.odooFor(db).json2(model, method, JSON.stringify(body), {
        db,
        apiKey,
        requestId,
      });
      if (answer.status !== 200 || !answer.contentType.includes('json')) return undefined;
      return this.json(answer.text, `${model}.${method}`, db);
    };
    const first = await ask('res.users.apikeys', 'search_read', {
      domain: [],
      fields: ['user_id'],
      limit: 1,
    });
    const owner = many2oneId(
      Array.isArray(first) ? (first[0] as { user_id?: unknown } | undefined)?.user_id : undefined,
    );
    if (owner !== undefined) {
      const others = await ask('res.users.apikeys', 'search_count', { domain: [['user_id', '!=', owner]] });
      if (others === 0) return owner;
    }
    const info = await ask('ir.http', 'session_info', {});
    const settingsUser = (info as { user_settings?: { user_id?: unknown } } | null)?.user_settings?.user_id;
    const uid = (settingsUser as { id?: unknown } | null)?.id;
    if (typeof uid === 'number' && Number.isSafeInteger(uid) && uid > 0) return uid;
    const reason =
      `cannot tell whose API key this is: Odoo's res.users/context_get answer has no uid (is it customised?), ` +
      `the key's user sees more than one user's API keys (res.users.apikeys), and ir.http/session_info ` +
      `names no user`;
    this.untold.set(id, reason);
    throw upstreamError(reason);
  }

  /** What is known about `apiKey` without asking Odoo (undefined: not verified recently). */
  cached(db: string, apiKey: string): KeyIdentity | undefined {
    return this.cache.get(this.cacheKey(db, apiKey));
  }

  /** Forgets `apiKey` (Odoo just refused it: expired or revoked). */
  forget(db: string, apiKey: string): void {
    this.cache.delete(this.cacheKey(db, apiKey));
  }

  /** An answer's JSON; Odoo's answer that is not JSON gets the bridge's one fault for that. */
  private json(text: string, what: string, db: string): unknown {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw notJsonAnswer(this.odooFor(db).baseUrl, what, textStart(text));
    }
  }

  private cacheKey(db: string, apiKey: string): string {
    return this.keyed.of([db, apiKey]);
  }
}

function readUid(context: unknown): number | undefined {
  const v = (context as { uid?: unknown } | null)?.uid;
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined;
}

/** A many2one value `[id, display_name]` → its id. */
function many2oneId(v: unknown): number | undefined {
  const id = Array.isArray(v) ? (v[0] as unknown) : undefined;
  return typeof id === 'number' && Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

function readLogin(rows: unknown): string | undefined {
  const login = Array.isArray(rows) ? (rows[0] as { login?: unknown } | undefined)?.login : undefined;
  return typeof login === 'string' ? login : undefined;
}
