/**
 * Large answers. XML-RPC ones are written from pooled chunks (src/protocol/chunk-pool.ts): real
 * clients get them whole, and the chunks go back to the pool when the response is over, whether
 * the client read it all or hung up in the middle. JSON-RPC ones are written as pieces around the
 * upstream's text (never joined): the client gets them whole, with the right Content-Length.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDLE_MS, chunksOut, freeBytes } from '../../src/protocol/chunk-pool.ts';
import { xmlrpcCall } from '../support/clients.ts';
import { KEYS, startStack, type Stack } from '../support/harness.ts';
import { runPython } from '../support/run-python.ts';

const PY_CALLS = new URL('../clients/py_calls.py', import.meta.url).pathname;
const PARTNERS = 1500;
const NAME = (i: number): string => `Partner ${i} & Co <é日😀> `.repeat(60);

let stack: Stack;
let direct: unknown;
const object = (): string => `${stack.bridge.url}/xmlrpc/2/object`;
const readArgs = (): unknown[] => [
  'lab',
  2,
  KEYS.labAdmin,
  'res.partner',
  'search_read',
  [[['name', 'like', 'Partner ']]],
  { fields: ['name', 'active'], order: 'id' },
];

/** Waits (up to 2 s) until `done()`, then checks it (the response's `close` comes after the client's last byte). */
async function eventually(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(done()).toBe(true);
}

beforeAll(async () => {
  stack = await startStack();
  const vals = Array.from({ length: PARTNERS }, (_, i) => ({ name: NAME(i) }));
  const created = await xmlrpcCall(object(), 'execute_kw', [
    'lab',
    2,
    KEYS.labAdmin,
    'res.partner',
    'create',
    [vals],
  ]);
  expect(created.fault).toBeUndefined();
  const res = await fetch(`${stack.odoo.url}/json/2/res.partner/search_read`, {
    method: 'POST',
    headers: {
      authorization: `bearer ${KEYS.labAdmin}`,
      'x-odoo-database': 'lab',
      'content-type': 'application/json',
    },
    body: JSON.stringify({ domain: [['name', 'like', 'Partner ']], fields: ['name', 'active'], order: 'id' }),
  });
  direct = await res.json();
  expect((direct as unknown[]).length).toBeGreaterThanOrEqual(PARTNERS);
}, 60_000);
afterAll(() => stack.close());

describe('large XML-RPC answers', () => {
  it('reach the xmlrpc npm client whole; their chunks all come back, and are freed once no large answer takes them', async () => {
    const a = await xmlrpcCall(object(), 'execute_kw', readArgs());
    expect(a.value).toEqual(direct);
    const b = await xmlrpcCall(object(), 'execute_kw', readArgs());
    expect(b.value).toEqual(direct);
    await eventually(() => chunksOut() === 0);
    await new Promise((r) => setTimeout(r, 2 * IDLE_MS));
    expect(freeBytes()).toBe(0);
  });

  it("reach Python's xmlrpc.client whole", async () => {
    const [answer] = await runPython<Array<{ value?: unknown }>>(PY_CALLS, {
      url: stack.bridge.url,
      calls: [{ service: 'object', method: 'execute_kw', params: readArgs() }],
    });
    expect(answer?.value).toEqual(direct);
  });

  it('give their chunks back when the client hangs up in the middle, and the bridge goes on', async () => {
    const xml = `<?xml version="1.0"?><methodCall><methodName>execute_kw</methodName><params><param><value>lab</value></param><param><value><int>2</int></value></param><param><value>${KEYS.labAdmin}</value></param><param><value>res.partner</value></param><param><value>search_read</value></param><param><value><array><data><value><array><data/></array></value></data></array></value></param></params></methodCall>`;
    const { port } = new URL(stack.bridge.url);
    const got = await new Promise<number>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(
          `POST /xmlrpc/2/object HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: ${Buffer.byteLength(xml)}\r\n\r\n${xml}`,
        );
      });
      let n = 0;
      socket.on('data', (d: Buffer) => {
        n += d.length;
        if (n > 64 * 1024) {
          socket.destroy(); // a few KiB read of several MB
          resolve(n);
        }
      });
      socket.on('error', reject);
    });
    expect(got).toBeGreaterThan(64 * 1024);
    await eventually(() => chunksOut() === 0);
    const after = await xmlrpcCall(object(), 'execute_kw', readArgs());
    expect(after.value).toEqual(direct);
  });
});

describe('large JSON-RPC answers', () => {
  it('reach a client whole, with a Content-Length that counts their UTF-8 bytes', async () => {
    const res = await fetch(`${stack.bridge.url}/jsonrpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        method: 'call',
        id: 7,
        params: { service: 'object', method: 'execute_kw', args: readArgs() },
      }),
    });
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(res.status).toBe(200);
    expect(Number(res.headers.get('content-length'))).toBe(bytes.length);
    expect(bytes.length).toBeGreaterThan(2 ** 20);
    const answer = JSON.parse(bytes.toString('utf8')) as { id: number; result: unknown };
    expect(answer.id).toBe(7);
    expect(answer.result).toEqual(direct);
  });
});
