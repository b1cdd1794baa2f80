/**
 * The migration inventory over HTTP: legacy calls made with real clients show up in
 * `GET /_bridge/inventory` per client (User-Agent, address, db, login) with counts, faults and
 * the JSON-2 request that replaces each call; the page escapes what clients send; the inventory
 * survives a restart through BRIDGE_INVENTORY_FILE, and a corrupt file does not stop the bridge.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import xmlrpc from 'xmlrpc';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { InventoryClient, InventoryJson } from '../../src/inventory/views.ts';
import { KEYS, startStack, type Stack } from '../support/harness.ts';

const stacks: Stack[] = [];
afterEach(async () => {
  await Promise.all(stacks.splice(0).map((s) => s.close()));
});

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bridge-inventory-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function stack(opts: Parameters<typeof startStack>[0] = {}): Promise<Stack> {
  const s = await startStack(opts);
  stacks.push(s);
  return s;
}

/** The xmlrpc npm client with a User-Agent of our choosing; faults are answers. */
function call(url: string, userAgent: string, method: string, params: unknown[]): Promise<unknown> {
  const client = xmlrpc.createClient({ url, headers: { 'User-Agent': userAgent } });
  return new Promise((resolve, reject) =>
    client.methodCall(method, params, (err: unknown, value: unknown) => {
      if (!err) return resolve(value);
      const f = err as { faultCode?: unknown; faultString?: string };
      if (f.faultCode !== undefined) return resolve({ fault: f.faultString });
      reject(err as Error);
    }),
  );
}

async function inventory(s: Stack): Promise<InventoryJson> {
  const r = await fetch(`${s.bridge.url}/_bridge/inventory`);
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^application\/json/);
  return (await r.json()) as InventoryJson;
}

const UA = 'erp-sync/2.3 (nightly import)';

/** A typical integration: authenticate, search_read with positional args, a call that faults. */
async function legacySession(s: Stack, userAgent = UA): Promise<void> {
  const common = `${s.bridge.url}/xmlrpc/2/common`;
  const object = `${s.bridge.url}/xmlrpc/2/object`;
  expect(await call(common, userAgent, 'version', [])).toMatchObject({ server_version: expect.any(String) });
  expect(await call(common, userAgent, 'authenticate', ['lab', 'admin', KEYS.labAdmin, {}])).toBe(2);
  for (let i = 0; i < 2; i++)
    expect(
      await call(object, userAgent, 'execute_kw', [
        'lab',
        2,
        KEYS.labAdmin,
        'res.partner',
        'search_read',
        [[['is_company', '=', true]], ['name', 'email']],
        { limit: 3 },
      ]),
    ).toBeInstanceOf(Array);
  expect(
    await call(object, userAgent, 'execute_kw', [
      'lab',
      2,
      KEYS.labAdmin,
      'res.partner',
      'no_such_method',
      [[1]],
    ]),
  ).toMatchObject({ fault: expect.any(String) });
}

function clientOf(inv: InventoryJson, userAgent: string): InventoryClient[] {
  return inv.clients.filter((c) => c.userAgent === userAgent);
}

describe('/_bridge/inventory', () => {
  it('lists each client with its calls, counts, faults and the JSON-2 request replacing each call', async () => {
    const s = await stack();
    await legacySession(s);
    const inv = await inventory(s);
    expect(inv.enabled).toBe(true);
    expect(inv.limits).toEqual({
      maxClients: 100,
      maxCalls: 100,
      maxClientsPerAddress: 10,
      maxExampleBytes: 2048,
      retentionDays: 30,
      migratedAfterDays: 7,
    });

    // common.version has no db: a client of its own; the rest is (UA, 127.0.0.1, lab, admin).
    const clients = clientOf(inv, UA);
    const lab = clients.find((c) => c.db === 'lab');
    expect(lab).toMatchObject({ address: '127.0.0.1', login: 'admin', uid: 2, count: 4, errors: 1 });
    // The aggregates the page shows: today's calls, nothing migrated yet.
    const today = inv.generatedAt.slice(0, 10);
    expect(lab).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f]{16}$/),
      status: 'calling',
      migratedOn: null,
      last24h: { calls: 4, faults: 1 },
      last7d: { calls: 4, faults: 1 },
      callKinds: { total: 3, remaining: 3, migrated: 0 },
      daily: [{ day: today, calls: 4, faults: 1 }],
    });
    expect(inv.overview).toMatchObject({
      clients: { total: 2, calling: 2, migrated: 0 },
      callKinds: { total: 4, remaining: 4, migrated: 0 },
      last24h: { calls: 5, faults: 1 },
      daily: [{ day: today, calls: 5, faults: 1 }],
    });
    expect(inv.expired).toEqual({ clients: 0, calls: 0 });
    const calls = lab?.calls ?? [];
    expect(calls.map((c) => `${c.service} ${c.model ?? '-'} ${c.method}`)).toEqual([
      'common - authenticate',
      'object res.partner no_such_method',
      'object res.partner search_read',
    ]);

    const auth = calls[0];
    expect(auth).toMatchObject({ protocol: 'xmlrpc/2', function: 'authenticate', count: 1, errors: 0 });
    expect(auth?.replacement).toMatchObject({ kind: 'json2', request: 'POST /json/2/res.users/context_get' });
    expect(auth?.replacement.note).toMatch(/^Not needed: JSON-2 takes an API key/);

    const fault = calls[1];
    expect(fault).toMatchObject({ count: 1, errors: 1 });
    expect(fault?.lastFault).toMatch(/\w/);

    const sr = calls[2];
    expect(sr).toMatchObject({ function: 'execute_kw', count: 2, errors: 0, lastFault: null });
    expect(Date.parse(sr?.firstSeen ?? '')).toBeLessThanOrEqual(Date.parse(sr?.lastSeen ?? ''));
    const r = sr?.replacement;
    expect(r?.kind).toBe('json2');
    expect(r?.request).toBe('POST /json/2/res.partner/search_read');
    // The positional arguments, named as the bridge named them for Odoo.
    expect(JSON.parse(r?.body ?? '')).toEqual({
      domain: [['is_company', '=', true]],
      fields: ['name', 'email'],
      limit: 3,
    });
    expect(r?.curl).toContain(`curl -sS -X POST "$ODOO_URL/json/2/res.partner/search_read"`);
    expect(r?.curl).toContain(`-H "Authorization: bearer $ODOO_API_KEY"`);
    expect(r?.curl).toContain(`-H 'X-Odoo-Database: lab'`);
    expect(r?.curl).toContain(
      `-d '{"domain": [["is_company", "=", true]], "fields": ["name", "email"], "limit": 3}'`,
    );
    expect(r?.python).toContain(
      `json={"domain": [["is_company", "=", True]], "fields": ["name", "email"], "limit": 3},`,
    );
    expect(r?.python).toContain(`"X-Odoo-Database": "lab",`);

    const version = clients.find((c) => c.db === null)?.calls[0];
    expect(version).toMatchObject({ service: 'common', method: 'version' });
    expect(version?.replacement).toMatchObject({ kind: 'http', request: 'GET /web/version' });

    // The API key (the legacy password) is nowhere in the inventory.
    const text = JSON.stringify(inv);
    expect(text).not.toContain(KEYS.labAdmin);
  });

  it('keeps clients apart by User-Agent and login, most recently seen first', async () => {
    const s = await stack();
    await legacySession(s, 'first-client/1.0');
    await legacySession(s, 'second-client/1.0');
    // The demo user, same User-Agent as the second client: another client.
    expect(
      await call(`${s.bridge.url}/xmlrpc/2/common`, 'second-client/1.0', 'login', [
        'lab',
        'demo',
        KEYS.labDemo,
      ]),
    ).toBe(5);
    const inv = await inventory(s);
    const withDb = inv.clients.filter((c) => c.db !== null);
    expect(withDb.map((c) => `${c.userAgent} ${c.login}`)).toEqual([
      'second-client/1.0 demo',
      'second-client/1.0 admin',
      'first-client/1.0 admin',
    ]);
    const seen = inv.clients.map((c) => Date.parse(c.lastSeen));
    expect(seen).toEqual([...seen].sort((a, b) => b - a));
  });

  it('records JSON-RPC calls, and object calls whose login it cannot know under their uid', async () => {
    const s = await stack();
    const r = await fetch(`${s.bridge.url}/jsonrpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'jsonrpc-client/0.1' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        method: 'call',
        id: 1,
        params: {
          service: 'object',
          method: 'execute',
          args: ['lab', 5, KEYS.labDemo, 'res.partner', 'search_count', [['is_company', '=', true]]],
        },
      }),
    });
    expect(((await r.json()) as { result?: unknown }).result).toEqual(expect.any(Number));
    const [client] = clientOf(await inventory(s), 'jsonrpc-client/0.1');
    expect(client).toMatchObject({ db: 'lab', login: null, uid: 5, count: 1 });
    expect(client?.calls[0]).toMatchObject({
      protocol: 'jsonrpc',
      function: 'execute',
      method: 'search_count',
    });
    expect(JSON.parse(client?.calls[0]?.replacement.body ?? '')).toEqual({
      domain: [['is_company', '=', true]],
    });
  });

  it('keeps no password given as an argument: secret-looking members are redacted', async () => {
    const s = await stack();
    await call(`${s.bridge.url}/xmlrpc/2/object`, UA, 'execute_kw', [
      'lab',
      2,
      KEYS.labAdmin,
      'res.users',
      'write',
      [[5], { password: 'n3w-s3cret-pw', name: 'Demo' }],
    ]);
    const inv = await inventory(s);
    const text = JSON.stringify(inv);
    expect(text).not.toContain('n3w-s3cret-pw');
    const write = clientOf(inv, UA)[0]?.calls.find((c) => c.method === 'write');
    expect(JSON.parse(write?.replacement.body ?? '')).toEqual({
      ids: [5],
      vals: { password: '<redacted>', name: 'Demo' },
    });
  });

  it('is empty and off with BRIDGE_INVENTORY_MAX_CLIENTS=0', async () => {
    const s = await stack({ config: { inventoryMaxClients: 0 } });
    await legacySession(s);
    const inv = await inventory(s);
    expect(inv).toMatchObject({ enabled: false, clients: [] });
    const page = await (await fetch(`${s.bridge.url}/_bridge/`)).text();
    expect(page).toContain('The inventory is off');
  });
});

describe('the hand-over: GET /_bridge/inventory.csv and /_bridge/inventory/report?client=', () => {
  it('a CSV row per kind of call, with its JSON-2 request and snippets; a formula-like User-Agent made inert', async () => {
    const s = await stack();
    await legacySession(s);
    await legacySession(s, '=HYPERLINK("http://x","y")');
    const r = await fetch(`${s.bridge.url}/_bridge/inventory.csv`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(r.headers.get('content-disposition')).toMatch(/^attachment; filename=/);
    const csv = await r.text();
    expect(csv).not.toContain(KEYS.labAdmin);
    const rows = parseCsv(csv);
    const header = rows[0] ?? [];
    expect(header.slice(0, 6)).toEqual([
      'client_id',
      'user_agent',
      'address',
      'db',
      'login',
      'client_status',
    ]);
    const col = (name: string) => header.indexOf(name);
    const searchRead = rows.find(
      (row) => row[col('user_agent')] === UA && row[col('method')] === 'search_read',
    );
    expect(searchRead?.[col('count')]).toBe('2');
    expect(searchRead?.[col('status')]).toBe('remaining');
    expect(searchRead?.[col('json2_request')]).toBe('POST /json/2/res.partner/search_read');
    expect(searchRead?.[col('curl')]).toContain(
      'curl -sS -X POST "$ODOO_URL/json/2/res.partner/search_read"',
    );
    expect(searchRead?.[col('python')]).toContain("os.environ['ODOO_API_KEY']");
    // Every data row has the header's number of cells (quoted line breaks kept inside cells).
    for (const row of rows.slice(1)) expect(row).toHaveLength(header.length);
    expect(rows.some((row) => row[col('user_agent')] === `'=HYPERLINK("http://x","y")`)).toBe(true);
  });

  it("a client's report in Markdown: each call to rewrite with curl and Python; 400 and 404 for a bad or unknown id", async () => {
    const s = await stack();
    await legacySession(s);
    const lab = clientOf(await inventory(s), UA).find((c) => c.db === 'lab');
    const r = await fetch(`${s.bridge.url}/_bridge/inventory/report?client=${lab?.id ?? ''}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
    const md = await r.text();
    expect(md).toContain('# Legacy RPC calls of `erp-sync/2.3 (nightly import)`');
    expect(md).toContain('## Calls to rewrite (3)');
    expect(md).toContain('### `res.partner.search_read` over xmlrpc/2');
    expect(md).toContain('```sh\ncurl -sS -X POST "$ODOO_URL/json/2/res.partner/search_read"');
    expect(md).toContain('```python\n');
    expect(md).not.toContain(KEYS.labAdmin);
    expect((await fetch(`${s.bridge.url}/_bridge/inventory/report?client=nothex`)).status).toBe(400);
    // A model name carrying Markdown, HTML and a link (an invalid model, kept as sent): in the
    // report it stays inside a code span, on one line.
    const hostile = 'x\n\n<img src=x onerror=alert(1)>\n\n## [Click](https://evil.example/)';
    await call(`${s.bridge.url}/xmlrpc/2/object`, UA, 'execute_kw', [
      'lab',
      2,
      KEYS.labAdmin,
      hostile,
      'read',
      [[1]],
    ]);
    const again = await (
      await fetch(`${s.bridge.url}/_bridge/inventory/report?client=${lab?.id ?? ''}`)
    ).text();
    const lines = again.split('\n');
    expect(lines.some((l) => l.startsWith('<img') || l.startsWith('## [Click'))).toBe(false);
    expect(again).toContain('`x <img src=x onerror=alert(1)> ## [Click](https://evil.example/).read`');
    expect((await fetch(`${s.bridge.url}/_bridge/inventory/report`)).status).toBe(400);
    expect((await fetch(`${s.bridge.url}/_bridge/inventory/report?client=${'0'.repeat(16)}`)).status).toBe(
      404,
    );
  });
});

/** RFC 4180 CSV → rows of cells (quoted cells may hold commas, quotes and line breaks). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  return rows;
}

describe('GET /_bridge/', () => {
  it('shows what clients sent as text: a <script> User-Agent is escaped, and the CSP allows no other script', async () => {
    const s = await stack();
    const evil = '<script>alert("ua")</script><img src=x onerror=alert(1)>';
    await legacySession(s, evil);
    const r = await fetch(`${s.bridge.url}/_bridge/`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = r.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/script-src 'sha256-[\w+/=]+'/);
    const html = await r.text();
    expect(html).not.toContain(evil);
    expect(html).not.toContain('<img');
    expect(html).toContain(
      '&lt;script&gt;alert(&quot;ua&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;',
    );
    // One script element: the page's own.
    expect(html.match(/<script>/g)).toHaveLength(1);
    expect(html).toContain('/json/2/res.partner/search_read');
    expect(html).not.toContain(KEYS.labAdmin);
  });

  it('selects and pages clients on the page, the JSON and the CSV (?db ?model ?client ?offset ?limit); a bad value is a 400 naming it', async () => {
    const s = await stack();
    for (const ua of ['alpha-sync/1', 'beta-sync/1', 'gamma <b>report</b>'])
      await call(`${s.bridge.url}/xmlrpc/2/object`, ua, 'execute_kw', [
        'lab',
        2,
        KEYS.labAdmin,
        'res.partner',
        'search_count',
        [[]],
      ]);
    const page = await (await fetch(`${s.bridge.url}/_bridge/?client=sync&limit=1`)).text();
    expect(page).toContain('Clients 1–1 of 2 with client <code>sync</code>');
    expect(page).toContain('<a href="?client=sync&amp;offset=1&amp;limit=1">next</a>');
    expect(page).toContain('beta-sync/1');
    expect(page).not.toContain('alpha-sync/1</');
    const next = await (await fetch(`${s.bridge.url}/_bridge/?client=sync&offset=1&limit=1`)).text();
    expect(next).toContain('alpha-sync/1');
    expect(next).toContain('>previous</a>');
    const json = (await (
      await fetch(`${s.bridge.url}/_bridge/inventory?model=res.partner&client=%3Cb%3E`)
    ).json()) as InventoryJson & {
      selection: { matched: number };
    };
    expect(json.clients.map((c) => c.userAgent)).toEqual(['gamma <b>report</b>']);
    expect(json.selection.matched).toBe(1);
    const csv = await (await fetch(`${s.bridge.url}/_bridge/inventory.csv?db=nope`)).text();
    expect(csv.trim().split('\n')).toHaveLength(1); // the header only
    for (const q of ['limit=5000', 'db=a&db=b', `client=${'x'.repeat(300)}`]) {
      const r = await fetch(`${s.bridge.url}/_bridge/inventory?${q}`);
      expect(r.status).toBe(400);
      expect(await r.text()).toMatch(/^odoo-rpc-bridge: \?(limit|db|client)= must/);
    }
  });

  it('redirects /_bridge to /_bridge/ and still answers 404 for unknown /_bridge/ paths', async () => {
    const s = await stack();
    const r = await fetch(`${s.bridge.url}/_bridge`, { redirect: 'manual' });
    expect(r.status).toBe(301);
    expect(new URL(r.headers.get('location') ?? '', `${s.bridge.url}/_bridge`).pathname).toBe('/_bridge/');
    expect((await fetch(`${s.bridge.url}/_bridge/nope`)).status).toBe(404);
  });
});

describe('BRIDGE_INVENTORY_FILE', () => {
  it('saves the inventory on close and loads it at the next start', async () => {
    const file = join(dir, 'saved.json');
    const first = await startStack({ config: { inventoryFile: file } });
    await legacySession(first);
    const before = await inventory(first);
    await first.close();

    const text = await readFile(file, 'utf8');
    expect(text).not.toContain(KEYS.labAdmin);
    expect(JSON.parse(text)).toMatchObject({ format: 'odoo-rpc-bridge inventory', version: 1 });

    const second = await stack({ config: { inventoryFile: file } });
    const after = await inventory(second);
    expect(after.clients).toEqual(before.clients);
    // Known again: a call with only the uid is put under the login learnt before the restart.
    await call(`${second.bridge.url}/xmlrpc/2/object`, UA, 'execute_kw', [
      'lab',
      2,
      KEYS.labAdmin,
      'res.partner',
      'search_read',
      [[]],
      { limit: 1 },
    ]);
    const lab = clientOf(await inventory(second), UA).find((c) => c.db === 'lab');
    expect(lab?.count).toBe(5);
    expect(lab?.calls.find((c) => c.method === 'search_read')?.count).toBe(3);
  });

  it('starts with an empty inventory when the file is missing or corrupt, and replaces a corrupt file', async () => {
    const missing = await stack({ config: { inventoryFile: join(dir, 'absent', 'x.json') } });
    expect((await inventory(missing)).clients).toEqual([]);

    const file = join(dir, 'corrupt.json');
    await writeFile(file, '{"format": "odoo-rpc-bridge inventory", "clients": [tru');
    const s = await startStack({ config: { inventoryFile: file } });
    expect((await inventory(s)).clients).toEqual([]);
    expect(s.logs.join('')).toContain('inventory file is not JSON');
    await legacySession(s);
    await s.close();
    const saved = JSON.parse(await readFile(file, 'utf8')) as { clients: unknown[] };
    expect(saved.clients.length).toBeGreaterThan(0);
  });
});
