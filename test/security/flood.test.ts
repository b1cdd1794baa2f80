/**
 * Attack: a guessing flood from one address (1,000 connections): every guess was decoded, checked
 * or refused, and answered, and a legitimate caller waited behind them (its latency 100× over).
 * Now: an address that keeps guessing after it was throttled is refused before its requests are
 * read (429), and its new connections are held unread in a tarpit; other addresses are served.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { xmlrpcCall } from '../support/clients.ts';
import { KEYS, startStack, type Stack } from '../support/harness.ts';

const GUESS = (i: number): string =>
  `<?xml version='1.0'?><methodCall><methodName>authenticate</methodName><params><param><value>lab</value></param><param><value>admin</value></param><param><value>guess-${i}</value></param><param><value><struct></struct></value></param></params></methodCall>`;

/** One guess from 127.0.0.3 on a new connection: Odoo's False, the bridge's 429, or no answer at all. */
function guess(url: string, i: number): Promise<'False' | '429' | 'held' | string> {
  return new Promise((resolve) => {
    const req = request(`${url}/xmlrpc/2/common`, {
      method: 'POST',
      localAddress: '127.0.0.3',
      agent: false,
      headers: { 'content-type': 'text/xml' },
    });
    const timer = setTimeout(() => {
      req.destroy();
      resolve('held');
    }, 400);
    req.on('error', () => undefined);
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        clearTimeout(timer);
        if (res.statusCode === 429) resolve('429');
        else resolve(text.includes('<boolean>0</boolean>') ? 'False' : text.slice(0, 200));
      });
    });
    req.end(GUESS(i));
  });
}

describe('an address that floods after it was throttled', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({ config: { authMaxFailuresPerClient: 5, authMaxFailures: 3 } });
  });
  afterAll(() => s.close());

  it('is answered False while throttled, then its new connections are held unread', async () => {
    const outcomes: string[] = [];
    // 5 failures (the per-client limit), then 5 × 5 refusals, then the door.
    for (let i = 0; i < 34; i++) outcomes.push(await guess(s.bridge.url, i));
    // Odoo's own answer to a refused login while it is throttled (checked or not)...
    expect(outcomes.slice(0, 28)).toEqual(Array(28).fill('False'));
    // ...until it has been refused 5 times as often as its limit: then its connections go to the tarpit.
    expect(outcomes.slice(-3)).toEqual(['held', 'held', 'held']);
    expect(
      s.logs.filter((l) => l.includes('"msg":"authentication throttled"')).length,
    ).toBeGreaterThanOrEqual(5);
  });

  it('meanwhile another address is served, its own calls untouched', async () => {
    const r = await xmlrpcCall(`${s.bridge.url}/xmlrpc/2/object`, 'execute_kw', [
      'lab',
      2,
      KEYS.labAdmin,
      'res.partner',
      'search_count',
      [[]],
    ]);
    expect(r.value).toEqual(expect.any(Number));
  });
});
