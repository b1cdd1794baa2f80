/**
 * Databases and logins the bridge has seen verified (a successful login or call, or a credential
 * map entry): the only ones its logs name when an attempt fails. A client that puts its password
 * where the login or the database goes (parameters swapped) fails to authenticate, and the string
 * in that place is then not named anywhere: logs show a short keyed fingerprint instead, enough to
 * tell repeated attempts apart.
 *
 * Bounded: the most recently verified `max` of each.
 */
import { LRUCache } from 'lru-cache';
import { KeyedHash } from './keyed-hash.ts';

export class KnownNames {
  private readonly dbs: LRUCache<string, true>;
  private readonly logins: LRUCache<string, true>;
  private readonly keyed = new KeyedHash();

  constructor(max = 1000) {
    this.dbs = new LRUCache({ max });
    this.logins = new LRUCache({ max: 10 * max });
  }

  /** `db` (and `login` in it) were verified. */
  learn(db: string, login?: string): void {
    this.dbs.set(db, true);
    if (login !== undefined) this.logins.set(`${db}\0${login}`, true);
  }

  isKnownDb(db: string): boolean {
    return this.dbs.has(db);
  }

  isKnownLogin(db: string, login: string): boolean {
    return this.logins.has(`${db}\0${login}`);
  }

  /** A name not to be written as is: 8 hex characters of a keyed hash (per process). */
  fingerprint(name: string): string {
    return `#${this.keyed.of(['name', name]).slice(0, 8)}`;
  }
}
