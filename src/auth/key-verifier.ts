/**
 * "Whose key is this?" In pass-through authentication the legacy password *is* an Odoo API key;
 * in mapped authentication the key is the one held for a credential entry. Before a key is used
 * for a call, the bridge asks Odoo whose key it is (`res.users/context_get` with that key as bearer)
 * so that a legacy `uid` that is not the key's user gets `Access Denied`, as Odoo does.
 *
 * Answers are cached for BRIDGE_AUTH_CACHE_TTL_SECONDS under a keyed hash of (db, key) with a
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
  private readonly odoo: OdooClient;
  private readonly keyed = new KeyedHash();
  private readonly cache: LRUCache<string, KeyIdentity>;
  /** Upstream verifications made (not answered from the cache), for tests and metrics. */
  verifications = 0;

  constructor(odoo: OdooClient, ttlMs: number, max = 10_000) {
    this.odoo = odoo;
    this.cache = new LRUCache<string, KeyIdentity>({ max, ttl: Math.max(ttlMs, 1) });
  }

  /** The uid owning `apiKey` in `db`, or null when Odoo refuses the key (401). */
  async userOf(db: string, apiKey: string, requestId?: string): Promise<KeyIdentity | null> {
    const id = this.cacheKey(db, apiKey);
    const cached = this.cache.get(id);
    if (cached) return cached;
    this.verifications++;
    const answer = await this.odoo.json2('res.users', 'context_get', '{}', { db, apiKey, requestId });
    if (answer.status === 401) return null;
    if (answer.status !== 200)
      throw faultFromJson2(answer, {
        db,
        model: 'res.users',
        method: 'context_get',
        baseUrl: this.odoo.baseUrl,
      });
    const uid = readUid(this.json(answer.text, 'res.users.context_get'));
    if (uid === undefined)
      throw upstreamError(
        `Odoo's res.users/context_get answer has no uid: cannot tell whose API key this is`,
      );
    const identity: KeyIdentity = { uid };
    this.cache.set(id, identity);
    return identity;
  }

  /** Like `userOf`, with the user's login (one more upstream read the first time). */
  async userWithLogin(db: string, apiKey: string, requestId?: string): Promise<KeyIdentity | null> {
    const identity = await this.userOf(db, apiKey, requestId);
    if (!identity || identity.login !== undefined) return identity;
    const body = JSON.stringify({ ids: [identity.uid], fields: ['login'] });
    const answer = await this.odoo.json2('res.users', 'read', body, { db, apiKey, requestId });
    if (answer.status === 401) return null;
    if (answer.status !== 200)
      throw faultFromJson2(answer, { db, model: 'res.users', method: 'read', baseUrl: this.odoo.baseUrl });
    const login = readLogin(this.json(answer.text, 'res.users.read'));
    if (login === undefined)
      throw upstreamError(`Odoo's res.users/read answer has no login for uid ${identity.uid}`);
    const withLogin = { uid: identity.uid, login };
    this.cache.set(this.cacheKey(db, apiKey), withLogin);
    return withLogin;
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
  private json(text: string, what: string): unknown {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw notJsonAnswer(this.odoo.baseUrl, what, textStart(text));
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

function readLogin(rows: unknown): string | undefined {
  const login = Array.isArray(rows) ? (rows[0] as { login?: unknown } | undefined)?.login : undefined;
  return typeof login === 'string' ? login : undefined;
}
