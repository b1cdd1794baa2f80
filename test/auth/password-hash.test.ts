/**
 * Password hashes: passlib's formats, checked against vectors made elsewhere (passlib's own
 * documentation, hashcat's examples, Python's hashlib), and the bridge's new hashes checked by
 * Python's hashlib.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  formatPasswordHash,
  HashFormatError,
  hashPassword,
  parsePasswordHash,
  PasswordVerifier,
  verifyPassword,
} from '../../src/auth/password-hash.ts';
import { ODOO_ADMIN_HASH } from './vectors.ts';

const run = promisify(execFile);

/** hashcat's example for mode 20200 (passlib pbkdf2-sha512, 25 000 rounds: Odoo before 17): password `hashcat`. */
const HASHCAT_PBKDF2 =
  '$pbkdf2-sha512$25000$LyWE0HrP2RsjZCxlDGFMKQ$1vC5Ohk2mCS9b6akqsEfgeb4l74SF8XjH.SljXf3dMLHdlY1GK9ojcCKts6/asR4aPqBmk74nCDddU3tvSCJvw';
/** passlib's documentation example of passlib.hash.scrypt: password `password`. */
const PASSLIB_SCRYPT =
  '$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E';

describe('verifying hashes made elsewhere', () => {
  it("verifies Odoo's 600 000-round hash of 'admin' (made with Python hashlib), and refuses near misses", async () => {
    const h = parsePasswordHash(ODOO_ADMIN_HASH);
    expect(h).toMatchObject({ scheme: 'pbkdf2-sha512', rounds: 600_000 });
    expect(h.salt.toString('hex')).toBe('0c3a9f1e5b7d2468ace013579bdf8642');
    expect(await verifyPassword('admin', h)).toBe(true);
    for (const wrong of ['Admin', 'admin ', 'admi', '', 'admin\n'])
      expect(await verifyPassword(wrong, h)).toBe(false);
  });

  it("verifies hashcat's passlib pbkdf2-sha512 example (25 000 rounds)", async () => {
    expect(await verifyPassword('hashcat', parsePasswordHash(HASHCAT_PBKDF2))).toBe(true);
    expect(await verifyPassword('hashcaT', parsePasswordHash(HASHCAT_PBKDF2))).toBe(false);
  });

  it("verifies passlib's scrypt example", async () => {
    const h = parsePasswordHash(PASSLIB_SCRYPT);
    expect(h).toMatchObject({ scheme: 'scrypt', ln: 16, r: 8, p: 1 });
    expect(await verifyPassword('password', h)).toBe(true);
    expect(await verifyPassword('passw0rd', h)).toBe(false);
  });

  it('writes parsed hashes back unchanged', () => {
    for (const h of [ODOO_ADMIN_HASH, HASHCAT_PBKDF2, PASSLIB_SCRYPT])
      expect(formatPasswordHash(parsePasswordHash(h))).toBe(h);
  });

  it('takes non-ASCII passwords as UTF-8, as passlib does', async () => {
    const hash = await hashPassword('pässwörd-ünïcode-✓', { scheme: 'pbkdf2-sha512', rounds: 1000 });
    const { stdout } = await run('python3', [
      '-c',
      `import sys, hashlib, base64
_, _, rounds, salt, chk = sys.argv[1].split('$')
d = lambda s: base64.b64decode(s.replace('.', '+') + '=' * (-len(s) % 4))
print(hashlib.pbkdf2_hmac('sha512', sys.argv[2].encode('utf-8'), d(salt), int(rounds)) == d(chk))`,
      hash,
      'pässwörd-ünïcode-✓',
    ]);
    expect(stdout.trim()).toBe('True');
  });
});

describe('new hashes', () => {
  it("are Odoo's format by default, and Python's hashlib verifies them", async () => {
    const hash = await hashPassword('s3cret pass');
    expect(hash).toMatch(/^\$pbkdf2-sha512\$600000\$[A-Za-z0-9./]{22}\$[A-Za-z0-9./]{86}$/);
    const { stdout } = await run('python3', [
      '-c',
      `import sys, hashlib, base64
_, scheme, rounds, salt, chk = sys.argv[1].split('$')
d = lambda s: base64.b64decode(s.replace('.', '+') + '=' * (-len(s) % 4))
print(scheme, hashlib.pbkdf2_hmac('sha512', b's3cret pass', d(salt), int(rounds)) == d(chk))`,
      hash,
    ]);
    expect(stdout.trim()).toBe('pbkdf2-sha512 True');
    expect(await verifyPassword('s3cret pass', parsePasswordHash(hash))).toBe(true);
  });

  it("are passlib's scrypt format with --scheme scrypt, and Python's hashlib.scrypt verifies them", async () => {
    const hash = await hashPassword('s3cret', { scheme: 'scrypt', ln: 12 });
    expect(hash).toMatch(/^\$scrypt\$ln=12,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    const { stdout } = await run('python3', [
      '-c',
      `import sys, hashlib, base64
_, _, params, salt, chk = sys.argv[1].split('$')
p = dict(kv.split('=') for kv in params.split(','))
d = lambda s: base64.b64decode(s + '=' * (-len(s) % 4))
print(hashlib.scrypt(b's3cret', salt=d(salt), n=2 ** int(p['ln']), r=int(p['r']), p=int(p['p']), dklen=32) == d(chk))`,
      hash,
    ]);
    expect(stdout.trim()).toBe('True');
  });

  it('use a new salt each time', async () => {
    const a = await hashPassword('x', { scheme: 'pbkdf2-sha512', rounds: 1000 });
    const b = await hashPassword('x', { scheme: 'pbkdf2-sha512', rounds: 1000 });
    expect(a).not.toBe(b);
  });
});

describe('malformed hashes', () => {
  it.each([
    ['', /not a password hash/],
    ['admin', /plain-text passwords are not accepted/],
    ['$plaintext$admin', /plain-text/],
    ['$2b$12$abcdefghijklmnopqrstuv', /unsupported hash scheme \$2b\$/],
    ['$pbkdf2-sha512$600000$abc', /has the form/],
    ['$pbkdf2-sha512$lots$DDqfHlt9JGis4BNXm9.GQg$' + 'A'.repeat(86), /rounds must be a whole number/],
    ['$pbkdf2-sha512$10$DDqfHlt9JGis4BNXm9.GQg$' + 'A'.repeat(86), /rounds must be a whole number from 1000/],
    ['$pbkdf2-sha512$600000$DD!q$' + 'A'.repeat(86), /salt is not base64/],
    ['$pbkdf2-sha512$600000$DDqfHlt9JGis4BNXm9.GQg$AAAA', /checksum has 3 bytes; pbkdf2-sha512 makes 64/],
    ['$scrypt$N=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$' + 'A'.repeat(43), /ln=<n>,r=<r>,p=<p>/],
    ['$scrypt$ln=22,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$' + 'A'.repeat(43), /needs more than 256 MiB/],
  ])('%j is refused: %s', (text, message) => {
    expect(() => parsePasswordHash(text)).toThrow(HashFormatError);
    expect(() => parsePasswordHash(text)).toThrow(message);
  });

  it('never quotes the hash in the error', () => {
    const secretish = '$pbkdf2-sha512$600000$DDqfHlt9JGis4BNXm9.GQg$M6JJ6yvnOy7luWoea1QLfGO51zXDlnD';
    expect(() => parsePasswordHash(secretish)).toThrow(/checksum has/);
    try {
      parsePasswordHash(secretish);
    } catch (e) {
      expect((e as Error).message).not.toContain('M6JJ6');
      expect((e as Error).message).not.toContain('DDqfH');
    }
  });
});

describe('PasswordVerifier', () => {
  it('runs at most `concurrency` verifications at once, off the event loop', async () => {
    const v = new PasswordVerifier(2);
    const h = parsePasswordHash(ODOO_ADMIN_HASH);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const started = performance.now();
    const results = await Promise.all([
      v.verify('admin', h),
      v.verify('x', h),
      v.verify('admin', h),
      v.verify('y', h),
    ]);
    const ms = performance.now() - started;
    clearInterval(timer);
    expect(results).toEqual([true, false, true, false]);
    expect(v.computations).toBe(4);
    // The event loop kept turning while four 600 000-round PBKDF2s ran two at a time.
    expect(ticks).toBeGreaterThan(ms / 5 / 4);
  });

  it('refuses passwords longer than passlib accepts without hashing them', async () => {
    expect(await verifyPassword('a'.repeat(4097), parsePasswordHash(ODOO_ADMIN_HASH))).toBe(false);
  });
});
