/**
 * Attack: 5 wrong passwords for an integration's account just before its cached verification
 * expires: the integration, still calling with its correct password, was locked out for the
 * failure window ("too many failed logins, retry in 59 s").
 * Now: a tuple verified recently passes the throttle; the attacker's guesses are still refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

    const call = (pw: string) =>
      xmlrpcCall(`${s.bridge.url}/xmlrpc/2/object`, 'execute_kw', [
        'lab',
        2,
        pw,
        'res.partner',
        'search_count',
        [[]],
      ]);

    it('keeps answering the integration while its account is attacked after its verification expired', async () => {
      expect((await call(password)).value).toEqual(expect.any(Number));
      await new Promise((r) => setTimeout(r, 200)); // the cached verification expires
      for (let i = 0; i < 8; i++) await call(`guess-${i}`); // from the same address, even
      const guess = await call('guess-again');
      expect(guess.fault?.faultString).toMatch(/too many failed logins, retry in \d+ s/);
      const again = await call(password);
      expect(again.fault).toBeUndefined();
      expect(again.value).toEqual(expect.any(Number));
    });
  },
);
