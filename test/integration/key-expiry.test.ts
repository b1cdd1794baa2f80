/**
 * The credential map's API keys: when they expire, and when Odoo refuses one (issue 19, item 5).
 * Odoo caps the keys of non-administrators at three months; the bridge reads each mapped user's
 * own keys (`res.users.apikeys`: scope and expiration date, which the key's user may read), exposes
 * the earliest expiry as `odoo_bridge_api_key_expiry_timestamp_seconds{db,login}`, warns from 14
 * days before, and counts a refused key in `odoo_bridge_api_key_rejected_total{db,login}`. The
 * key itself appears in no log line and no metric.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/password-hash.ts';
import { readConfigFile } from '../../src/config.ts';
import { xmlrpcCall } from '../support/clients.ts';
import { CAPTURED_KEYS, type FakeKey } from '../support/fake-odoo.ts';
import { startStack, type Stack } from '../support/harness.ts';

const DEMO_KEY = 'd3m0d3m0d3m0d3m0d3m0d3m0d3m0d3m0d3m0d3m0';
const OTHER_KEY = '0123456789abcdef0123456789abcdef01234567';
const PASSWORD = 'demo-password-for-expiry';
const dir = mkdtempSync(join(tmpdir(), 'bridge-expiry-'));

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** Odoo's datetime format, `days` from now. */
const inDays = (days: number) =>
  new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 19).replace('T', ' ');

async function mapped(keys: FakeKey[]): Promise<Stack> {
  const hash = await hashPassword(PASSWORD, { scheme: 'pbkdf2-sha512', rounds: 1000 });
  const keyFile = join(dir, 'demo-key');
  writeFileSync(keyFile, `${DEMO_KEY}\n`);
  const file = join(dir, 'bridge.yaml');
  writeFileSync(
    file,
    [
      'auth:',
      '  mode: mapped',
      'credentials:',
      '  - db: lab',
      '    login: demo',
      `    password_hash: "${hash}"`,
      `    api_key_file: ${keyFile}`,
      '',
    ].join('\n'),
  );
  const s = await startStack({ config: { configPath: file, file: readConfigFile(file) }, fake: { keys } });
  await s.bridge.parts.keyExpiry.check();
  return s;
}

const metrics = async (s: Stack) => (await fetch(`${s.bridge.url}/_bridge/metrics`)).text();

describe('API keys of the credential map', () => {
  it('the earliest expiry of the user’s RPC keys is a metric, and a warning within 14 days', async () => {
    stack = await mapped([
      ...CAPTURED_KEYS,
      { key: DEMO_KEY, db: 'lab', uid: 5, login: 'demo', expires: inDays(40) },
      { key: OTHER_KEY, db: 'lab', uid: 5, login: 'demo', expires: inDays(5) },
      // Not an RPC key (another scope): not counted.
      { key: 'f'.repeat(40), db: 'lab', uid: 5, login: 'demo', expires: inDays(1), scope: 'other' },
    ]);
    const text = await metrics(stack);
    const m = /^odoo_bridge_api_key_expiry_timestamp_seconds\{db="lab",login="demo"\} (\d+)$/m.exec(text);
    const expected = Date.parse(`${inDays(5).replace(' ', 'T')}Z`) / 1000;
    expect(Math.abs(Number(m?.[1]) - expected)).toBeLessThan(5);
    const warning = stack.logs.find((l) => l.includes('expires on'));
    expect(JSON.parse(warning ?? '{}')).toMatchObject({ level: 40, db: 'lab', login: 'demo', days: 4 });
    for (const secret of [DEMO_KEY, OTHER_KEY, PASSWORD]) {
      expect(text).not.toContain(secret);
      expect(stack.logs.join('\n')).not.toContain(secret);
    }
    // It was asked with the entry's own key, for that user only.
    const asked = stack.odoo.requests.find((r) => r.path === '/json/2/res.users.apikeys/search_read');
    expect(asked?.headers['authorization']).toBe(`bearer ${DEMO_KEY}`);
    expect(asked?.json).toEqual({
      domain: [['user_id', '=', 5]],
      fields: ['name', 'scope', 'expiration_date'],
    });
  });

  it('keys that never expire: no series and no warning', async () => {
    stack = await mapped([...CAPTURED_KEYS, { key: DEMO_KEY, db: 'lab', uid: 5, login: 'demo' }]);
    expect(await metrics(stack)).not.toMatch(/^odoo_bridge_api_key_expiry_timestamp_seconds\{/m);
    expect(stack.logs.some((l) => l.includes('expires on'))).toBe(false);
  });

  it('a key Odoo refuses is counted by its entry, and the call is Access Denied', async () => {
    const keys: FakeKey[] = [
      ...CAPTURED_KEYS,
      { key: DEMO_KEY, db: 'lab', uid: 5, login: 'demo', expires: inDays(30) },
    ];
    stack = await mapped(keys);
    const s = stack;
    const uid = await xmlrpcCall(`${s.bridge.url}/xmlrpc/2/common`, 'authenticate', [
      'lab',
      'demo',
      PASSWORD,
      {},
    ]);
    expect(uid.value).toBe(5);
    // Revoked in Odoo.
    s.odoo.keys.splice(
      s.odoo.keys.findIndex((k) => k.key === DEMO_KEY),
      1,
    );
    const call = await xmlrpcCall(`${s.bridge.url}/xmlrpc/2/object`, 'execute_kw', [
      'lab',
      5,
      PASSWORD,
      'res.partner',
      'search_count',
      [[]],
    ]);
    expect(call.fault?.faultCode).toBe(3);
    expect(await metrics(s)).toMatch(/^odoo_bridge_api_key_rejected_total\{db="lab",login="demo"\} 1$/m);
  });
});
