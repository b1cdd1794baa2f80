/**
 * Attack: 5 wrong passwords for an integration's account just before its cached verification
 * expires: the integration, still calling with its correct password, was locked out for the
 * failure window ("too many failed logins, retry in 59 s").
 * Now: a tuple verified recently passes the throttle; the attacker's guesses are still refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BridgeAuthenticator } from '../../src/auth/authenticator.ts';
import { xmlrpcCall } from '../support/clients.ts';
import { KEYS, startStack, type Stack } from '../support/harness.ts';
import { mappedConfig } from './support.ts';

const PASSWORD = 'integration-password-31337';

describe.each(['mapped', 'passthrough'] as const)(
  'a running integration is never locked out (%s)',
  (mode) => {
    let s: Stack;
    const password = mode === 'mapped' ? PASSWORD : KEYS.labAdmin;
    beforeAll(async () => {
      s = await startStack({
        config: {
          authCacheTtlMs: 150,
          ...(mode === 'mapped'
            ? await mappedConfig('lockout.yaml', [
                { db: 'lab', login: 'admin', password: PASSWORD, keyEnv: 'LAB_KEY' },
              ])
            : {}),
        },
        env: { LAB_KEY: KEYS.labAdmin },
      });
    });
    afterAll(() => s.close());

    const call = (pw: string, localAddress?: string) =>
      xmlrpcCall(
        `${s.bridge.url}/xmlrpc/2/object`,
        'execute_kw',
        ['lab', 2, pw, 'res.partner', 'search_count', [[]]],
        localAddress ? { localAddress } : undefined,
      );

    it('keeps answering the integration while its account is attacked after its verification expired', async () => {
      expect((await call(password)).value).toEqual(expect.any(Number));
      await new Promise((r) => setTimeout(r, 200)); // the cached verification expires
      for (let i = 0; i < 25; i++) await call(`guess-${i}`, '127.0.0.3');
      // The guesser is throttled (mapped: its account's limit and its own; keys: its own limit).
      const guess = await call('guess-again', '127.0.0.3');
      expect(guess.fault?.faultString).toMatch(/too many failed logins, retry in \d+ s/);
      const again = await call(password);
      expect(again.fault).toBeUndefined();
      expect(again.value).toEqual(expect.any(Number));
    });

    it(`an integration never verified (after a restart) is ${mode === 'passthrough' ? 'not locked out either: a key cannot be guessed' : 'locked out of its password account while it is attacked, but never shed'}`, async () => {
      const fresh = await startStack({
        config: {
          ...(mode === 'mapped'
            ? await mappedConfig('lockout-fresh.yaml', [
                { db: 'lab', login: 'admin', password: PASSWORD, keyEnv: 'LAB_KEY' },
              ])
            : {}),
        },
        env: { LAB_KEY: KEYS.labAdmin },
      });
      try {
        await (fresh.bridge.parts.auth as BridgeAuthenticator).warmed; // whose key each entry's is
        const at = (pw: string, localAddress: string) =>
          xmlrpcCall(
            `${fresh.bridge.url}/xmlrpc/2/object`,
            'execute_kw',
            ['lab', 2, pw, 'res.partner', 'search_count', [[]]],
            {
              localAddress,
            },
          );
        for (let i = 0; i < 5; i++) await at(`guess-${i}`, '127.0.0.3');
        const answers = [];
        for (let i = 0; i < 105; i++) answers.push(await at(password, '127.0.0.4'));
        if (mode === 'passthrough') for (const a of answers) expect(a.value).toEqual(expect.any(Number));
        else for (const a of answers) expect(a.fault?.faultString ?? '').toMatch(/too many failed logins/);
        // Whatever the account's state, the integration's own address is never shed for it.
        expect(fresh.bridge.parts.auth.shed('127.0.0.4')).toBe(false);
      } finally {
        await fresh.close();
      }
    });
  },
);
