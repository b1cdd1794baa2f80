/**
 * When do the credential map's API keys expire? Odoo caps the keys of users who are not
 * administrators at three months, and an expired key locks its integration out. For each mapped
 * credential the bridge reads, with that credential's own key, the user's `res.users.apikeys`
 * (a user may read their own keys: `name`, `scope`, `expiration_date`), at start, after each
 * reload of the map, and daily. The earliest expiry among the user's RPC keys is exposed as
 * `odoo_bridge_api_key_expiry_timestamp_seconds{db,login}` and logged as a warning from
 * `warnDays` before. The bridge cannot tell which of the user's keys it holds (Odoo keeps only a
 * hash of each), so the earliest is the one to renew first. The key itself is never logged.
 */
import type { Logger } from 'pino';
import type { OdooClient } from '../upstream/odoo-client.ts';
import type { Credential, CredentialMap } from './credential-map.ts';
import type { CredentialSource } from './credential-source.ts';
import type { KeyVerifier } from './key-verifier.ts';

const DAY_MS = 86_400_000;

export interface KeyExpiry {
  db: string;
  login: string;
  /** Seconds since the epoch of the earliest expiry among the user's RPC keys. */
  expiresAt: number;
}

export interface KeyExpiryOptions {
  /**
   * The Odoo that serves a database (src/upstream/routes.ts); undefined: one that speaks no JSON-2
   * (a native upstream), whose keys are not watched.
   */
  odoo: OdooClient | ((db: string) => OdooClient | undefined);
  source: CredentialSource;
  keys: KeyVerifier;
  log: Logger;
  /** How often the keys are read again (default: daily). */
  intervalMs?: number;
  /** Warn this many days before a key expires (default 14). */
  warnDays?: number;
  now?: () => number;
}

/** Odoo's `expiration_date` (UTC, `YYYY-MM-DD HH:MM:SS`) → ms, or undefined. */
function odooDatetime(v: unknown): number | undefined {
  if (typeof v !== 'string' || !/^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d$/.test(v)) return undefined;
  const t = Date.parse(`${v.replace(' ', 'T')}Z`);
  return Number.isFinite(t) ? t : undefined;
}

/** After a pass that could not read every entry, the next one comes this soon (then doubling). */
const RETRY_MS = 5 * 60_000;

export class KeyExpiryWatch {
  private readonly o: Required<Omit<KeyExpiryOptions, 'now'>> & { now: () => number };
  /** By credential id. */
  private readonly expiries = new Map<string, KeyExpiry>();
  private timer: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private retryMs = RETRY_MS;
  private running: Promise<void> | undefined;
  /** A pass asked for while one runs: one more, for the map as it is then (never a queue). */
  private again = false;
  private stopped = false;

  constructor(opts: KeyExpiryOptions) {
    this.o = { intervalMs: DAY_MS, warnDays: 14, now: Date.now, ...opts };
  }

  /** The known expiries (credentials whose keys do not expire are absent). */
  current(): KeyExpiry[] {
    return [...this.expiries.values()];
  }

  /** Reads the keys now, again after every reload of the map, and every `intervalMs`. */
  start(): void {
    void this.check();
    this.o.source.onChange(() => void this.check());
    this.timer = setInterval(() => void this.check(), this.o.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.retry);
  }

  /**
   * One pass over the current map; settles (never rejects) when it is done. Passes never overlap:
   * asked for during one, a single further pass follows it.
   */
  check(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        let failed: boolean;
        try {
          failed = await this.pass(this.o.source.current);
        } catch (e) {
          failed = true;
          this.o.log.warn({ problem: String(e) }, 'cannot read when the API keys expire; will try again');
        }
        this.scheduleRetry(failed);
      } while (this.again && !this.stopped);
      this.running = undefined;
    })();
    return this.running;
  }

  /** A pass that could not read every entry is tried again soon, backing off to the interval. */
  private scheduleRetry(failed: boolean): void {
    clearTimeout(this.retry);
    if (!failed || this.stopped) {
      this.retryMs = RETRY_MS;
      return;
    }
    this.retry = setTimeout(() => void this.check(), this.retryMs);
    this.retry.unref();
    this.retryMs = Math.min(this.retryMs * 2, this.o.intervalMs);
  }

  /** Reads every entry; true when one could not be read. */
  private async pass(map: CredentialMap): Promise<boolean> {
    if (map.mode === 'passthrough') {
      this.expiries.clear();
      return false;
    }
    let failed = false;
    const live = new Set<string>();
    for (const c of map.all()) {
      if (this.stopped) return false;
      live.add(c.id);
      try {
        await this.read(c);
      } catch (e) {
        failed = true;
        this.o.log.warn(
          { db: c.db, login: c.login, problem: e instanceof Error ? e.message : String(e) },
          `cannot read when the API key of ${c.db}/${c.login} expires; will try again`,
        );
      }
    }
    for (const id of this.expiries.keys()) if (!live.has(id)) this.expiries.delete(id);
    return failed;
  }

  private async read(c: Credential): Promise<void> {
    if (c.apiKey === undefined) return;
    const odoo = typeof this.o.odoo === 'function' ? this.o.odoo(c.db) : this.o.odoo;
    if (odoo === undefined) return;
    // Only a key that is the entry's user's: a refused key, or one of another user (a mistake the
    // authenticator logs and never uses), is not used here either.
    const identity = await this.o.keys.userWithLogin(c.db, c.apiKey);
    if (!identity || identity.login !== c.login) return;
    const body = JSON.stringify({
      domain: [['user_id', '=', identity.uid]],
      fields: ['name', 'scope', 'expiration_date'],
    });
    const answer = await odoo.json2('res.users.apikeys', 'search_read', body, {
      db: c.db,
      apiKey: c.apiKey,
    });
    if (answer.status !== 200 || !answer.contentType.includes('json'))
      throw new Error(`Odoo answered res.users.apikeys/search_read with HTTP ${answer.status}`);
    const rows: unknown = JSON.parse(answer.text);
    if (!Array.isArray(rows)) throw new Error('Odoo answered res.users.apikeys/search_read with no list');
    let earliest: number | undefined;
    const now = this.o.now();
    for (const r of rows as unknown[]) {
      const row = (typeof r === 'object' && r !== null ? r : {}) as Record<string, unknown>;
      if (row['scope'] !== 'rpc' && row['scope'] !== false && row['scope'] !== null) continue;
      const at = odooDatetime(row['expiration_date']);
      // An expired key (Odoo deletes them once a day) is not the one in use: this read worked.
      if (at !== undefined && at > now && (earliest === undefined || at < earliest)) earliest = at;
    }
    if (earliest === undefined) {
      this.expiries.delete(c.id);
      return;
    }
    this.expiries.set(c.id, { db: c.db, login: c.login, expiresAt: Math.floor(earliest / 1000) });
    const days = (earliest - now) / DAY_MS;
    if (days < this.o.warnDays) {
      const on = new Date(earliest).toISOString().slice(0, 16).replace('T', ' ');
      this.o.log.warn(
        { db: c.db, login: c.login, expiresAt: new Date(earliest).toISOString(), days: Math.floor(days) },
        `an API key of ${c.db}/${c.login} expires on ${on} UTC (in ${Math.floor(days)} days): create a new one in Odoo and replace the key file`,
      );
    }
  }
}
