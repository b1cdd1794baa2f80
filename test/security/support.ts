/**
 * What the security regression tests share: a request body streamed from a generator (so that
 * 100 MiB never sits in the test's own memory), and a credential map written to a file.
 */
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword } from '../../src/auth/password-hash.ts';
import { readConfigFile, type BridgeConfig } from '../../src/config.ts';

export interface StreamedAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * POSTs `head`, then `size` bytes of `fill`, then `tail`, written chunk by chunk as the socket
 * takes them. Resolves with the answer once it is complete; rejects when the connection breaks.
 */
export function streamPost(
  url: string,
  o: {
    head: string;
    size: number;
    tail: string;
    fill?: string;
    contentType?: string;
    headers?: Record<string, string>;
    localAddress?: string;
  },
): Promise<StreamedAnswer> {
  const chunk = Buffer.alloc(64 * 1024, o.fill ?? 'A');
  const head = Buffer.from(o.head);
  const tail = Buffer.from(o.tail);
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: {
        'content-type': o.contentType ?? 'text/xml',
        'content-length': String(head.length + o.size + tail.length),
        ...o.headers,
      },
      ...(o.localAddress ? { localAddress: o.localAddress } : {}),
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString() }),
      );
      res.on('error', reject);
    });
    let left = o.size;
    const pump = (): void => {
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          req.once('drain', pump);
          return;
        }
      }
      req.end(tail);
    };
    req.write(head);
    pump();
  });
}

export interface RawExchange {
  sock: Socket;
  /** What the bridge has written back so far. */
  answer: () => string;
  /** Resolves when the bridge (or the test) closes the connection. */
  closed: Promise<unknown>;
}

/** Opens a plain TCP connection to `url`'s port and writes `head` (an HTTP request's first bytes). */
export async function rawRequest(url: string, head: string): Promise<RawExchange> {
  const sock = connect(Number(new URL(url).port), '127.0.0.1');
  sock.on('error', () => undefined);
  await once(sock, 'connect');
  let answer = '';
  sock.on('data', (c: Buffer) => (answer += c.toString()));
  const closed = new Promise((r) => sock.once('close', r));
  sock.write(head);
  return { sock, answer: () => answer, closed };
}

/** An execute_kw whose 6th parameter (args) holds one `<string>` of `size` bytes after `head`. */
export function largeExecuteKw(db: string, uid: number, password: string): { head: string; tail: string } {
  return {
    head:
      `<?xml version='1.0'?>\n<methodCall>\n<methodName>execute_kw</methodName>\n<params>\n` +
      `<param><value><string>${db}</string></value></param>\n` +
      `<param><value><int>${uid}</int></value></param>\n` +
      `<param><value><string>${password}</string></value></param>\n` +
      `<param><value><string>res.partner</string></value></param>\n` +
      `<param><value><string>create</string></value></param>\n` +
      `<param><value><array><data><value><struct><member><name>name</name><value><string>large</string></value></member>` +
      `<member><name>comment</name><value><string>`,
    tail: `</string></value></member></struct></value></data></array></value></param>\n</params>\n</methodCall>\n`,
  };
}

const dir = mkdtempSync(join(tmpdir(), 'bridge-security-'));

/** A mapped credential map (1000-round hashes) as the bridge config; keys come from env vars. */
export async function mappedConfig(
  name: string,
  entries: Array<{ db: string; login: string; password: string; keyEnv: string }>,
  mode: 'mapped' | 'both' = 'mapped',
): Promise<Partial<BridgeConfig>> {
  const lines = ['auth:', `  mode: ${mode}`, 'credentials:'];
  for (const e of entries) {
    const hash = await hashPassword(e.password, { scheme: 'pbkdf2-sha512', rounds: 1000 });
    lines.push(
      `  - db: ${e.db}`,
      `    login: ${e.login}`,
      `    password_hash: "${hash}"`,
      `    api_key_env: ${e.keyEnv}`,
    );
  }
  const path = join(dir, name);
  writeFileSync(path, lines.join('\n') + '\n');
  return { configPath: path, file: readConfigFile(path) };
}

/** Samples `read()` every millisecond while `run` runs; answers the largest value seen. */
export async function peakWhile(read: () => number, run: () => Promise<unknown>): Promise<number> {
  let peak = read();
  const timer = setInterval(() => (peak = Math.max(peak, read())), 1);
  try {
    await run();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, read());
}
