/**
 * Attack (or mistake): a client swaps its parameters — execute_kw('lab', KEY, 2, …) puts the API
 * key where the uid goes, authenticate('lab', PASSWORD, 'x', {}) the password where the login
 * goes. The key was written in the log (the ValueError's message), the password shown as a
 * "login" on the unauthenticated inventory page.
 * Now: every string in a credential position of a call not verified is masked everywhere.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonrpcCall, xmlrpcCall } from '../support/clients.ts';
import { KEYS, startStack, type Stack } from '../support/harness.ts';
import { mappedConfig } from './support.ts';

const PASSWORD = 'MyS3cret-do-not-log-4242';

describe('secrets put in the wrong place stay secret', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({
      config: await mappedConfig(
        'swapped.yaml',
        [{ db: 'lab', login: 'admin', password: PASSWORD, keyEnv: 'LAB_KEY' }],
        'both',
      ),
      env: { LAB_KEY: KEYS.labAdmin },
    });
  });
  afterAll(() => s.close());

  const everything = async (): Promise<string> => {
    const inventory = await (await fetch(`${s.bridge.url}/_bridge/inventory`)).text();
    const page = await (await fetch(`${s.bridge.url}/_bridge/`)).text();
    const metrics = await (await fetch(`${s.bridge.url}/_bridge/metrics`)).text();
    const csv = await (await fetch(`${s.bridge.url}/_bridge/inventory.csv`)).text();
    const ids = (JSON.parse(inventory) as { clients: { id: string }[] }).clients.map((c) => c.id);
    const reports = await Promise.all(
      ids.map(async (id) => (await fetch(`${s.bridge.url}/_bridge/inventory/report?client=${id}`)).text()),
    );
    return [s.logs.join(''), inventory, page, metrics, csv, ...reports].join('\n');
  };

  it("the key in the uid position: the client gets Odoo's ValueError, the log and the inventory never the key", async () => {
    const a = await xmlrpcCall(`${s.bridge.url}/xmlrpc/2/object`, 'execute_kw', [
      'lab',
      KEYS.labAdmin,
      2,
      'res.partner',
      'search',
      [[]],
    ]);
    // As Odoo answers: the client gets its own value back.
    expect(a.fault?.faultString).toContain(`invalid literal for int() with base 10: '${KEYS.labAdmin}'`);
    const j = await jsonrpcCall(s.bridge.url, 'object', 'execute_kw', [
      'lab',
      KEYS.labAdmin,
      2,
      'res.partner',
      'search',
      [[]],
    ]);
    expect(j.json?.error?.data.name).toBe('builtins.ValueError');
    expect(await everything()).not.toContain(KEYS.labAdmin);
  });

  it('the password in the login position: answered False, named nowhere', async () => {
    const a = await xmlrpcCall(`${s.bridge.url}/xmlrpc/2/common`, 'authenticate', ['lab', PASSWORD, 'x', {}]);
    expect(a).toEqual({ value: false });
    const all = await everything();
    expect(all).not.toContain(PASSWORD);
    // The failed attempt is counted in the inventory, not named.
    const inv = (await (await fetch(`${s.bridge.url}/_bridge/inventory`)).json()) as {
      clients: Array<{ login: string | null; errors: number }>;
    };
    expect(inv.clients.some((c) => c.login === null && c.errors > 0)).toBe(true);
  });

  it('the key in the db position, the password in the model position: masked in every log line', async () => {
    await xmlrpcCall(`${s.bridge.url}/xmlrpc/2/object`, 'execute_kw', [
      KEYS.labDemo,
      2,
      'wrong',
      'res.partner',
      'search',
      [[]],
    ]);
    await xmlrpcCall(`${s.bridge.url}/xmlrpc/2/object`, 'execute_kw', [
      'lab',
      2,
      'res.partner',
      PASSWORD,
      'search',
      [[]],
    ]);
    await xmlrpcCall(`${s.bridge.url}/xmlrpc/2/common`, 'login', [PASSWORD, 'admin', 'nope']);
    const all = await everything();
    expect(all).not.toContain(KEYS.labDemo);
    expect(all).not.toContain(PASSWORD);
  });

  it('the master password where the database name goes (db service, parameters swapped): named nowhere', async () => {
    const master = 'masterpw';
    for (const [method, params] of [
      ['dump', ['lab2', master, 'zip']],
      ['drop', ['lab2', master]],
      ['duplicate_database', ['lab2', master, 'copy']],
    ] as const)
      await xmlrpcCall(`${s.bridge.url}/xmlrpc/2/db`, method, [...params]);
    await jsonrpcCall(s.bridge.url, 'db', 'dump', ['lab2', master, 'zip']);
    expect(await everything()).not.toContain(master);
  });

  it('a login that authenticated is named; its db is named in later failures', async () => {
    expect(
      await xmlrpcCall(`${s.bridge.url}/xmlrpc/2/common`, 'authenticate', ['lab', 'admin', PASSWORD, {}]),
    ).toEqual({ value: 2 });
    await xmlrpcCall(`${s.bridge.url}/xmlrpc/2/common`, 'authenticate', ['lab', 'admin', 'wrong-one', {}]);
    const failed = s.logs.filter((l) => l.includes('"msg":"authentication failed"')).at(-1) ?? '';
    expect(failed).toContain('"db":"lab"');
    expect(failed).toContain('"login":"admin"');
    const inv = (await (await fetch(`${s.bridge.url}/_bridge/inventory`)).json()) as {
      clients: Array<{ login: string | null }>;
    };
    expect(inv.clients.some((c) => c.login === 'admin')).toBe(true);
  });
});
