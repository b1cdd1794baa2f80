/**
 * Authentication of legacy calls, one interface for the three modes (auth.mode in BRIDGE_CONFIG):
 *
 * - `passthrough`: the legacy password is an Odoo API key; Odoo says whose it is (KeyVerifier).
 * - `mapped`: the bridge verifies (db, login, password) or (db, uid, password) against the
 *   credential file's entry for that account, and calls Odoo with the API key held for it.
 * - `both`: an account (db + login, or the uid Odoo gave for its key) that has an entry is
 *   authenticated by that entry, or by its own API key (a password shaped like one is asked of
 *   Odoo first, as in pass-through); any other account is pass-through.
 *
 * What keeps a wrong password from ever reaching Odoo with a valid key attached:
 * - an entry's key is used only after the password matched that entry's hash, or by the bridge
 *   alone to ask Odoo whose key it is (`res.users/context_get` + `read` of the login, at load and
 *   on first use); a key whose user is not the entry's login is never used;
 * - a db's entries never authenticate another db (entries are looked up by db first);
 * - a uid is matched to an entry only through the uid Odoo gave for that entry's key.
 *
 * Verifications are cached for BRIDGE_AUTH_CACHE_TTL_SECONDS under a SHA-256 (per-process random
 * prefix, keyed-hash.ts) of the JSON tuple [kind, db, login or uid, password]: never the password, never a
 * concatenation. A cached verdict is tied to the hashes it was made against, so a reload that
 * changes a hash invalidates it. Failed verifications are counted per account and per client
 * address (throttle.ts); a correct password already verified within the TTL is not throttled, so
 * an attacker cannot lock a running integration out.
 */
import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { accessDenied, serviceUnavailable } from '../errors.ts';
import { describeKeySource } from './credential-config.ts';
import type { Credential, CredentialMap } from './credential-map.ts';
import type { CredentialSource } from './credential-source.ts';
import type { KeyIdentity, KeyVerifier } from './key-verifier.ts';
import {
  DEFAULT_PBKDF2_ROUNDS,
  HashQueueFull,
  PasswordVerifier,
  type PasswordHash,
} from './password-hash.ts';
import { KeyedHash } from './keyed-hash.ts';
import type { KnownNames } from './known-names.ts';
import { Throttle, type Blocked, type ThrottleOptions } from './throttle.ts';

/** What an Odoo API key looks like: 20 random bytes as 40 lowercase hex digits. */
const API_KEY_SHAPE = /^[0-9a-f]{40}$/;

export interface LoginAttempt {
  db: string;
  login: string;
  password: string;
  /** The client's address (the socket's remote address), for throttling. */
  client: string | undefined;
  requestId: string;
}

export interface CallAttempt {
  db: string;
  uid: number;
  password: string;
  client: string | undefined;
  requestId: string;
}

/** The key a verified call is made with. */
export interface Grant {
  readonly db: string;
  readonly apiKey: string;
  readonly via: 'mapped' | 'passthrough';
  /** The entry whose key this is (mapped). */
  readonly credential?: Credential;
}

export interface Authenticator {
  /** `common.login` / `authenticate`: the uid, or false as Odoo answers. Throws AccessDenied when throttled. */
  login(attempt: LoginAttempt): Promise<number | false>;
  /** `object.execute*`: the key to call Odoo with for this uid, or throws AccessDenied. */
  authorize(attempt: CallAttempt): Promise<Grant>;
  /** Odoo answered 401 to a call made with `grant`: the key expired or was revoked. */
  keyRejected(grant: Grant, requestId: string): void;
  /**
   * A login sent on as it came to a native upstream (src/server/native-route.ts): a login of the
   * credential map must give its entry's password (throttled like any login); `unmapped`: the
   * map does not name it, the old server decides. Throws AccessDenied when throttled.
   */
  checkMapped(attempt: LoginAttempt): Promise<'unmapped' | 'match' | 'mismatch'>;
  /** Whether `client` floods after being throttled: refused at the door (see BridgeAuthenticator). */
  shed(client: string | undefined): boolean;
  /** Whether any client is shed now: a cheap test before working out the client's address. */
  readonly shedding: boolean;
}

export interface AuthenticatorOptions {
  source: CredentialSource;
  /** Learns each verified db and login; only those are named in the log of a failed attempt. */
  known: KnownNames;
  keys: KeyVerifier;
  log: Logger;
  /** How long a verification is trusted (BRIDGE_AUTH_CACHE_TTL_SECONDS). */
  cacheTtlMs: number;
  throttle: ThrottleOptions;
  /**
   * A secret every replica derives alike, for the throttling accounts' names when their counts are
   * shared (BRIDGE_REDIS_URL); default, a random one of this process.
   */
  accountSecret?: string | undefined;
  /** Hash verifications run at once (each takes a libuv thread). */
  hashConcurrency?: number;
}

/**
 * - `match`: the password is this entry's;
 * - `mismatch`: an entry owns the account and the password is not its;
 * - `none`: no entry owns the account.
 */
type Verdict =
  | { kind: 'match'; credential: string; fingerprint: string }
  | { kind: 'mismatch' | 'none'; fingerprint: string };

/** Who an attempt is for, as logged (never the password). */
type Who = { db: string; login: string } | { db: string; uid: number };

export class BridgeAuthenticator implements Authenticator {
  private readonly source: CredentialSource;
  private readonly known: KnownNames;
  private readonly keys: KeyVerifier;
  private readonly log: Logger;
  private readonly keyed = new KeyedHash();
  /** Names the throttling accounts (the same on every replica when their counts are shared). */
  private readonly accounts: KeyedHash;
  private readonly verdicts: LRUCache<string, Verdict>;
  private readonly pending = new Map<string, Promise<Verdict>>();
  /** Pass-through key look-ups in flight, by tuple: concurrent cold calls share one (and its admission). */
  private readonly keyLookUps = new Map<string, Promise<KeyIdentity | null>>();
  /** keyed hash of [db, login, key] → the uid Odoo gave for an entry's key (its login checked). */
  private readonly uids = new Map<string, number>();
  private readonly resolving = new Map<string, Promise<number | null>>();
  /** Entries' keys Odoo refused recently: not asked again, not logged again, until the TTL or a new key. */
  private readonly refused: LRUCache<string, true>;
  private readonly throttle: Throttle;
  /**
   * Keyed hashes of tuples (db, login or uid, password or key) verified recently, refreshed on
   * each success: they pass the throttle, so that a running integration is never locked out by
   * someone else's guesses. Kept for the failure window and at least an hour after their last
   * success; an attacker cannot be in it without the password.
   */
  private readonly recent: LRUCache<string, true>;
  readonly hashes: PasswordVerifier;
  /** Settles when the uids of the current entries' keys have been asked for. */
  warmed: Promise<void> = Promise.resolve();
  /** Told of each failed or throttled attempt: the auth mode and the reason, never who (metrics). */
  onFailure: ((mode: string, reason: string) => void) | undefined;
  /** Told when Odoo refuses a credential map entry's key (metrics: the entry's db and login). */
  onKeyRejected: ((db: string, login: string) => void) | undefined;

  constructor(opts: AuthenticatorOptions) {
    this.source = opts.source;
    this.known = opts.known;
    this.keys = opts.keys;
    this.log = opts.log;
    const ttl = Math.max(opts.cacheTtlMs, 1);
    this.verdicts = new LRUCache<string, Verdict>({ max: 10_000, ttl });
    this.refused = new LRUCache<string, true>({ max: 1_000, ttl });
    this.throttle = new Throttle(opts.throttle);
    this.accounts = new KeyedHash(opts.accountSecret);
    this.recent = new LRUCache<string, true>({
      max: 10_000,
      ttl: Math.max(opts.throttle.windowMs, ttl, 3_600_000),
    });
    this.hashes = new PasswordVerifier(opts.hashConcurrency ?? 2);
    this.source.onChange((map, previous) => this.adopt(map, previous));
    this.warm(this.source.current);
  }

  // -------------------------------------------------------------------------------------------
  // common.login / authenticate

  async checkMapped(a: LoginAttempt): Promise<'unmapped' | 'match' | 'mismatch'> {
    const map = this.source.current;
    const entry = map.mode === 'passthrough' ? undefined : map.find(a.db, a.login);
    if (!entry) return 'unmapped';
    const who: Who = { db: a.db, login: a.login };
    const id = this.tupleId('login', a.db, a.login, a.password);
    const verdict = await this.verdict(id, map, a, who, async () =>
      (await this.hashes.verify(a.password, entry.hash, a.client ?? ''))
        ? { kind: 'match', credential: entry.id, fingerprint: map.passwordFingerprint }
        : { kind: 'mismatch', fingerprint: map.passwordFingerprint },
    );
    if (verdict.kind !== 'match') {
      this.failure(this.account(who), a, who, 'wrong password');
      return 'mismatch';
    }
    this.succeeded(id, this.account(who), a.db, a.login);
    return 'match';
  }

  async login(a: LoginAttempt): Promise<number | false> {
    const map = this.source.current;
    const who: Who = { db: a.db, login: a.login };
    if (map.mode !== 'passthrough') {
      const entry = map.find(a.db, a.login);
      const verified = this.cachedVerdict(this.tupleId('login', a.db, a.login, a.password), map);
      if (entry && map.mode === 'both' && verified?.kind !== 'match') {
        // In `both` mode the account's own API key is a password too, as Odoo takes either.
        const identity = await this.ownKey(a, who, 'key-login', a.login, () =>
          this.keys.userWithLogin(a.db, a.password, a.requestId),
        );
        if (identity?.login === a.login) return identity.uid;
      }
      if (entry || map.mode === 'mapped') {
        const id = this.tupleId('login', a.db, a.login, a.password);
        const verdict = await this.verdict(id, map, a, who, async () => {
          if (!entry) {
            await this.decoy(map, a.password, a.client);
            return { kind: 'none', fingerprint: map.passwordFingerprint };
          }
          return (await this.hashes.verify(a.password, entry.hash, a.client ?? ''))
            ? { kind: 'match', credential: entry.id, fingerprint: map.passwordFingerprint }
            : { kind: 'mismatch', fingerprint: map.passwordFingerprint };
        });
        if (verdict.kind !== 'match' || !entry) {
          this.failure(this.account(who), a, who, entry ? 'wrong password' : 'unknown login');
          return false;
        }
        this.succeeded(id, this.account(who), a.db, a.login);
        const uid = await this.uidOf(entry, a.requestId);
        if (uid === null) return false;
        // The calls that follow a login carry (db, uid, password): already verified.
        if (verdict.fingerprint === this.source.current.passwordFingerprint)
          this.verdicts.set(this.tupleId('call', a.db, uid, a.password), verdict);
        return uid;
      }
    }
    // Pass-through: the password is an API key, which must be this login's. No per-account limit:
    // an API key cannot be guessed, so the limit would only let guesses lock its owner out
    // (each client's own limit still holds).
    const known = this.keys.cached(a.db, a.password);
    if (known?.login === a.login) return known.uid;
    const tuple = this.tupleId('key-login', a.db, a.login, a.password);
    const identity = await shared(this.keyLookUps, tuple, () =>
      this.guarded(tuple, undefined, a, who, () => this.keys.userWithLogin(a.db, a.password, a.requestId)),
    );
    if (!identity || identity.login !== a.login) {
      this.failure(undefined, a, who, identity ? 'API key of another user' : 'API key refused');
      return false;
    }
    this.succeeded(tuple, undefined, a.db, a.login);
    return identity.uid;
  }

  // -------------------------------------------------------------------------------------------
  // object.execute / execute_kw

  async authorize(a: CallAttempt): Promise<Grant> {
    const map = this.source.current;
    if (map.mode !== 'passthrough') {
      const grant = await this.authorizeMapped(a, map);
      if (grant) return grant;
    }
    const who: Who = { db: a.db, uid: a.uid };
    // A key verified within the TTL is not looked up twice (each look-up is a request to Odoo).
    // No per-account limit for keys (see `login`).
    const known = this.keys.cached(a.db, a.password);
    if (known?.uid === a.uid) return { db: a.db, apiKey: a.password, via: 'passthrough' };
    const tuple = this.tupleId('key-call', a.db, a.uid, a.password);
    const identity = await shared(this.keyLookUps, tuple, () =>
      this.guarded(tuple, undefined, a, who, () => this.keys.userOf(a.db, a.password, a.requestId)),
    );
    if (!identity || identity.uid !== a.uid) {
      this.failure(undefined, a, who, identity ? 'API key of another user' : 'API key refused');
      throw accessDenied();
    }
    this.succeeded(tuple, undefined, a.db, identity.login);
    return { db: a.db, apiKey: a.password, via: 'passthrough' };
  }

  /** The grant of the entry owning (db, uid); undefined when none does and pass-through may decide. */
  private async authorizeMapped(a: CallAttempt, map: CredentialMap): Promise<Grant | undefined> {
    const entries = map.inDb(a.db);
    const owner = entries.find((c) => this.knownUid(c) === a.uid);
    // Every entry of this db is known to be someone else: pass-through decides, no hash to check.
    if (!owner && map.mode === 'both' && entries.every((c) => this.knownUid(c) !== undefined))
      return undefined;
    const who: Who = owner ? { db: a.db, login: owner.login } : { db: a.db, uid: a.uid };
    const id = this.tupleId('call', a.db, a.uid, a.password);
    const cached = this.cachedVerdict(id, map);
    // In `both` mode, an account no entry owns is pass-through's to decide (and to throttle).
    if (cached?.kind === 'none' && !owner && map.mode === 'both') return undefined;
    // "Nobody owns this uid" no longer holds once an entry's key turned out to be that uid's.
    if (cached?.kind === 'none' && owner) this.verdicts.delete(id);
    if (owner && map.mode === 'both' && cached?.kind !== 'match') {
      // In `both` mode the account's own API key is a password too, as Odoo takes either.
      const identity = await this.ownKey(a, who, 'key-call', a.uid, () =>
        this.keys.userOf(a.db, a.password, a.requestId),
      );
      if (identity?.uid === a.uid) return { db: a.db, apiKey: a.password, via: 'passthrough' };
    }
    const verdict = await this.verdict(id, map, a, who, () => this.matchCall(a, map, owner));
    if (verdict.kind === 'none' && map.mode === 'both') return undefined;
    const entry = verdict.kind === 'match' ? map.get(verdict.credential) : undefined;
    if (!entry) {
      this.failure(
        this.account(who),
        a,
        who,
        verdict.kind === 'none' ? 'no credential for this uid' : 'wrong password',
      );
      throw accessDenied();
    }
    const uid = await this.uidOf(entry, a.requestId);
    if (uid === null) throw accessDenied();
    if (uid !== a.uid) {
      // The password is the entry's, the uid is someone else's: the key is not used.
      this.failure(
        this.account({ db: a.db, login: entry.login }),
        a,
        { db: a.db, login: entry.login },
        `wrong uid ${a.uid}`,
      );
      throw accessDenied();
    }
    // A cached match was made `recent` when it was verified: the hot path adds no bookkeeping.
    if (cached?.kind !== 'match')
      this.succeeded(id, this.account({ db: a.db, login: entry.login }), a.db, entry.login);
    else if (this.throttle.tracking) this.throttle.succeeded(this.account({ db: a.db, login: entry.login }));
    if (entry.apiKey === undefined) throw accessDenied(); // uidOf answered null already; for the type checker
    return { db: a.db, apiKey: entry.apiKey, via: 'mapped', credential: entry };
  }

  /**
   * In `both` mode, a listed account's password may be the account's own API key: tried first,
   * only when it has an API key's shape (Odoo makes them 40 hex digits), so that a listed user's
   * mistyped password never leaves the bridge. Asked of Odoo as in pass-through: within the
   * client's limit, not the account's (a key cannot be guessed, and someone else's wrong passwords
   * must not lock its owner out). The identity when the key is that user's, else undefined (a
   * failure of the client's): the caller then checks the password against the entry.
   */
  private async ownKey(
    a: { db: string; password: string; client: string | undefined; requestId: string },
    who: Who,
    kind: 'key-login' | 'key-call',
    user: string | number,
    lookUp: () => Promise<KeyIdentity | null>,
  ): Promise<KeyIdentity | undefined> {
    if (!API_KEY_SHAPE.test(a.password)) return undefined;
    const known = this.keys.cached(a.db, a.password);
    if (known !== undefined && (kind === 'key-call' || known.login !== undefined)) return known;
    const tuple = this.tupleId(kind, a.db, user, a.password);
    const identity = await shared(this.keyLookUps, tuple, () =>
      this.guarded(tuple, undefined, a, who, lookUp),
    );
    if (identity && (kind === 'key-call' ? identity.uid === user : identity.login === user)) {
      this.succeeded(tuple, undefined, a.db, identity.login);
      return identity;
    }
    // Counted against the client, as in pass-through: once the account is locked its password is
    // no longer checked (nor counted), and key-shaped guesses must still reach Odoo only so often.
    this.failure(undefined, a, who, identity ? 'API key of another user' : 'API key refused');
    return undefined;
  }

  /**
   * Which entry of the call's db the password is. The entry known to own the uid is the only
   * candidate; when none is known yet, entries whose key's uid is still unknown are tried, and
   * only one whose hash matched will have its key asked about.
   */
  private async matchCall(
    a: CallAttempt,
    map: CredentialMap,
    owner: Credential | undefined,
  ): Promise<Verdict> {
    const fingerprint = map.passwordFingerprint;
    if (owner)
      return (await this.hashes.verify(a.password, owner.hash, a.client ?? ''))
        ? { kind: 'match', credential: owner.id, fingerprint }
        : { kind: 'mismatch', fingerprint };
    const open = map.inDb(a.db).filter((c) => this.knownUid(c) === undefined);
    for (const c of open)
      if (await this.hashes.verify(a.password, c.hash, a.client ?? ''))
        return { kind: 'match', credential: c.id, fingerprint };
    if (open.length === 0 && map.mode === 'mapped') await this.decoy(map, a.password, a.client);
    return { kind: 'none', fingerprint };
  }

  // -------------------------------------------------------------------------------------------
  // Keys

  keyRejected(grant: Grant, requestId: string): void {
    this.keys.forget(grant.db, grant.apiKey);
    const entry = grant.credential;
    if (grant.via !== 'mapped' || !entry) return;
    const k = this.uidKey(entry, grant.apiKey);
    this.uids.delete(k);
    this.refuse(entry, k, requestId);
  }

  /** The uid of `entry`'s key, checked to be the entry's login; null (logged) when it cannot be used. */
  private uidOf(entry: Credential, requestId: string | undefined): Promise<number | null> {
    const apiKey = entry.apiKey;
    if (apiKey === undefined) {
      this.log.error(
        { requestId, db: entry.db, login: entry.login },
        `no API key for ${entry.db}/${entry.login}: ${describeKeySource(entry.keySource)} could not be read`,
      );
      return Promise.resolve(null);
    }
    const k = this.uidKey(entry, apiKey);
    const known = this.uids.get(k);
    if (known !== undefined) return Promise.resolve(known);
    if (this.refused.has(k)) return Promise.resolve(null);
    return shared(this.resolving, k, async (): Promise<number | null> => {
      const identity = await this.keys.userWithLogin(entry.db, apiKey, requestId);
      if (!identity) {
        this.refuse(entry, k, requestId);
        return null;
      }
      if (identity.login !== entry.login) {
        this.refused.set(k, true);
        this.log.error(
          { requestId, db: entry.db, login: entry.login, keyUid: identity.uid, keyLogin: identity.login },
          `key for ${entry.db}/${entry.login} belongs to another user (${identity.login}): not used`,
        );
        return null;
      }
      this.uids.set(k, identity.uid);
      return identity.uid;
    });
  }

  private refuse(entry: Credential, k: string, requestId: string | undefined): void {
    if (this.refused.has(k)) return;
    this.refused.set(k, true);
    this.onKeyRejected?.(entry.db, entry.login);
    this.log.warn(
      { requestId, db: entry.db, login: entry.login, keySource: describeKeySource(entry.keySource) },
      `key for ${entry.db}/${entry.login} rejected: expired or revoked`,
    );
  }

  private knownUid(c: Credential): number | undefined {
    return c.apiKey === undefined ? undefined : this.uids.get(this.uidKey(c, c.apiKey));
  }

  /** A new map: drop what no longer applies, and learn the uids of new keys. */
  private adopt(map: CredentialMap, previous: CredentialMap): void {
    if (map.passwordFingerprint !== previous.passwordFingerprint) this.verdicts.clear();
    const live = new Set(
      map.all().flatMap((c) => (c.apiKey === undefined ? [] : [this.uidKey(c, c.apiKey)])),
    );
    for (const k of this.uids.keys()) if (!live.has(k)) this.uids.delete(k);
    this.warm(map);
  }

  /** Asks Odoo whose each entry's key is, so that object calls find their entry by uid. */
  private warm(map: CredentialMap): void {
    if (map.mode === 'passthrough') return;
    for (const c of map.all()) this.known.learn(c.db, c.login);
    const asks = map.all().map((c) =>
      this.uidOf(c, undefined).catch((e: unknown) => {
        this.log.warn(
          { db: c.db, login: c.login, problem: (e as Error).message },
          `cannot ask Odoo whose key ${c.db}/${c.login} is yet; will ask again on its first login`,
        );
      }),
    );
    this.warmed = Promise.all(asks).then(() => undefined);
  }

  // -------------------------------------------------------------------------------------------
  // Verdicts, throttling

  private tupleId(
    kind: 'login' | 'call' | 'key-login' | 'key-call',
    db: string,
    who: string | number,
    password: string,
  ): string {
    return this.keyed.of([kind, db, who, password]);
  }

  private uidKey(c: Credential, apiKey: string): string {
    return this.keyed.of(['key', c.db, c.login, apiKey]);
  }

  private cachedVerdict(id: string, map: CredentialMap): Verdict | undefined {
    const v = this.verdicts.get(id);
    return v && v.fingerprint === map.passwordFingerprint ? v : undefined;
  }

  /**
   * The verdict on a tuple: a cached match as is (not throttled: this password was right); else,
   * within the throttle (`guarded`), the cached failure or a new verification. One verification
   * per tuple at a time: concurrent cold calls share it (and its admission).
   */
  private async verdict(
    id: string,
    map: CredentialMap,
    a: { client: string | undefined; requestId: string },
    who: Who,
    compute: () => Promise<Verdict>,
  ): Promise<Verdict> {
    const cached = this.cachedVerdict(id, map);
    if (cached?.kind === 'match') return cached;
    const key = `${id} ${map.passwordFingerprint}`;
    const running = this.pending.get(key);
    if (running) return running;
    if (cached) {
      if (!this.recent.has(id)) this.refuseIfBlocked(this.account(who), a, who);
      return cached;
    }
    return shared(this.pending, key, async () => {
      const v = await this.guarded(id, this.account(who), a, who, compute);
      if (this.source.current.passwordFingerprint === v.fingerprint) this.verdicts.set(id, v);
      return v;
    });
  }

  /**
   * Runs one verification of `tuple` for `account` within the throttle: refused (AccessDenied)
   * when failures reached a limit, or admitted once failures plus verifications in flight leave
   * room (throttle.ts). A tuple verified recently (`succeeded`) is let through without counting:
   * someone else's guesses never lock out the integration whose password this is.
   */
  private async guarded<T>(
    tuple: string,
    account: string | undefined,
    a: { client: string | undefined; requestId: string },
    who: Who,
    verify: () => Promise<T>,
  ): Promise<T> {
    const run = (): Promise<T> =>
      verify().catch((e: unknown) => {
        if (!(e instanceof HashQueueFull)) throw e;
        this.onFailure?.(this.source.current.mode, 'hash queue full');
        throw serviceUnavailable(
          'odoo-rpc-bridge is verifying as many passwords as it may; retry in a second',
        );
      });
    if (this.recent.has(tuple)) return run();
    const blocked = await this.throttle.acquire(account, a.client);
    if (blocked) this.throttled(blocked, a, who);
    try {
      return await run();
    } finally {
      this.throttle.release(account, a.client);
    }
  }

  /**
   * The throttling account of `who`: a keyed hash of [db, login], or of [db, uid] when the login
   * is not known. Fixed-size, whatever the client sends as a login.
   */
  private account(who: Who): string {
    return 'login' in who
      ? this.accounts.of(['account', who.db, who.login])
      : this.accounts.of(['account', who.db, who.uid]);
  }

  /** A tuple verified: its account's failures are cleared, and it passes the throttle from now on. */
  private succeeded(tuple: string, account: string | undefined, db: string, login?: string): void {
    if (account !== undefined) this.throttle.succeeded(account);
    this.recent.set(tuple, true);
    this.known.learn(db, login);
  }

  /**
   * Who an attempt is for, as its log lines name it: a db or login the bridge has not seen
   * verified may be a secret in the wrong place (parameters swapped), and is written as a
   * fingerprint instead.
   */
  private named(who: Who): Record<string, string | number> {
    const db = this.known.isKnownDb(who.db) ? who.db : this.known.fingerprint(who.db);
    if (!('login' in who)) return { db, uid: who.uid };
    return this.known.isKnownLogin(who.db, who.login)
      ? { db, login: who.login }
      : { db, loginFingerprint: this.known.fingerprint(who.login) };
  }

  /**
   * Takes as long as verifying against a real entry (the average of the last verifications), so
   * that unknown logins cannot be told apart by time; a timer, not a hash: guesses at logins that
   * do not exist cost the guesser time and no one else a place in the hash queue. Until a real
   * verification has been timed, one decoy hash is computed to time it.
   */
  private async decoy(map: CredentialMap, password: string, client: string | undefined): Promise<void> {
    const ms = this.hashes.typicalMs();
    if (ms !== undefined) {
      await new Promise((resolve) => setTimeout(resolve, ms * (0.9 + 0.2 * Math.random())));
      return;
    }
    const like = map.all()[0]?.hash;
    const hash: PasswordHash =
      like?.scheme === 'scrypt'
        ? { ...like, salt: randomBytes(16), checksum: randomBytes(like.checksum.length) }
        : {
            scheme: 'pbkdf2-sha512',
            rounds: like?.rounds ?? DEFAULT_PBKDF2_ROUNDS,
            salt: randomBytes(16),
            checksum: randomBytes(64),
          };
    await this.hashes.verify(password, hash, client ?? '');
  }

  /** Refuses (AccessDenied) an attempt whose account or client is at its limit of failures. */
  private refuseIfBlocked(
    account: string | undefined,
    a: { client: string | undefined; requestId: string },
    who: Who,
  ): void {
    const blocked = this.throttle.blocked(account, a.client);
    if (blocked) this.throttled(blocked, a, who);
  }

  /**
   * Whether `client` keeps guessing after it was throttled (throttle.ts `shed`): the server then
   * refuses its requests before reading them, and its connections as they open.
   */
  shed(client: string | undefined): boolean {
    return client !== undefined && this.throttle.shedding && this.throttle.shed(client);
  }

  get shedding(): boolean {
    return this.throttle.shedding;
  }

  private throttled(blocked: Blocked, a: { client: string | undefined; requestId: string }, who: Who): never {
    this.throttle.refused(a.client, blocked);
    this.log.warn(
      {
        requestId: a.requestId,
        ...this.named(who),
        client: a.client,
        by: blocked.by,
        retryInSeconds: blocked.retryInSeconds,
      },
      'authentication throttled',
    );
    this.onFailure?.(this.source.current.mode, 'throttled');
    throw accessDenied(`too many failed logins, retry in ${blocked.retryInSeconds} s`);
  }

  private failure(
    account: string | undefined,
    a: { client: string | undefined; requestId: string },
    who: Who,
    reason: string,
  ): void {
    const counts = this.throttle.failed(account, a.client);
    this.onFailure?.(this.source.current.mode, reason.replace(/ -?\d+$/, '')); // 'wrong uid 7' → 'wrong uid'
    this.log.warn(
      {
        requestId: a.requestId,
        ...this.named(who),
        client: a.client,
        reason,
        failures: counts.account,
        clientFailures: counts.client,
      },
      'authentication failed',
    );
  }
}

/** `start()`, or the same call already in flight under `key` in `inFlight`: one at a time per key. */
function shared<T>(inFlight: Map<string, Promise<T>>, key: string, start: () => Promise<T>): Promise<T> {
  const running = inFlight.get(key);
  if (running) return running;
  const p = start();
  inFlight.set(key, p);
  const done = (): void => void inFlight.delete(key);
  p.then(done, done);
  return p;
}
