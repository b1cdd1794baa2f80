/**
 * Attack (found by review): a chunked request body whose pieces are one byte each. Node hands each
 * piece over as a Buffer of its own: 1 MB of body cost about 200 MB of heap, and a verified
 * `create` whose long text was followed by 130,000 such pieces failed with an internal RangeError
 * (the pieces spread as call arguments). Now small pieces are copied together as they arrive
 * (server/incoming-body.ts): the call is served, its text reaches Odoo whole.
 */
import { once } from 'node:events';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS, startStack, type Stack } from '../support/harness.ts';

describe('a body sent in one-byte pieces', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack();
  });
  afterAll(() => s.close());

  it('is served, its 1 MiB text kept whole, after 130,000 pieces', async () => {
    const text = 'QUJD'.repeat(300_000);
    const head =
      `<?xml version='1.0'?>\n<methodCall>\n<methodName>execute_kw</methodName>\n<params>\n` +
      [
        '<string>lab</string>',
        '<int>2</int>',
        `<string>${KEYS.labAdmin}</string>`,
        '<string>res.partner</string>',
        '<string>create</string>',
      ]
        .map((v) => `<param><value>${v}</value></param>\n`)
        .join('') +
      `<param><value><array><data><value><struct><member><name>name</name><value><string>Tiny pieces</string></value></member>` +
      `<member><name>comment</name><value><string>${text}</string></value></member></struct></value></data></array></value></param>\n`;
    const pieces = 130_000;
    const tail = '</params>\n</methodCall>\n';
    const frame = (s: string): string => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`;
    const { port } = new URL(s.bridge.url);
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    socket.write(
      `POST /xmlrpc/2/object HTTP/1.1\r\nHost: bridge\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n`,
    );
    socket.write(frame(head));
    socket.write(Buffer.from('1\r\n \r\n'.repeat(pieces)));
    socket.write(frame(tail) + '0\r\n\r\n');
    const answer: Buffer[] = [];
    socket.on('data', (c: Buffer) => answer.push(c));
    await once(socket, 'close');
    const http = Buffer.concat(answer).toString();
    expect(http).toMatch(/^HTTP\/1\.1 200/);
    expect(http).not.toContain('<fault>');
    const created = s.odoo.requests.filter((r) => r.path === '/json/2/res.partner/create').at(-1);
    expect((created?.json as { vals_list: { comment: string } }).vals_list.comment).toBe(text);
  }, 30_000);
});
