/**
 * Password hashes the bridge verifies legacy passwords against, in passlib's formats so that an
 * Odoo database's own hashes (`res_users.password`) can be carried over as they are:
 *
 * - `$pbkdf2-sha512$<rounds>$<salt>$<checksum>`: passlib's `pbkdf2_sha512`, what Odoo stores
 *   (Odoo 19 writes 600 000 rounds; older hashes may have fewer). Salt and checksum are passlib's "adapted
 *   base64" (`ab64`: standard base64 with `.` instead of `+`, no padding); the checksum is
 *   PBKDF2-HMAC-SHA512(utf-8 password, raw salt bytes, rounds, 64 bytes).
 * - `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt>$<checksum>`: passlib's `scrypt`, salt and checksum in
 *   standard base64 without padding; the checksum is scrypt(utf-8 password, raw salt, N, r, p,
 *   as many bytes as the checksum has, 32 by default).
 *
 * Both run on libuv's thread pool (`crypto.pbkdf2` / `crypto.scrypt`, async): a 600 000-round
 * PBKDF2 takes a fraction of a second and must never block the event loop. Comparisons are
 * constant-time (`crypto.timingSafeEqual`). Error messages never quote the hash.
 */
import { pbkdf2, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export type PasswordHash =
  | {
      readonly scheme: 'pbkdf2-sha512';
      readonly rounds: number;
      readonly salt: Buffer;
      readonly checksum: Buffer;
    }
  | {
      readonly scheme: 'scrypt';
      readonly ln: number;
      readonly r: number;
      readonly p: number;
      readonly salt: Buffer;
      readonly checksum: Buffer;
    };

/** Odoo's own rounds (its passlib CryptContext: `pbkdf2_sha512__rounds=600_000`). */
export const DEFAULT_PBKDF2_ROUNDS = 600_000;
/** passlib's scrypt defaults: N = 2^16, r = 8, p = 1 (64 MiB per verification). */
export const DEFAULT_SCRYPT = { ln: 16, r: 8, p: 1 } as const;

export const PBKDF2_ROUNDS_RANGE = { min: 1_000, max: 10_000_000 } as const;
/** Memory one scrypt verification may take (128 · N · r bytes). */
const SCRYPT_MAX_MEMORY = 256 * 1024 * 1024;
/** passlib refuses longer secrets (PasswordSizeError); so does the bridge, without hashing them. */
export const MAX_PASSWORD_BYTES = 4096;

export class HashFormatError extends Error {}

const AB64 = /^[A-Za-z0-9./]*$/;
const B64 = /^[A-Za-z0-9+/]*$/;

/** passlib's `ab64_decode` (it also takes `+`); refuses what is not base64 at all. */
function decodeBase64(text: string, what: string, alphabet: RegExp): Buffer {
  if (!alphabet.test(text) || text.length % 4 === 1)
    throw new HashFormatError(`the ${what} is not base64 without padding`);
  return Buffer.from(text.replace(/\./g, '+'), 'base64');
}

function encodeAb64(bytes: Buffer): string {
  return bytes
    .toString('base64')
    .replace(/={1,2}$/, '')
    .replace(/\+/g, '.');
}

function encodeB64(bytes: Buffer): string {
  return bytes.toString('base64').replace(/={1,2}$/, '');
}

function wholeNumber(text: string | undefined, what: string, min: number, max: number): number {
  const n = Number(text);
  if (text === undefined || !/^\d{1,9}$/.test(text) || n < min || n > max)
    throw new HashFormatError(`${what} must be a whole number from ${min} to ${max}`);
  return n;
}

/** Reads a hash in one of the formats above; throws `HashFormatError` saying what is wrong. */
export function parsePasswordHash(text: string): PasswordHash {
  if (!text.startsWith('$'))
    throw new HashFormatError(
      text
        ? 'plain-text passwords are not accepted: hash it with `odoo-rpc-bridge hash`'
        : 'not a password hash: expected $pbkdf2-sha512$... or $scrypt$...',
    );
  const parts = text.split('$');
  const scheme = parts[1];
  if (scheme === 'pbkdf2-sha512') {
    if (parts.length !== 5)
      throw new HashFormatError(
        'a $pbkdf2-sha512$ hash has the form $pbkdf2-sha512$<rounds>$<salt>$<checksum>',
      );
    const rounds = wholeNumber(parts[2], 'the rounds', PBKDF2_ROUNDS_RANGE.min, PBKDF2_ROUNDS_RANGE.max);
    const salt = decodeBase64(parts[3] ?? '', 'salt', AB64);
    const checksum = decodeBase64(parts[4] ?? '', 'checksum', AB64);
    if (salt.length > 1024) throw new HashFormatError('the salt is longer than 1024 bytes');
    if (checksum.length !== 64)
      throw new HashFormatError(`the checksum has ${checksum.length} bytes; pbkdf2-sha512 makes 64`);
    return { scheme, rounds, salt, checksum };
  }
  if (scheme === 'scrypt') {
    if (parts.length !== 5)
      throw new HashFormatError('a $scrypt$ hash has the form $scrypt$ln=<n>,r=<r>,p=<p>$<salt>$<checksum>');
    const m = /^ln=(\d+),r=(\d+),p=(\d+)$/.exec(parts[2] ?? '');
    if (!m) throw new HashFormatError('the scrypt parameters must read ln=<n>,r=<r>,p=<p>');
    const ln = wholeNumber(m[1], 'ln', 1, 24);
    const r = wholeNumber(m[2], 'r', 1, 64);
    const p = wholeNumber(m[3], 'p', 1, 16);
    if (128 * 2 ** ln * r > SCRYPT_MAX_MEMORY)
      throw new HashFormatError(
        `scrypt ln=${ln}, r=${r} needs more than ${SCRYPT_MAX_MEMORY / 2 ** 20} MiB per verification`,
      );
    const salt = decodeBase64(parts[3] ?? '', 'salt', B64);
    const checksum = decodeBase64(parts[4] ?? '', 'checksum', B64);
    if (salt.length > 1024) throw new HashFormatError('the salt is longer than 1024 bytes');
    if (checksum.length < 16 || checksum.length > 64)
      throw new HashFormatError(
        `the checksum has ${checksum.length} bytes; expected 16 to 64 (32 by default)`,
      );
    return { scheme, ln, r, p, salt, checksum };
  }
  if (scheme === 'plaintext')
    throw new HashFormatError('plain-text passwords are not accepted: hash it with `odoo-rpc-bridge hash`');
  throw new HashFormatError(
    `unsupported hash scheme $${scheme}$: expected $pbkdf2-sha512$ (Odoo's) or $scrypt$`,
  );
}

export function formatPasswordHash(h: PasswordHash): string {
  if (h.scheme === 'pbkdf2-sha512')
    return `$pbkdf2-sha512$${h.rounds}$${encodeAb64(h.salt)}$${encodeAb64(h.checksum)}`;
  return `$scrypt$ln=${h.ln},r=${h.r},p=${h.p}$${encodeB64(h.salt)}$${encodeB64(h.checksum)}`;
}

function derive(password: Buffer, h: PasswordHash, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (h.scheme === 'pbkdf2-sha512') {
      pbkdf2(password, h.salt, h.rounds, length, 'sha512', (err, key) => (err ? reject(err) : resolve(key)));
      return;
    }
    const N = 2 ** h.ln;
    const options: ScryptOptions = { N, r: h.r, p: h.p, maxmem: 128 * h.r * (N + h.p + 2) + 2 ** 20 };
    scrypt(password, h.salt, length, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** Whether `password` is the one `hash` was made from. Off the event loop, constant-time compare. */
export async function verifyPassword(password: string, hash: PasswordHash): Promise<boolean> {
  const secret = Buffer.from(password, 'utf8');
  if (secret.length > MAX_PASSWORD_BYTES) return false;
  const derived = await derive(secret, hash, hash.checksum.length);
  return timingSafeEqual(derived, hash.checksum);
}

export type HashOptions =
  { scheme: 'pbkdf2-sha512'; rounds?: number } | { scheme: 'scrypt'; ln?: number; r?: number; p?: number };

/** A new hash of `password` with a random 16-byte salt (passlib's default size). */
export async function hashPassword(
  password: string,
  opts: HashOptions = { scheme: 'pbkdf2-sha512' },
): Promise<string> {
  const salt = randomBytes(16);
  const draft: PasswordHash =
    opts.scheme === 'pbkdf2-sha512'
      ? {
          scheme: 'pbkdf2-sha512',
          rounds: opts.rounds ?? DEFAULT_PBKDF2_ROUNDS,
          salt,
          checksum: Buffer.alloc(64),
        }
      : {
          scheme: 'scrypt',
          ln: opts.ln ?? DEFAULT_SCRYPT.ln,
          r: opts.r ?? DEFAULT_SCRYPT.r,
          p: opts.p ?? DEFAULT_SCRYPT.p,
          salt,
          checksum: Buffer.alloc(32),
        };
  // Round-trip through the parser so that the limits it enforces apply to new hashes too.
  const checked = parsePasswordHash(formatPasswordHash(draft));
  const secret = Buffer.from(password, 'utf8');
  if (secret.length > MAX_PASSWORD_BYTES)
    throw new HashFormatError(`passwords longer than ${MAX_PASSWORD_BYTES} bytes are not accepted`);
  const checksum = await derive(secret, checked, checked.checksum.length);
  return formatPasswordHash({ ...checked, checksum });
}

/**
 * Runs at most `concurrency` hash verifications at once: each takes a thread of libuv's pool
 * (4 by default, shared with fs and DNS) and scrypt takes tens of MiB, so a burst of logins must
 * queue instead of starving the rest of the process.
 *
 * The queue is bounded (`maxWaiting`: past it a verification is refused at once with
 * {@link HashQueueFull}) and fair: waiting verifications are taken from each client in turn, so a
 * client that queues many (an attacker's guesses) delays another client's by one hash at most.
 */
export class PasswordVerifier {
  private readonly concurrency: number;
  private readonly maxWaiting: number;
  private running = 0;
  /** Waiting verifications by client, each client's in arrival order; Map order is the turn. */
  private readonly waiting = new Map<string, Array<() => void>>();
  private waitingCount = 0;
  /** Average time of the last verifications (ms), once one was made. */
  private averageMs: number | undefined;
  /** Hash computations made, for tests and metrics. */
  computations = 0;

  constructor(concurrency = 2, maxWaiting = 256) {
    this.concurrency = Math.max(1, concurrency);
    this.maxWaiting = Math.max(0, maxWaiting);
  }

  /** Throws HashQueueFull when `maxWaiting` verifications already wait. */
  async verify(password: string, hash: PasswordHash, client = ''): Promise<boolean> {
    // A finishing verification hands its slot straight to the next waiter.
    if (this.running < this.concurrency) this.running++;
    else {
      if (this.waitingCount >= this.maxWaiting) throw new HashQueueFull();
      await new Promise<void>((resolve) => {
        const mine = this.waiting.get(client);
        if (mine) mine.push(resolve);
        else this.waiting.set(client, [resolve]);
        this.waitingCount++;
      });
    }
    this.computations++;
    const started = performance.now();
    try {
      return await verifyPassword(password, hash);
    } finally {
      const ms = performance.now() - started;
      this.averageMs = this.averageMs === undefined ? ms : 0.8 * this.averageMs + 0.2 * ms;
      const next = this.takeNext();
      if (next) next();
      else this.running--;
    }
  }

  /** How long a verification takes, on average (undefined until one was made). */
  typicalMs(): number | undefined {
    return this.averageMs;
  }

  /** The first waiter of the client whose turn it is; that client's turn moves to the end. */
  private takeNext(): (() => void) | undefined {
    for (const [client, queue] of this.waiting) {
      const next = queue.shift();
      this.waiting.delete(client);
      if (queue.length > 0) this.waiting.set(client, queue);
      if (next) {
        this.waitingCount--;
        return next;
      }
    }
    return undefined;
  }
}

/** The hash queue is full: the attempt is refused at once (the bridge answers a retryable fault). */
export class HashQueueFull extends Error {
  constructor() {
    super('too many password verifications waiting');
  }
}
