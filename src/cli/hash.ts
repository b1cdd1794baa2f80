/**
 * `odoo-rpc-bridge hash [--scheme pbkdf2-sha512|scrypt] [--rounds N] [--ln N]`: reads a password
 * from stdin (one line; on a terminal it is typed twice, without echo) and prints its hash, for a
 * credential entry's `password_hash`. The default is Odoo's own: pbkdf2-sha512, 600 000 rounds.
 */
import type { Readable, Writable } from 'node:stream';
import type { ReadStream } from 'node:tty';
import {
  DEFAULT_PBKDF2_ROUNDS,
  DEFAULT_SCRYPT,
  HashFormatError,
  hashPassword,
  MAX_PASSWORD_BYTES,
  type HashOptions,
} from '../auth/password-hash.ts';

export const HASH_USAGE = `Usage: odoo-rpc-bridge hash [--scheme pbkdf2-sha512|scrypt] [--rounds N] [--ln N] < password-file

Reads a password from stdin (one line) and prints its hash for a credential's password_hash.
  --scheme pbkdf2-sha512   Odoo's own format (default), ${DEFAULT_PBKDF2_ROUNDS} rounds unless --rounds
  --scheme scrypt          passlib's scrypt format: ln=${DEFAULT_SCRYPT.ln} (N = 2^ln), r=${DEFAULT_SCRYPT.r}, p=${DEFAULT_SCRYPT.p} unless --ln
`;

export interface Stdio {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
}

class UsageError extends Error {}

function parseArgs(argv: readonly string[]): HashOptions {
  let scheme = 'pbkdf2-sha512';
  let rounds: number | undefined;
  let ln: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const [flag, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    const whole = (v: string): number => {
      if (!/^\d{1,9}$/.test(v)) throw new UsageError(`${flag} must be a whole number`);
      return Number(v);
    };
    if (flag === '--scheme') scheme = value();
    else if (flag === '--rounds') rounds = whole(value());
    else if (flag === '--ln') ln = whole(value());
    else throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
  }
  if (scheme === 'pbkdf2-sha512') {
    if (ln !== undefined) throw new UsageError('--ln applies to --scheme scrypt');
    return { scheme, ...(rounds === undefined ? {} : { rounds }) };
  }
  if (scheme === 'scrypt') {
    if (rounds !== undefined) throw new UsageError('--rounds applies to --scheme pbkdf2-sha512');
    return { scheme, ...(ln === undefined ? {} : { ln }) };
  }
  throw new UsageError(`--scheme must be pbkdf2-sha512 or scrypt, not ${JSON.stringify(scheme)}`);
}

async function readAll(stdin: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of stdin) {
    const buf = typeof c === 'string' ? Buffer.from(c) : (c as Buffer);
    size += buf.length;
    if (size > MAX_PASSWORD_BYTES + 2)
      throw new UsageError(`the password is longer than ${MAX_PASSWORD_BYTES} bytes`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads one line from a terminal without echoing it. */
function readHidden(tty: ReadStream, stderr: Writable, prompt: string): Promise<string> {
  return new Promise((resolve, reject) => {
    stderr.write(prompt);
    let typed = '';
    tty.setRawMode(true);
    tty.setEncoding('utf8');
    tty.resume();
    const done = (err?: Error): void => {
      tty.off('data', onData);
      tty.setRawMode(false);
      tty.pause();
      stderr.write('\n');
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003' || ch === '\u0004') return done(new UsageError('cancelled'));
        if (ch === '\u007f' || ch === '\b') typed = [...typed].slice(0, -1).join('');
        else typed += ch;
      }
    };
    tty.on('data', onData);
  });
}

async function readPassword(io: Stdio): Promise<string> {
  const tty = io.stdin as Partial<ReadStream> & Readable;
  if (tty.isTTY && typeof tty.setRawMode === 'function') {
    const first = await readHidden(tty as ReadStream, io.stderr, 'Password: ');
    const again = await readHidden(tty as ReadStream, io.stderr, 'Again: ');
    if (first !== again) throw new UsageError('the two passwords differ');
    return first;
  }
  const text = await readAll(io.stdin);
  const line = text.replace(/\r?\n$/, '');
  if (/[\r\n]/.test(line)) throw new UsageError('stdin holds more than one line: give the password alone');
  return line;
}

/** Runs the command; answers the exit code (0, or 2 for a usage error). */
export async function runHash(argv: readonly string[], io: Stdio): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(HASH_USAGE);
    return 0;
  }
  try {
    const options = parseArgs(argv);
    const password = await readPassword(io);
    // Odoo refuses an empty password before looking at any hash.
    if (!password) throw new UsageError('the password is empty');
    io.stdout.write(`${await hashPassword(password, options)}\n`);
    return 0;
  } catch (e) {
    if (e instanceof UsageError || e instanceof HashFormatError) {
      io.stderr.write(`odoo-rpc-bridge hash: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
