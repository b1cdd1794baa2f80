/**
 * The upgrade companion (issue 18), end to end: one bridge process (src/main.ts) in front of two
 * servers: "old", a stand-in for Odoo 17 that speaks only the legacy RPC (test/support/legacy_odoo.py,
 * Python's own xmlrpc.server), and "new", the fake Odoo 19 that speaks only JSON-2. Calls come
 * from Python's xmlrpc.client and JSON-RPC over HTTP, as unmigrated integrations make them.
 *
 * The story: native calls forwarded to the old server unchanged (no JSON-2 request anywhere), the
 * inventory filling in (with the upstream named); the database frozen (a write refused, the old
 * server receives nothing); cutover by SIGHUP while 50 calls are in flight (none fails, they finish
 * on the old server); translated calls to the new server afterwards; unfrozen, a write lands there.
 */
import { once } from 'node:events';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/password-hash.ts';
import { startBridgeProcess, type BridgeProcess } from '../support/bridge-process.ts';
import { jsonrpcCall, xmlrpcCall } from '../support/clients.ts';
import { startFakeOdoo, type FakeOdoo } from '../support/fake-odoo.ts';
import { KEYS } from '../support/harness.ts';
import { startLegacyOdoo, type LegacyOdoo } from '../support/legacy-odoo.ts';
import { runPython } from '../support/run-python.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const PY_CALLS = join(HERE, '../clients/py_calls.py');
const TOKEN = 'upgrade-admin-token-0123456789';
const bearer = { Authorization: `Bearer ${TOKEN}` };
/** The integration's password: an API key of lab's admin, which Odoo 17 takes as a password too. */
const PASSWORD = KEYS.labAdmin;

let dir: string;
let configFile: string;
let old: LegacyOdoo;
let fresh: FakeOdoo;
let bridge: BridgeProcess;

let credentials = '';

function writeConfig(upstreams: string): void {
  // Swapped in whole, as a ConfigMap update is.
  writeFileSync(`${configFile}.tmp`, `${credentials}upstreams:\n${upstreams}`);
  renameSync(`${configFile}.tmp`, configFile);
}

const BEFORE = () => `  - name: old
    url: ${old.url}
    mode: native
    databases: [lab]
  - name: new
    url: ${fresh.url}
    databases: ["*"]
`;
const AFTER = () => `  - name: new
    url: ${fresh.url}
    databases: ["*"]
`;

const object = (method: string, args: unknown[]) => ({
  service: 'object',
  method: 'execute_kw',
  params: ['lab', 2, PASSWORD, 'res.partner', method, args],
});

type PyAnswer = { value?: unknown; fault?: { code: number; string: string } };
const py = (calls: unknown[]) => runPython<PyAnswer[]>(PY_CALLS, { url: bridge.url, calls });

describe('the upgrade companion, end to end', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bridge-upgrade-'));
    configFile = join(dir, 'bridge.yaml');
    old = await startLegacyOdoo('lab', { admin: [2, PASSWORD] });
    // The credential map names lab's admin (both modes): its password is checked by the bridge
    // even in native mode, then passed on as the old server expects it.
    writeFileSync(join(dir, 'admin.key'), `${KEYS.labAdmin}\n`);
    const hash = await hashPassword(PASSWORD, { scheme: 'pbkdf2-sha512', rounds: 1000 });
    credentials = `auth:\n  mode: both\ncredentials:\n  - db: lab\n    login: admin\n    password_hash: "${hash}"\n    api_key_file: ${join(dir, 'admin.key')}\n`;
    fresh = await startFakeOdoo();
    writeConfig(BEFORE());
    bridge = await startBridgeProcess({
      BRIDGE_CONFIG: configFile,
      BRIDGE_ADMIN_TOKEN: TOKEN,
      BRIDGE_CREDENTIALS_POLL_SECONDS: '0',
    });
  }, 30_000);

  afterAll(async () => {
    await bridge?.stop();
    old?.close();
    await fresh?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('walks the whole story: native, inventory, freeze, cutover under load, translated, unfreeze', async () => {
    // 1. Native: the old server answers, as it would without the bridge; no JSON-2 anywhere.
    const native = await py([
      { service: 'common', method: 'version', params: [] },
      { service: 'common', method: 'login', params: ['lab', 'admin', PASSWORD] },
      object('search_count', [[]]),
      object('read', [[7], ['name']]),
    ]);
    expect(native.map((a) => a.value)).toEqual([
      expect.objectContaining({ server_version: '17.0' }),
      2,
      2,
      [{ id: 7, name: 'Azure Interior' }],
    ]);
    const viaJson = await jsonrpcCall(
      bridge.url,
      'object',
      'execute_kw',
      object('search_count', [[]]).params,
    );
    expect(viaJson.json?.result).toBe(2);
    const wrong = await py([
      {
        service: 'object',
        method: 'execute_kw',
        params: ['lab', 2, 'wrong', 'res.partner', 'search_count', [[]]],
      },
    ]);
    expect(wrong[0]?.fault).toEqual({ code: 3, string: 'Access Denied' }); // the old server's own fault
    // A mapped login with a wrong password: False from the bridge, the old server never asked.
    const mappedWrong = await py([
      { service: 'common', method: 'login', params: ['lab', 'admin', 'not-the-password'] },
    ]);
    expect(mappedWrong[0]?.value).toBe(false);
    // db.list: each server's databases, each from the server that serves it (old: lab; new: lab2).
    const listed = await py([{ service: 'db', method: 'list', params: [] }]);
    expect(listed[0]?.value).toEqual(['lab', 'lab2']);
    expect((await old.requests()).map((r) => `${r.path} ${r.method} ${r.model_method ?? ''}`.trim())).toEqual(
      [
        '/xmlrpc/2/common version',
        '/xmlrpc/2/common login',
        '/xmlrpc/2/object execute_kw search_count',
        '/xmlrpc/2/object execute_kw read',
        '/jsonrpc execute_kw search_count',
        '/xmlrpc/2/object execute_kw search_count',
        '/jsonrpc list',
      ],
    );
    expect(fresh.requests.filter((r) => r.path.startsWith('/json/2/'))).toEqual([]);
    const ready = (await (await fetch(`${bridge.url}/_bridge/readyz`)).json()) as Record<string, unknown>;
    expect(ready).toMatchObject({
      status: 'ok',
      upstream: { version: '17.0' },
      upstreams: {
        old: { state: 'up', mode: 'native', version: '17.0' },
        new: { state: 'up', mode: 'translate' },
      },
    });

    // 2. The inventory fills in, with the JSON-2 form and the upstream named.
    const inv = (await (await fetch(`${bridge.url}/_bridge/inventory`, { headers: bearer })).json()) as {
      clients: Array<{
        calls: Array<{
          model: string | null;
          method: string;
          count: number;
          upstream: string | null;
          replacement: { request?: string };
        }>;
      }>;
    };
    const calls = inv.clients.flatMap((c) => c.calls);
    const read = calls.find((c) => c.model === 'res.partner' && c.method === 'read');
    expect(read).toMatchObject({
      upstream: 'old',
      replacement: { request: 'POST /json/2/res.partner/read' },
    });
    expect(bridge.out()).toMatch(/"upstream":"old".*"msg":"legacy call"/);

    // 3. Freeze: a write is refused before the old server sees it; reads are served.
    expect(
      (await fetch(`${bridge.url}/_bridge/freeze/lab`, { method: 'POST', headers: bearer })).status,
    ).toBe(200);
    const frozen = await py([object('write', [[7], { phone: '+1 555 0199' }]), object('search_count', [[]])]);
    expect(frozen[0]?.fault?.string).toMatch(
      /^The database lab is frozen for an upgrade: res\.partner\.write is refused/,
    );
    expect(frozen[1]?.value).toBe(2);
    // A large write (over the 64 KiB the bridge reads before sending on) cannot be proven harmless:
    // refused too while anything is frozen.
    const large = await jsonrpcCall(bridge.url, 'object', 'execute_kw', [
      'lab',
      2,
      PASSWORD,
      'res.partner',
      'write',
      [[7], { comment: 'x'.repeat(80_000) }],
    ]);
    expect(large.json?.error?.data.message).toMatch(/requests larger than 64 KiB .* are refused/);
    expect((await old.requests()).filter((r) => r.model_method === 'write')).toEqual([]);

    // 4. Cutover by SIGHUP while 50 calls are in flight on the old server (each held 2 s there).
    await old.delay(2000);
    const before = (await old.requests()).length;
    let answered = 0;
    const count = <T>(p: Promise<T>): Promise<T> => p.finally(() => answered++);
    // Half with the xmlrpc npm client, half JSON-RPC over HTTP (both start at once).
    const inFlight = Array.from({ length: 50 }, (_, i) =>
      count(
        i % 2
          ? jsonrpcCall(bridge.url, 'object', 'execute_kw', object('search_count', [[]]).params).then(
              (a) => a.json?.result,
            )
          : xmlrpcCall(
              `${bridge.url}/xmlrpc/2/object`,
              'execute_kw',
              object('search_count', [[]]).params,
            ).then((a) => a.value),
      ),
    );
    for (let i = 0; i < 150 && (await old.requests()).length < before + 50; i++)
      await new Promise((r) => setTimeout(r, 20));
    // All 50 have reached the old server and wait there: the reload happens under them.
    expect((await old.requests()).length).toBe(before + 50);
    expect(answered).toBe(0);
    writeConfig(AFTER());
    bridge.child.kill('SIGHUP');
    const answers = await Promise.all(inFlight);
    expect(answers).toEqual(Array.from({ length: 50 }, () => 2)); // none failed: the old server answered them all
    while (!bridge.out().includes('upstreams reloaded'))
      await once(bridge.child.stdout as NodeJS.ReadableStream, 'data');
    expect(bridge.out()).toMatch(/"upstreamsRetired":\["old"\]/);

    // 5. Translated from now on: the new server (JSON-2) answers; the old one hears nothing more.
    const seenByOld = (await old.requests()).length;
    const after = await py([object('search_count', [[]]), object('read', [[7], ['name']])]);
    expect(after[0]?.value).toEqual(expect.any(Number));
    expect(after[1]?.value).toEqual([{ id: 7, name: expect.any(String) }]);
    expect(fresh.requests.map((r) => r.path)).toContain('/json/2/res.partner/search_count');
    expect((await old.requests()).length).toBe(seenByOld);
    // Still frozen after the cutover (the freeze is the bridge's, not the server's).
    const stillFrozen = await py([object('write', [[7], { phone: '+1 555 0199' }])]);
    expect(stillFrozen[0]?.fault?.string).toMatch(/frozen for an upgrade/);

    // 6. Unfreeze: writes land on the new server.
    expect(
      (await fetch(`${bridge.url}/_bridge/freeze/lab`, { method: 'DELETE', headers: bearer })).status,
    ).toBe(200);
    const written = await py([object('write', [[7], { phone: '+1 555 0199' }])]);
    expect(written[0]?.value).toBe(true);
    expect(fresh.requests.map((r) => r.path)).toContain('/json/2/res.partner/write');
    expect(bridge.out()).not.toContain(PASSWORD);
  }, 60_000);
});
