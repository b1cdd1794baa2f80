/**
 * Whose key is this, when `res.users/context_get` does not say (issue 20, A.2)? Odoo's own test
 * suite patches context_get to answer `{}`; an Odoo customised the same way broke every key login
 * through the bridge ("answer has no uid"). The bridge then asks what the key's own user can always
 * read: its API keys (an ir.rule shows a user only their own, an administrator everyone's), and
 * web's `ir.http/session_info` (its `user_settings.user_id`). The fake answers these as a real
 * Odoo 19.0 did (test/fixtures/native/whose-key.json); the calls come from Python's
 * xmlrpc.client and JSON-RPC over HTTP.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { jsonrpcCall } from '../support/clients.ts';
import { KEYS, startStack, type Stack } from '../support/harness.ts';
import { hasPython, runPython } from '../support/run-python.ts';

const PY_CALLS = fileURLToPath(new URL('../clients/py_calls.py', import.meta.url));
const NATIVE = JSON.parse(
  readFileSync(new URL('../fixtures/native/whose-key.json', import.meta.url), 'utf8'),
) as {
  answers: Record<
    'admin' | 'demo',
    { context_get: unknown; apikeys_search_read: unknown; session_info: Record<string, unknown> }
  >;
};

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** The JSON-2 calls the bridge made, apart from the object calls themselves. */
const identityCalls = (s: Stack) =>
  s.odoo.requests
    .filter((r) => /^\/json\/2\/(res\.users|res\.users\.apikeys|ir\.http)\//.test(r.path))
    .map((r) => [r.path.slice('/json/2/'.length), r.json]);

const json2 = async (s: Stack, key: string, path: string, body: unknown) => {
  const res = await fetch(`${s.odoo.url}/json/2/${path}`, {
    method: 'POST',
    headers: { authorization: `bearer ${key}`, 'x-odoo-database': 'lab', 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await res.json()) as unknown;
};

describe('the fake answers as the real Odoo 19.0 did', () => {
  it('own keys for a user, every key for an administrator; session_info names the user', async () => {
    stack = await startStack();
    const fields = { domain: [], fields: ['user_id', 'name', 'scope', 'expiration_date'] };
    for (const [who, key] of [
      ['admin', KEYS.labAdmin],
      ['demo', KEYS.labDemo],
    ] as const) {
      expect(await json2(stack, key, 'res.users.apikeys/search_read', fields)).toEqual(
        NATIVE.answers[who].apikeys_search_read,
      );
      const info = (await json2(stack, key, 'ir.http/session_info', {})) as Record<string, unknown>;
      const recorded = NATIVE.answers[who].session_info;
      expect(info['uid']).toBe(null);
      expect(info['username']).toBe(recorded['username']);
      expect((info['user_settings'] as { user_id: unknown }).user_id).toEqual(
        (recorded['user_settings'] as { user_id: unknown }).user_id,
      );
    }
  });
});

describe.skipIf(!hasPython)('an Odoo whose context_get names no uid', () => {
  it("a user's key: found from its own API keys; login, calls and a wrong uid as usual", async () => {
    stack = await startStack({ fake: { contextGetWithoutUid: true } });
    const answers = await runPython<{ value?: unknown; fault?: { code: number; string: string } }[]>(
      PY_CALLS,
      {
        url: stack.bridge.url,
        calls: [
          { service: 'common', method: 'authenticate', params: ['lab', 'demo', KEYS.labDemo, {}] },
          {
            service: 'object',
            method: 'execute_kw',
            params: ['lab', 5, KEYS.labDemo, 'res.partner', 'search_count', [[]]],
          },
          {
            service: 'object',
            method: 'execute_kw',
            params: ['lab', 2, KEYS.labDemo, 'res.partner', 'search_count', [[]]],
          },
        ],
      },
    );
    expect(answers[0]).toEqual({ value: 5 });
    expect(typeof answers[1]?.value).toBe('number');
    expect(answers[2]?.fault?.code).toBe(3); // uid 2 is not the key's user: Access Denied
    expect(identityCalls(stack).slice(0, 3)).toEqual([
      ['res.users/context_get', {}],
      ['res.users.apikeys/search_read', { domain: [], fields: ['user_id'], limit: 1 }],
      ['res.users.apikeys/search_count', { domain: [['user_id', '!=', 5]] }],
    ]);
    expect(identityCalls(stack).some(([p]) => p === 'ir.http/session_info')).toBe(false);
  });

  it("an administrator's key (it sees other users' keys): found from session_info", async () => {
    stack = await startStack({ fake: { contextGetWithoutUid: true } });
    const login = await jsonrpcCall(stack.bridge.url, 'common', 'authenticate', [
      'lab',
      'admin',
      KEYS.labAdmin,
      {},
    ]);
    expect(login.json?.result).toBe(2);
    expect(identityCalls(stack).map(([p]) => p)).toContain('ir.http/session_info');
    const call = await jsonrpcCall(stack.bridge.url, 'object', 'execute_kw', [
      'lab',
      2,
      KEYS.labAdmin,
      'res.partner',
      'search_count',
      [[]],
    ]);
    expect(typeof call.json?.result).toBe('number');
  });

  it('many calls at once with a new key: each answered, the key asked about a bounded number of times', async () => {
    stack = await startStack({ fake: { contextGetWithoutUid: true } });
    const s = stack;
    const calls = await Promise.all(
      Array.from({ length: 24 }, () =>
        jsonrpcCall(s.bridge.url, 'object', 'execute_kw', [
          'lab',
          5,
          KEYS.labDemo,
          'res.partner',
          'search_count',
          [[]],
        ]),
      ),
    );
    for (const c of calls) expect(typeof c.json?.result).toBe('number');
    // Asked once, whatever the number of calls waiting for the answer.
    expect(identityCalls(s).map(([p]) => p)).toEqual([
      'res.users/context_get',
      'res.users.apikeys/search_read',
      'res.users.apikeys/search_count',
    ]);
  });

  it('neither other source answering: the call fails closed with a fault saying why, asked again only later', async () => {
    stack = await startStack({ fake: { contextGetWithoutUid: true, keyIdentityUnavailable: true } });
    const s = stack;
    const call = () =>
      jsonrpcCall(s.bridge.url, 'object', 'execute_kw', [
        'lab',
        5,
        KEYS.labDemo,
        'res.partner',
        'search_count',
        [[]],
      ]);
    const first = await call();
    expect(first.json?.result).toBeUndefined();
    expect(first.json?.error?.data.message).toMatch(/cannot tell whose API key this is/);
    expect(JSON.stringify(first.json)).not.toContain(KEYS.labDemo);
    const asked = identityCalls(s).length;
    expect(asked).toBe(3); // context_get, the keys (refused), session_info (missing)
    const second = await call();
    expect(second.json?.error?.data.message).toMatch(/cannot tell whose API key this is/);
    expect(identityCalls(s)).toHaveLength(asked);
    expect(s.odoo.requests.some((r) => r.path === '/json/2/res.partner/search_count')).toBe(false);
  });
});
