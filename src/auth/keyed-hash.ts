/**
 * Cache keys for secrets: a SHA-256 of a per-process random prefix and the JSON of the parts,
 * so that a password or API key is never itself a key of an in-memory cache (nor recoverable
 * from one without the prefix, which never leaves the process). One-shot `crypto.hash` is about
 * 4× cheaper than an HMAC object per call, and the digests are only compared inside this
 * process, so length extension (the reason HMAC exists) does not apply.
 */
import { hash, randomBytes } from 'node:crypto';

export class KeyedHash {
  private readonly prefix: string;

  /**
   * `secret`: a prefix every replica derives alike (throttling accounts shared in Redis, see
   * src/shared/throttle-counts.ts); default, a random one that never leaves the process.
   */
  constructor(secret?: string) {
    this.prefix = secret ?? randomBytes(32).toString('base64');
  }

  /** The base64 digest of `parts` (strings and numbers), distinct for distinct tuples. */
  of(parts: readonly (string | number)[]): string {
    return hash('sha256', this.prefix + JSON.stringify(parts), 'base64');
  }
}
