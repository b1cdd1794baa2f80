/**
 * The write freeze of an upgrade day (issue 18, runbook step 3): with `frozen: [lab]` in
 * BRIDGE_CONFIG, reads are served and every call that may write (a custom method included) gets a
 * UserError naming the freeze, without reaching Odoo; `db.drop` and `db.restore` of a frozen
 * database are refused; reloading the file unfreezes it, no restart. With Python's xmlrpc.client
 * and JSON-RPC over HTTP.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { readConfigFile } from '../../src/config.ts';
import { FreezeState, freezeRefusal, isFrozen, MAX_RUNTIME_FROZEN } from '../../src/services/freeze.ts';
import { jsonrpcCall } from '../support/clients.ts';
import { KEYS, startStack, type Stack } from '../support/harness.ts';
import { runPython } from '../support/run-python.ts';

const PY_CALLS = fileURLToPath(new URL('../clients/py_calls.py', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'bridge-freeze-'));
let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const object = (method: string, args: unknown[], db = 'lab') => ({
  service: 'object',
  method: 'execute_kw',
  params: [db, 2, db === 'lab' ? KEYS.labAdmin : KEYS.lab2Admin, 'res.partner', method, args],
});

describe('isFrozen', () => {
  it('names and * patterns, matched whole', () => {
    expect(isFrozen(['crm'], 'crm')).toBe(true);
    expect(isFrozen(['crm'], 'crm2')).toBe(false);
    expect(isFrozen(['legacy_*'], 'legacy_eu')).toBe(true);
    expect(isFrozen(['legacy_*'], 'legacy_')).toBe(true);
    expect(isFrozen(['legacy_*'], 'new_legacy_eu')).toBe(false);
    expect(isFrozen(['*_old'], 'crm_old')).toBe(true);
    expect(isFrozen(['a*b*c'], 'aXbYc')).toBe(true);
    expect(isFrozen(['a*b*c'], 'aXcYb')).toBe(false);
    expect(isFrozen(['ab*ba'], 'aba')).toBe(false);
    expect(isFrozen([], 'crm')).toBe(false);
  });

  it('FreezeState: the file’s patterns (read at each call) and run-time freezes, bounded', () => {
    let patterns: string[] = [];
    const state = new FreezeState(() => patterns);
    expect(state.any).toBe(false);
    expect(state.freeze('crm')).toBe(true);
    expect(state.isFrozen('crm') && state.any && !state.byConfig('crm')).toBe(true);
    patterns = ['legacy_*'];
    expect(state.isFrozen('legacy_eu') && state.byConfig('legacy_eu')).toBe(true);
    expect(state.unfreeze('crm')).toBe(true);
    expect(state.isFrozen('crm')).toBe(false);
    for (let i = 0; i < MAX_RUNTIME_FROZEN; i++) state.freeze(`db${i}`);
    expect(state.freeze('one_more')).toBe(false);
    state.replace(Array.from({ length: MAX_RUNTIME_FROZEN + 5 }, (_, i) => ({ db: `x${i}`, since: '' })));
    expect(state.list().runtime).toHaveLength(MAX_RUNTIME_FROZEN);
  });

  it('freezeRefusal (native mode): object writes, db functions that write a frozen name, renames included', () => {
    const state = new FreezeState(() => ['lab']);
    const refused = (service: string, method: string, params: unknown[]) =>
      freezeRefusal({ service, method, params }, state)?.message ?? null;
    expect(refused('object', 'execute', ['lab', 2, 'pw', 'res.partner', 'write', [7], {}])).toMatch(
      /res\.partner\.write/,
    );
    expect(refused('object', 'execute_kw', ['lab', 2, 'pw', 'res.partner', 'read', [[7]]])).toBeNull();
    expect(refused('db', 'rename', ['master', 'lab', 'lab_x'])).toMatch(/db\.rename/);
    expect(refused('db', 'rename', ['master', 'other', 'lab'])).toMatch(/db\.rename/);
    expect(refused('db', 'migrate_databases', ['master', ['other', 'lab']])).toMatch(/db\.migrate_databases/);
    expect(refused('db', 'dump', ['master', 'lab', 'zip'])).toBeNull();
    expect(refused('db', 'change_admin_password', ['master', 'new'])).toMatch(/every database is unfrozen/);
  });

  it('refuses a file whose frozen entries are not database names', () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'frozen: [lab, "no/slash", 7]\n');
    expect(() => readConfigFile(file)).toThrow(/frozen: "no\/slash" is not a database name/);
  });
});

describe('a frozen database', () => {
  it('serves reads, refuses writes before Odoo sees them, and thaws on reload', async () => {
    const file = join(dir, 'bridge.yaml');
    writeFileSync(file, 'frozen: [lab]\n');
    stack = await startStack({ config: { configPath: file, file: readConfigFile(file) } });
    const s = stack;
    const answers = await runPython<{ value?: unknown; fault?: { code: number; string: string } }[]>(
      PY_CALLS,
      {
        url: s.bridge.url,
        calls: [
          object('search_read', [[['id', '=', 7]], ['name']]),
          object('write', [[7], { phone: '+32 2 555 0000' }]),
          object('action_my_custom_thing', [[7]]),
          object('write', [[7], { phone: '+32 2 555 0000' }], 'lab2'),
        ],
      },
    );
    expect(answers[0]?.value).toEqual([{ id: 7, name: expect.any(String) }]);
    for (const refused of [answers[1], answers[2]]) {
      expect(refused?.fault?.code).toBe(2);
      expect(refused?.fault?.string).toMatch(
        /^The database lab is frozen for an upgrade: res\.partner\.\w+ is refused/,
      );
    }
    expect(answers[3]?.value).toBe(true); // another database: not frozen
    const sent = s.odoo.requests.map((r) => `${String(r.headers['x-odoo-database'])} ${r.path}`);
    expect(sent).not.toContain('lab /json/2/res.partner/write');
    expect(sent).not.toContain('lab /json/2/res.partner/action_my_custom_thing');
    expect(sent).toContain('lab2 /json/2/res.partner/write');

    const j = await jsonrpcCall(s.bridge.url, 'object', 'execute_kw', object('unlink', [[7]]).params);
    expect(j.json?.error?.data.name).toBe('odoo.exceptions.UserError');
    expect(j.json?.error?.data.message).toMatch(/frozen for an upgrade: res\.partner\.unlink is refused/);
    const metrics = await (await fetch(`${s.bridge.url}/_bridge/metrics`)).text();
    expect(metrics).toMatch(/^odoo_bridge_frozen_refusals_total 3$/m);

    // db.drop of the frozen database: refused once the master password is right.
    const drop = await jsonrpcCall(s.bridge.url, 'db', 'drop', ['masterpw', 'lab']);
    expect(drop.json?.error?.data.message).toMatch(/frozen for an upgrade: db\.drop is refused/);
    expect(s.odoo.database.databases.has('lab')).toBe(true);

    // Unfrozen: the file read again (as on SIGHUP), no restart.
    writeFileSync(file, 'frozen: []\n');
    await s.bridge.parts.credentials.reload('test');
    const after = await runPython<{ value?: unknown }[]>(PY_CALLS, {
      url: s.bridge.url,
      calls: [object('write', [[7], { phone: '+32 2 555 0000' }])],
    });
    expect(after[0]?.value).toBe(true);
  });
});

describe('freezing at run time: POST and DELETE /_bridge/freeze/<db>', () => {
  const TOKEN = 'freeze-admin-token-0123456789';
  const bearer = { Authorization: `Bearer ${TOKEN}` };

  it('needs BRIDGE_ADMIN_TOKEN, as Bearer only (a browser never sends it with another site’s form)', async () => {
    stack = await startStack();
    const open = await fetch(`${stack.bridge.url}/_bridge/freeze/lab`, { method: 'POST' });
    expect(open.status).toBe(403);
    expect(await open.json()).toMatchObject({ error: expect.stringContaining('BRIDGE_ADMIN_TOKEN') });
    await stack.close();
    stack = await startStack({ config: { adminToken: TOKEN } });
    const basic = `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}`;
    for (const headers of [
      {},
      { Authorization: basic },
      { Authorization: 'Bearer wrong-token-0123456789' },
    ]) {
      const r = await fetch(`${stack.bridge.url}/_bridge/freeze/lab`, { method: 'POST', headers });
      expect(r.status).toBe(401);
    }
    expect(stack.bridge.parts.freeze.isFrozen('lab')).toBe(false);
    for (const bad of ['a'.repeat(64), '-lab', 'l%20ab', 'l%2Fab'])
      expect(
        (await fetch(`${stack.bridge.url}/_bridge/freeze/${bad}`, { method: 'POST', headers: bearer }))
          .status,
      ).toBe(400);
  });

  it('freezes and thaws a database without a restart: writes and db writes refused meanwhile, reads and dump served, shown on the page', async () => {
    const file = join(dir, 'runtime.yaml');
    writeFileSync(file, 'frozen: ["legacy_*"]\n');
    stack = await startStack({ config: { adminToken: TOKEN, configPath: file, file: readConfigFile(file) } });
    const s = stack;
    const frozen = await fetch(`${s.bridge.url}/_bridge/freeze/lab`, { method: 'POST', headers: bearer });
    expect(frozen.status).toBe(200);
    expect(await frozen.json()).toEqual({ db: 'lab', frozen: true, replicas: 'this one' });
    // lab2 too: the fake holds a backup of it to dump (a read, served).
    expect(
      (await fetch(`${s.bridge.url}/_bridge/freeze/lab2`, { method: 'POST', headers: bearer })).status,
    ).toBe(200);
    const before = s.odoo.requests.length;
    const answers = await runPython<{ value?: unknown; fault?: { code: number; string: string } }[]>(
      PY_CALLS,
      {
        url: s.bridge.url,
        calls: [
          object('search_count', [[]]),
          object('create', [{ name: 'written during the freeze' }]),
          { service: 'db', method: 'duplicate_database', params: ['masterpw', 'lab', 'lab_copy'] },
          {
            service: 'db',
            method: 'create_database',
            params: ['masterpw', 'legacy_eu', false, 'en_US', 'admin'],
          },
          { service: 'db', method: 'change_admin_password', params: ['masterpw', 'new-master'] },
          { service: 'db', method: 'dump', params: ['masterpw', 'lab2', 'zip'] },
        ],
      },
    );
    expect(typeof answers[0]?.value).toBe('number');
    expect(answers[1]?.fault?.string).toMatch(
      /^The database lab is frozen for an upgrade: res\.partner\.create is refused/,
    );
    expect(answers[2]?.fault?.string).toMatch(/frozen for an upgrade: db\.duplicate_database is refused/);
    expect(answers[3]?.fault?.string).toMatch(
      /^The database legacy_eu is frozen for an upgrade: db\.create_database/,
    );
    expect(answers[4]?.fault?.string).toMatch(
      /db\.change_admin_password is refused until every database is unfrozen/,
    );
    expect(answers[5]).toEqual({ value: expect.any(String) }); // the backup (base64): a read
    // Nothing that writes reached Odoo.
    const sent = s.odoo.requests.slice(before).map((r) => r.path);
    expect(
      sent.filter((p) => p.includes('/create') || p.includes('duplicate') || p.includes('change_password')),
    ).toEqual([]);
    const list = (await (await fetch(`${s.bridge.url}/_bridge/freeze`, { headers: bearer })).json()) as {
      config: string[];
      runtime: { db: string }[];
    };
    expect(list).toMatchObject({
      config: ['legacy_*'],
      runtime: [{ db: 'lab' }, { db: 'lab2' }],
      shared: false,
    });
    const page = await (await fetch(`${s.bridge.url}/_bridge/`, { headers: bearer })).text();
    expect(page).toContain('Frozen for an upgrade, writes refused: <code>lab</code> (since ');
    expect(page).toContain('<code>legacy_*</code> (BRIDGE_CONFIG)');
    const metrics = await (await fetch(`${s.bridge.url}/_bridge/metrics`)).text();
    expect(metrics).toMatch(/^odoo_bridge_frozen_databases\{source="runtime"\} 2$/m);
    expect(metrics).toMatch(/^odoo_bridge_frozen_databases\{source="config"\} 1$/m);
    expect(s.logs.join('')).toMatch(/"db":"lab".*"msg":"database frozen for an upgrade"/);

    const thawed = await fetch(`${s.bridge.url}/_bridge/freeze/lab`, { method: 'DELETE', headers: bearer });
    expect(await thawed.json()).toMatchObject({ db: 'lab', frozen: false });
    const after = await runPython<{ value?: unknown }[]>(PY_CALLS, {
      url: s.bridge.url,
      calls: [object('write', [[7], { phone: '+32 2 555 0000' }])],
    });
    expect(after[0]?.value).toBe(true);
    // A database frozen by the file stays frozen: DELETE says so.
    const byFile = await fetch(`${s.bridge.url}/_bridge/freeze/legacy_eu`, {
      method: 'DELETE',
      headers: bearer,
    });
    expect(byFile.status).toBe(409);
    expect(await byFile.json()).toMatchObject({
      frozen: true,
      error: expect.stringContaining('BRIDGE_CONFIG'),
    });
  });
});
