/**
 * Three replicas, one Redis (issue 19): three bridge processes (src/main.ts, as `npm start` runs
 * it) in front of one fake Odoo, sharing a real Debian `redis-server` through BRIDGE_REDIS_URL.
 *
 * Threats and promises pinned here:
 * - a guesser spreading wrong logins over the replicas, in parallel, gets no more verified than
 *   one replica allows (the per-account limit), and every replica refuses the next one;
 * - the migration inventory read from any replica lists the calls made through all three;
 * - Redis killed mid-run (and started again, empty): no call fails, readyz stays ready, each
 *   replica throttles on its own meanwhile (fail-safe), and once Redis is back the inventory
 *   counts every call made during the outage too.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/password-hash.ts';
import { startBridgeProcess, type BridgeProcess } from '../support/bridge-process.ts';
import { xmlrpcCall, type XmlRpcAnswer } from '../support/clients.ts';
import { startFakeOdoo, type FakeOdoo } from '../support/fake-odoo.ts';
import { KEYS } from '../support/harness.ts';
import { skipWithoutRedis, startRedis, type TestRedis } from '../support/redis-server.ts';

const LIMIT = 5;

type Replica = BridgeProcess;

const PASSWORD = 'correct-horse-shared-4711';
const TOKEN = 'shared-admin-token-0123456789';
const bearer = { Authorization: `Bearer ${TOKEN}` };
let redis: TestRedis;
let odoo: FakeOdoo;
let dir: string;
let configFile: string;
const replicas: Replica[] = [];

/** A credential map (mapped mode: the per-account limit applies to logins and passwords). */
async function writeConfig(): Promise<void> {
  dir = mkdtempSync(join(tmpdir(), 'bridge-shared-'));
  const hash = await hashPassword(PASSWORD, { scheme: 'pbkdf2-sha512', rounds: 1000 });
  const lines = ['auth:', '  mode: mapped', 'credentials:'];
  for (const [login, key] of [
    ['admin', KEYS.labAdmin],
    ['demo', KEYS.labDemo],
  ] as const) {
    writeFileSync(join(dir, login), `${key}\n`);
    lines.push(
      `  - db: lab`,
      `    login: ${login}`,
      `    password_hash: "${hash}"`,
      `    api_key_file: ${join(dir, login)}`,
    );
  }
  configFile = join(dir, 'bridge.yaml');
  writeFileSync(configFile, lines.join('\n') + '\n');
}

function startReplica(redisUrl: string, odooUrl: string): Promise<Replica> {
  return startBridgeProcess({
    ODOO_URL: odooUrl,
    BRIDGE_REDIS_URL: redisUrl,
    BRIDGE_CONFIG: configFile,
    BRIDGE_ADMIN_TOKEN: TOKEN,
    BRIDGE_REDIS_PREFIX: 'test-shared:',
    BRIDGE_REDIS_SECRET: 'shared-secret-of-the-replicas-42',
    BRIDGE_INVENTORY_SHARE_SECONDS: '1',
    BRIDGE_AUTH_MAX_FAILURES: String(LIMIT),
    // The per-account limit is the one under test (every call comes from 127.0.0.1).
    BRIDGE_AUTH_MAX_FAILURES_PER_CLIENT: '1000',
    BRIDGE_CREDENTIALS_POLL_SECONDS: '0',
  });
}

const login = (r: Replica, who: string, password: string): Promise<XmlRpcAnswer> =>
  xmlrpcCall(`${r.url}/xmlrpc/2/common`, 'login', ['lab', who, password]);

const executeKw = (r: Replica, model: string, method: string, args: unknown[], ua: string) =>
  xmlrpcCall(`${r.url}/xmlrpc/2/object`, 'execute_kw', ['lab', 2, PASSWORD, model, method, args, {}], {
    headers: { 'User-Agent': ua },
  });

interface InventoryView {
  clients: Array<{
    userAgent: string;
    count: number;
    calls: Array<{ model: string | null; method: string; count: number }>;
  }>;
  selection?: { matched: number };
}

async function inventory(r: Replica, query = ''): Promise<InventoryView> {
  const res = await fetch(`${r.url}/_bridge/inventory${query}`, { headers: bearer });
  expect(res.status).toBe(200);
  return (await res.json()) as InventoryView;
}

/** Polls `read` until `ok` holds (the replicas publish every second), at most 10 s. */
async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const end = Date.now() + 10_000;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}

const isThrottled = (a: XmlRpcAnswer): boolean =>
  (a.fault?.faultString ?? '').includes('too many failed logins');

describe.skipIf(skipWithoutRedis)('three replicas sharing one Redis', () => {
  beforeAll(async () => {
    await writeConfig();
    redis = await startRedis();
    odoo = await startFakeOdoo();
    for (let i = 0; i < 3; i++) replicas.push(await startReplica(redis.url, odoo.url));
  }, 30_000);

  afterAll(async () => {
    for (const r of replicas) await r.stop();
    await odoo?.close();
    await redis?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('30 wrong logins spread over the three, in parallel: the per-account limit holds across them', async () => {
    // The integration whose password it is has called through every replica before the attack.
    for (const r of replicas)
      expect((await executeKw(r, 'res.partner', 'search_count', [[]], 'erp/1')).fault).toBeUndefined();
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => login(replicas[i % 3] as Replica, 'admin', `wrong-${i}`)),
    );
    // Odoo's login answers False to both a wrong password and a throttled attempt; the logs tell.
    expect(answers.every((a) => a.value === false)).toBe(true);
    const lines = (msg: string) => replicas.map((r) => r.out().split(`"msg":"${msg}"`).length - 1);
    const sum = (msg: string) => lines(msg).reduce((a, b) => a + b, 0);
    // The children's log lines arrive through pipes: wait for all 30.
    await eventually(
      () => Promise.resolve(sum('authentication failed') + sum('authentication throttled')),
      (n) => n >= 30,
    );
    const verified = sum('authentication failed');
    const throttled = sum('authentication throttled');
    expect(verified + throttled).toBe(30);
    // One replica alone verifies at most LIMIT guesses; three sharing their counts, the same.
    expect(verified).toBe(LIMIT);
    // Every replica refuses the next guess unverified (the fault says so on execute_kw)...
    for (const r of replicas) {
      const a = await xmlrpcCall(`${r.url}/xmlrpc/2/object`, 'execute_kw', [
        'lab',
        2,
        'guess',
        'res.partner',
        'search_count',
        [[]],
        {},
      ]);
      expect(isThrottled(a)).toBe(true);
    }
    // ...while the integration that knows the password goes on working through each of them.
    for (const r of replicas)
      expect((await executeKw(r, 'res.partner', 'search_count', [[]], 'erp/1')).fault).toBeUndefined();
  });

  it('the inventory read from any replica lists the calls made through all three', async () => {
    const ua = 'shared-inventory-check/1.0';
    const models = ['res.partner', 'res.users', 'res.company'];
    for (const [i, r] of replicas.entries()) {
      const a = await executeKw(r, models[i] as string, 'search_count', [[]], ua);
      expect(a.fault).toBeUndefined();
      // The same call on every replica: its counts add up.
      expect((await executeKw(r, 'res.country', 'search_count', [[]], ua)).fault).toBeUndefined();
    }
    for (const r of replicas) {
      const inv = await eventually(
        () => inventory(r),
        (v) => (v.clients.find((c) => c.userAgent === ua)?.count ?? 0) >= 6,
      );
      const client = inv.clients.find((c) => c.userAgent === ua);
      expect(client?.count).toBe(6);
      const calls = Object.fromEntries((client?.calls ?? []).map((c) => [`${c.model}.${c.method}`, c.count]));
      expect(calls).toMatchObject({
        'res.partner.search_count': 1,
        'res.users.search_count': 1,
        'res.company.search_count': 1,
        'res.country.search_count': 3,
      });
    }
    // Filters and paging over the merged inventory.
    const byModel = await inventory(replicas[1] as Replica, '?model=res.company&limit=1');
    expect(byModel.selection?.matched).toBe(1);
    expect(byModel.clients.map((c) => c.userAgent)).toEqual([ua]);
    const none = await inventory(replicas[2] as Replica, '?db=nope');
    expect(none.clients).toEqual([]);
  });

  it('a freeze asked of one replica holds on all three once it is answered, and so does the thaw', async () => {
    const write = (r: Replica) =>
      xmlrpcCall(`${r.url}/xmlrpc/2/object`, 'execute_kw', [
        'lab',
        2,
        PASSWORD,
        'res.partner',
        'write',
        [[7], { phone: '+32 2 555 0101' }],
        {},
      ]);
    const frozen = await fetch(`${replicas[0]?.url}/_bridge/freeze/lab`, { method: 'POST', headers: bearer });
    expect(await frozen.json()).toEqual({ db: 'lab', frozen: true, replicas: 'all that reach Redis' });
    const writes = await Promise.all(replicas.map(write));
    for (const w of writes)
      expect(w.fault?.faultString).toMatch(/^The database lab is frozen for an upgrade/);
    const list = await (await fetch(`${replicas[2]?.url}/_bridge/freeze`, { headers: bearer })).json();
    expect(list).toMatchObject({ runtime: [{ db: 'lab' }], shared: true });
    const thawed = await fetch(`${replicas[1]?.url}/_bridge/freeze/lab`, {
      method: 'DELETE',
      headers: bearer,
    });
    expect(await thawed.json()).toMatchObject({ frozen: false });
    for (const w of await Promise.all(replicas.map(write))) expect(w.value).toBe(true);
  });

  it('Redis killed mid-run: no call fails, readyz stays ready, throttling falls back per replica, and no call is lost', async () => {
    const ua = 'outage-check/1.0';
    const calls: Array<Promise<XmlRpcAnswer>> = [];
    const burst = (n: number) => {
      for (let i = 0; i < n; i++)
        calls.push(executeKw(replicas[i % 3] as Replica, 'res.partner', 'search_count', [[]], ua));
    };
    burst(30);
    await Promise.all(calls);
    burst(15);
    await redis.kill(); // mid-run: 15 calls in flight
    burst(15);
    await Promise.all(calls);
    // Down: every replica still ready and answering.
    for (const r of replicas) {
      const ready = await fetch(`${r.url}/_bridge/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ok', sharedState: 'down' });
    }
    // Fail-safe: each replica throttles with its own counts (LIMIT verified per replica at most).
    const alone = await Promise.all(
      Array.from({ length: LIMIT + 3 }, (_, i) =>
        xmlrpcCall(`${replicas[0]?.url}/xmlrpc/2/object`, 'execute_kw', [
          'lab',
          5,
          `x-${i}`,
          'res.partner',
          'search_count',
          [[]],
          {},
        ]),
      ),
    );
    expect(alone.filter((a) => a.fault !== undefined && !isThrottled(a)).length).toBe(LIMIT);
    expect(alone.filter(isThrottled).length).toBe(3);
    // A freeze cannot be shared while Redis is away: refused, not applied to one replica only.
    const freeze = await fetch(`${replicas[1]?.url}/_bridge/freeze/lab`, { method: 'POST', headers: bearer });
    expect(freeze.status).toBe(503);
    expect(await freeze.json()).toMatchObject({
      error: expect.stringContaining('unreachable: nothing changed'),
    });
    burst(15);
    await redis.start(); // back, empty
    burst(15);
    const answers = await Promise.all(calls);
    expect(answers.filter((a) => a.fault !== undefined)).toEqual([]);
    expect(answers.every((a) => typeof a.value === 'number')).toBe(true);
    // Back: every call of the run, through any replica, is in the shared inventory.
    for (const r of replicas) {
      const inv = await eventually(
        () => inventory(r),
        (v) => v.clients.find((c) => c.userAgent === ua)?.count === 90,
      );
      expect(inv.clients.find((c) => c.userAgent === ua)?.count).toBe(90);
    }
    const metrics = await (await fetch(`${replicas[0]?.url}/_bridge/metrics`)).text();
    expect(metrics).toMatch(/^odoo_bridge_shared_state_up 1$/m);
    expect(metrics).toMatch(/^odoo_bridge_shared_state_fallbacks_total\{what="throttle"\} [1-9]/m);
    // One warning per outage per replica, naming no URL or password.
    for (const r of replicas) {
      expect(r.out().split('Redis unreachable').length - 1).toBe(1);
      // The child's log arrives through a pipe: waited for.
      await eventually(
        () => Promise.resolve(r.out()),
        (out) => out.includes('shared state: Redis is back'),
      );
      expect(r.out()).toContain('shared state: Redis is back');
      for (const secret of [KEYS.labAdmin, KEYS.labDemo, PASSWORD, 'shared-secret-of-the-replicas-42'])
        expect(r.out()).not.toContain(secret);
      expect(r.out()).not.toContain('do not share one secret');
    }
  }, 60_000);
});
