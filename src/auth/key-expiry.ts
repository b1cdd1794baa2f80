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
  odoo: OdooClient;
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

export class KeyExpiryWatch {
  private readonly o: Required<Omit<KeyExpiryOptions, 'now'>> & { now: () => number };
  /** By credential id. */
  private readonly expiries = new Map<string, KeyExpiry>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(opts: KeyExpiryOptions) {
    this.o = { intervalMs: DAY_MS, warnDays: 14, now: Date.now, ...opts };
  }

  /** The known expiries (credentials whose keys do not expire are absent). */
  current(): KeyExpiry[] {
    return [...this.expiries.values()];
  }

  /** Reads the keys now, again after every reload of the map, and every `intervalMs`. */
  start(): void {
    this.check();
    this.o.source.onChange(() => this.check());
    this.timer = setInterval(() => this.check(), this.o.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** One pass over the current map (passes never overlap); settles when it is done. */
  check(): Promise<void> {
    this.running = this.running.then(() => this.pass(this.o.source.current));
    return this.running;
  }

  private async pass(map: CredentialMap): Promise<void> {
    if (map.mode === 'passthrough') {
      this.expiries.clear();
      return;
    }
    const live = new Set<string>();
    for (const c of map.all()) {
      live.add(c.id);
      try {
        await this.read(c);
      } catch (e) {
        this.o.log.warn(
          { db: c.db, login: c.login, problem: (e as Error).message },
          `cannot read when the API key of ${c.db}/${c.login} expires; will try again`,
        );
      }
    }
    for (const id of this.expiries.keys()) if (!live.has(id)) this.expiries.delete(id);
  }

  private async read(c: Credential): Promise<void> {
    if (c.apiKey === undefined) return;
    // Only a key that is the entry's user's: a refused key, or one of another user (a mistake the
    // authenticator logs and never uses), is not used here either.
    const identity = await this.o.keys.userWithLogin(c.db, c.apiKey);
    if (!identity || identity.login !== c.login) return;
    const body = JSON.stringify({
      domain: [['user_id', '=', identity.uid]],
      fields: ['name', 'scope', 'expiration_date'],
    });
    const answer = await this.o.odoo.json2('res.users.apikeys', 'search_read', body, {
      db: c.db,
      apiKey: c.apiKey,
    });
    if (answer.status !== 200 || !answer.contentType.includes('json'))
      throw new Error(`Odoo answered res.users.apikeys/search_read with HTTP ${answer.status}`);
    const rows: unknown = JSON.parse(answer.text);
    if (!Array.isArray(rows)) throw new Error('Odoo answered res.users.apikeys/search_read with no list');
    let earliest: number | undefined;
    for (const r of rows as unknown[]) {
      const row = (typeof r === 'object' && r !== null ? r : {}) as Record<string, unknown>;
      if (row['scope'] !== 'rpc' && row['scope'] !== false && row['scope'] !== null) continue;
      const at = odooDatetime(row['expiration_date']);
      if (at !== undefined && (earliest === undefined || at < earliest)) earliest = at;
    }
    if (earliest === undefined) {
      this.expiries.delete(c.id);
      return;
    }
    this.expiries.set(c.id, { db: c.db, login: c.login, expiresAt: Math.floor(earliest / 1000) });
    const days = (earliest - this.o.now()) / DAY_MS;
    if (days < this.o.warnDays) {
      const on = new Date(earliest).toISOString().slice(0, 16).replace('T', ' ');
      this.o.log.warn(
        { db: c.db, login: c.login, expiresAt: new Date(earliest).toISOString(), days: Math.floor(days) },
        days <= 0
          ? `an API key of ${c.db}/${c.login} expired on ${on} UTC: create a new one in Odoo and replace the key file`
          : `an API key of ${c.db}/${c.login} expires on ${on} UTC (in ${Math.floor(days)} days): create a new one in Odoo and replace the key file`,
      );
    }
  }
}
