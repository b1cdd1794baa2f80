/**
 * Attack: 4 × execute_kw with a wrong password and one 100 MiB <string>, unauthenticated: the
 * bridge read and decoded every body before checking the password (peak RSS 1.2 GB, OOM-killed).
 * Now: the credentials are read from the first 64 KiB and verified; the rest is dropped unread.
 */
import { once } from 'node:events';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PREFIX_BYTES } from '../../src/server/incoming-body.ts';
import { KEYS, startStack, type Stack } from '../support/harness.ts';
import { hasPython, runPython } from '../support/run-python.ts';
import { largeExecuteKw, peakWhile, streamPost } from './support.ts';

const PY = fileURLToPath(new URL('../clients/py_security.py', import.meta.url));
const MiB = 1024 * 1024;

describe('a large request is held only once its sender is verified', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack();
  });
  afterAll(() => s.close());

  const modelCalls = (): number =>
    s.odoo.requests.filter((r) => r.path === '/json/2/res.partner/create').length;

  it('4 parallel 32 MiB execute_kw with a wrong key: Access Denied each, at most a prefix held each', async () => {
    const { head, tail } = largeExecuteKw('lab', 2, 'not-the-key-0000000000000000000000000000');
    const answers: string[] = [];
    const peak = await peakWhile(
      () => s.bridge.parts.admission.bytes,
      async () => {
        const all = await Promise.all(
          Array.from({ length: 4 }, () =>
            streamPost(`${s.bridge.url}/xmlrpc/2/object`, { head, size: 32 * MiB, tail }),
          ),
        );
        for (const a of all) answers.push(a.body);
      },
    );
    for (const a of answers) {
      expect(a).toContain('<name>faultCode</name>\n<value><int>3</int></value>');
      expect(a).toContain('<string>Access Denied</string>');
    }
    // Each call held its first bytes only (the prefix and the chunk that crossed it).
    expect(peak).toBeLessThanOrEqual(4 * (PREFIX_BYTES + 64 * 1024));
    expect(s.bridge.parts.admission.bytes).toBe(0);
    expect(modelCalls()).toBe(0);
  });

  it('the same call with the right key is read whole and served', async () => {
    const { head, tail } = largeExecuteKw('lab', 2, KEYS.labAdmin);
    const r = await streamPost(`${s.bridge.url}/xmlrpc/2/object`, { head, size: 2 * MiB, tail });
    expect(r.body).not.toContain('<fault>');
    expect(r.body).toMatch(/<value><int>\d+<\/int><\/value>/);
    expect(modelCalls()).toBe(1);
    expect(s.bridge.parts.admission.bytes).toBe(0);
  });

  it.skipIf(!hasPython)(
    "Python's xmlrpc.client, which sends its whole request before reading, gets the fault",
    async () => {
      const r = await runPython<{ fault?: { code: number; string: string } }>(PY, {
        action: 'large_execute_kw',
        url: `${s.bridge.url}/xmlrpc/2/object`,
        db: 'lab',
        uid: 2,
        password: 'wrong-password',
        size: 24 * MiB,
      });
      expect(r.fault).toEqual({ code: 3, string: 'Access Denied' });
    },
  );

  it('JSON-RPC: the error carries the id the client wrote last, after the dropped bulk', async () => {
    const head =
      '{"jsonrpc": "2.0", "method": "call", "params": {"service": "object", "method": "execute_kw", "args": ["lab", 2, "wrong-key", "res.partner", "create", [{"comment": "';
    const r = await streamPost(`${s.bridge.url}/jsonrpc`, {
      head,
      size: 8 * MiB,
      tail: '"}]]}, "id": 4711}',
      contentType: 'application/json',
    });
    const answer = JSON.parse(r.body) as { id: unknown; error: { data: { name: string } } };
    expect(answer.id).toBe(4711);
    expect(answer.error.data.name).toBe('odoo.exceptions.AccessDenied');
  });

  it('a large call that names no caller first (db service, a bare method) is refused after 64 KiB', async () => {
    const r = await streamPost(`${s.bridge.url}/xmlrpc/2/common`, {
      head: "<?xml version='1.0'?>\n<methodCall>\n<methodName>version</methodName>\n<params>\n<param><value><string>",
      size: 16 * MiB,
      tail: '</string></value></param>\n</params>\n</methodCall>\n',
    });
    expect(r.body).toContain('werkzeug.exceptions.RequestEntityTooLarge');
    expect(r.body).toContain('reads at most 64 KiB of a request before it knows who sends it');
  });

  it('past BRIDGE_MAX_BODY_BYTES of dropped bytes the connection is closed, not drained forever', async () => {
    const small = await startStack({ config: { maxBodyBytes: 1 * MiB } });
    try {
      const { port } = new URL(small.bridge.url);
      const sock = connect(Number(port), '127.0.0.1');
      sock.on('error', () => undefined); // EPIPE once the bridge has closed: expected
      await once(sock, 'connect');
      const { head } = largeExecuteKw('lab', 2, 'wrong');
      // No Content-Length: chunked, so the declared-size check cannot refuse it up front.
      sock.write(
        `POST /xmlrpc/2/object HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n`,
      );
      const chunk = (b: Buffer): string => `${b.length.toString(16)}\r\n`;
      const filler = Buffer.alloc(64 * 1024, 'A');
      sock.write(chunk(Buffer.from(head)) + head + '\r\n');
      let answer = '';
      sock.on('data', (c: Buffer) => (answer += c.toString()));
      const closed = new Promise((r) => sock.once('close', r));
      for (let i = 0; i < 64 && !sock.destroyed; i++) {
        sock.write(chunk(filler));
        sock.write(filler);
        sock.write('\r\n');
        await new Promise((r) => setImmediate(r));
      }
      sock.end();
      await closed;
      expect(answer).toContain('<string>Access Denied</string>');
      expect(answer.toLowerCase()).toContain('connection: close');
    } finally {
      await small.close();
    }
  });
});
