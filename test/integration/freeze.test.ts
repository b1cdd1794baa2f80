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
import { isFrozen } from '../../src/services/freeze.ts';
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
