/**
 * Attack: /_bridge/* was open on the public listener: logins, dbs, client addresses and example
 * bodies for anyone, and any client could evict the real inventory entries by cycling User-Agents.
 * Now: BRIDGE_ADMIN_LISTEN serves them on another address, BRIDGE_ADMIN_TOKEN guards the
 * inventory and its page, and entries are bounded per client address.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { xmlrpcCall } from '../support/clients.ts';
import { KEYS, startStack, type Stack } from '../support/harness.ts';

const TOKEN = 'a-long-admin-token-0123456789';

describe("the bridge's own endpoints on their own address, behind a token", () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack({
      config: {
        adminListen: { host: '127.0.0.1', port: 0 },
        adminToken: TOKEN,
        inventoryMaxClientsPerAddress: 3,
      },
    });
  });
  afterAll(() => s.close());
  const admin = (): string => s.bridge.adminUrl ?? '';

  it('the public listener serves none of /_bridge/*, and still serves the legacy endpoints', async () => {
    for (const path of [
      '/_bridge/inventory',
      '/_bridge/',
      '/_bridge/inventory.csv',
      '/_bridge/inventory/report?client=0123456789abcdef',
      '/_bridge/metrics',
      '/_bridge/livez',
    ]) {
      const r = await fetch(`${s.bridge.url}${path}`);
      expect(r.status).toBe(404);
      expect(await r.text()).toContain('BRIDGE_ADMIN_LISTEN');
    }
    const v = await xmlrpcCall(`${s.bridge.url}/xmlrpc/2/common`, 'version', []);
    expect(v.value).toBeDefined();
  });

  it('probes and metrics are open on the admin address; the inventory and page need the token', async () => {
    expect((await fetch(`${admin()}/_bridge/livez`)).status).toBe(200);
    expect((await fetch(`${admin()}/_bridge/metrics`)).status).toBe(200);
    const denied = await fetch(`${admin()}/_bridge/inventory`);
    expect(denied.status).toBe(401);
    for (const path of ['/_bridge/inventory.csv', '/_bridge/inventory/report?client=0123456789abcdef'])
      expect((await fetch(`${admin()}${path}`)).status, path).toBe(401);
    expect(
      (await fetch(`${admin()}/_bridge/inventory.csv`, { headers: { authorization: `Bearer ${TOKEN}` } }))
        .status,
    ).toBe(200);
    expect(denied.headers.get('www-authenticate')).toContain('Basic');
    expect(
      (
        await fetch(`${admin()}/_bridge/inventory`, {
          headers: { authorization: 'Bearer wrong-token-wrong-token' },
        })
      ).status,
    ).toBe(401);
    expect(
      (await fetch(`${admin()}/_bridge/inventory`, { headers: { authorization: `Bearer ${TOKEN}` } })).status,
    ).toBe(200);
    const basic = Buffer.from(`anyone:${TOKEN}`).toString('base64');
    const page = await fetch(`${admin()}/_bridge/`, { headers: { authorization: `Basic ${basic}` } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
  });

  it("cycling User-Agents from one address evicts only that address's entries", async () => {
    // A real integration from 127.0.0.2.
    await xmlrpcCall(
      `${s.bridge.url}/xmlrpc/2/object`,
      'execute_kw',
      ['lab', 2, KEYS.labAdmin, 'res.partner', 'search_count', [[]]],
      {
        localAddress: '127.0.0.2',
        headers: { 'User-Agent': 'real-integration/1.0' },
      },
    );
    for (let i = 0; i < 50; i++)
      await xmlrpcCall(`${s.bridge.url}/xmlrpc/2/common`, 'version', [], {
        headers: { 'User-Agent': `cycler/${i}` },
      });
    const inv = (await (
      await fetch(`${admin()}/_bridge/inventory`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as { clients: Array<{ userAgent: string; address: string }> };
    expect(inv.clients.some((c) => c.userAgent === 'real-integration/1.0')).toBe(true);
    expect(inv.clients.filter((c) => c.address === '127.0.0.1').length).toBeLessThanOrEqual(3);
  });
});
