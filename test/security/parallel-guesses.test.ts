/**
 * Attack: 40 parallel authenticate('lab', 'nobodyN', 'guess') from one address: all 40 were
 * checked (the per-client limit of 20 counted finished failures only), and the hash queue they
 * filled made a legitimate login wait 7.3 s.
 * Now: checks in flight count against the limits; unknown logins cost a timer, not a hash.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeAuthenticator } from '../../src/auth/authenticator.ts';
import { xmlrpcCall } from '../support/clients.ts';
import { KEYS, startStack, type Stack } from '../support/harness.ts';
import { mappedConfig } from './support.ts';

const GOOD = 'correct-horse-battery-77';

describe('parallel guesses from one address', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({
      config: await mappedConfig('guesses.yaml', [
        { db: 'lab', login: 'admin', password: GOOD, keyEnv: 'LAB_KEY' },
      ]),
      env: { LAB_KEY: KEYS.labAdmin },
    });
  });
  afterAll(() => s.close());

  const failedLines = (): string[] => s.logs.filter((l) => l.includes('"msg":"authentication failed"'));
  const throttledLines = (): string[] => s.logs.filter((l) => l.includes('"msg":"authentication throttled"'));

  it('of 40 parallel guesses at 40 logins, at most the per-client limit (20) are checked', async () => {
    const before = failedLines().length;
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        xmlrpcCall(`${s.bridge.url}/xmlrpc/2/common`, 'authenticate', ['lab', `nobody${i}`, 'guess', {}]),
      ),
    );
    // Odoo's answer to a refused login, checked or throttled alike.
    for (const a of answers) expect(a).toEqual({ value: false });
    expect(failedLines().length - before).toBeLessThanOrEqual(20);
    expect(throttledLines().length).toBeGreaterThanOrEqual(20);
  });

  it('unknown logins cost a timer, not a place in the hash queue', () => {
    // The decoys that timed a verification before any real one was made: one per hash thread.
    expect((s.bridge.parts.auth as BridgeAuthenticator).hashes.computations).toBeLessThanOrEqual(2);
  });

  it('a legitimate login from another address is verified meanwhile, not throttled', async () => {
    // From 127.0.0.4, a new guesser (127.0.0.1 is refused at the door by now: flood.test.ts).
    const flood = Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        xmlrpcCall(`${s.bridge.url}/xmlrpc/2/common`, 'authenticate', ['lab', `again${i}`, 'guess', {}], {
          localAddress: '127.0.0.4',
        }),
      ),
    );
    // From 127.0.0.2: this machine too, and another client address for the bridge.
    const other = await xmlrpcCall(
      `${s.bridge.url}/xmlrpc/2/common`,
      'authenticate',
      ['lab', 'admin', GOOD, {}],
      {
        localAddress: '127.0.0.2',
      },
    );
    expect(other).toEqual({ value: 2 });
    for (const a of await flood) expect(a).toEqual({ value: false });
  });
});
