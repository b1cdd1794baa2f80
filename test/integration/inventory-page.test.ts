/**
 * The migration page in a real headless browser (Debian's chromium, driven by playwright-core):
 * after legacy calls made with Python's own xmlrpc.client, `/_bridge/` lists the client and, for
 * each call, the JSON-2 request that replaces it with the named arguments the bridge computed; a
 * User-Agent carrying markup is shown as text and runs nothing; the copy button copies a snippet.
 *
 * Then an inventory of 200 clients and 2,000 kinds of call over 30 days (a saved inventory file):
 * the overview is what is visible first, the details are collapsed, the client table sorts and
 * filters, and the trend shows the seeded days. The time to render it is printed (timing is
 * never asserted in tests).
 *
 * Without chromium at /usr/bin/chromium (or CHROMIUM_PATH) the test fails under CI (which installs
 * it, see .ci/run) and is skipped elsewhere. `UPDATE_SCREENSHOT=1` refreshes docs/inventory.png
 * (the overview of the large inventory).
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS, startStack, type Stack } from '../support/harness.ts';
import { seedInventory } from '../support/inventory-seed.ts';
import { hasPython, runPython } from '../support/run-python.ts';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const inCi = process.env['CI'] !== undefined && process.env['CI'] !== '';
const SCREENSHOT = join(import.meta.dirname, '..', '..', 'docs', 'inventory.png');

const EVIL_UA = '<script>alert("ua")</script><img src=x onerror=alert(2)>';

describe.skipIf(!haveChromium && !inCi)('the migration page in headless chromium', () => {
  let stack: Stack | undefined;
  let browser: BrowserContext | undefined;
  let profile = '';

  beforeAll(async () => {
    if (!haveChromium)
      throw new Error(
        `chromium is not installed at ${CHROMIUM}: the migration page test needs it (apt-get install chromium, as .ci/run does)`,
      );
    if (!hasPython) throw new Error('python3 is needed to make the legacy calls with xmlrpc.client');
    stack = await startStack();
    profile = await mkdtemp(join(tmpdir(), 'bridge-chromium-'));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1360, height: 900 },
      // Without the background-networking flags chromium waits on a closed network.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  it('lists the Python client and the JSON-2 request replacing each of its calls', async () => {
    const s = stack as Stack;
    const page = await (browser as BrowserContext).newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });

    // An unmigrated integration, with Python's own xmlrpc.client.
    const answers = await runPython<Array<{ value?: unknown; fault?: { string: string } }>>(
      'test/clients/py_calls.py',
      {
        url: s.bridge.url,
        calls: [
          { service: 'common', method: 'version', params: [] },
          { service: 'common', method: 'authenticate', params: ['lab', 'admin', KEYS.labAdmin, {}] },
          {
            service: 'object',
            method: 'execute_kw',
            params: [
              'lab',
              2,
              KEYS.labAdmin,
              'res.partner',
              'search_read',
              [[['is_company', '=', true]], ['name', 'country_id']],
              { limit: 5, order: 'name' },
            ],
          },
          {
            service: 'object',
            method: 'execute_kw',
            params: ['lab', 2, KEYS.labAdmin, 'res.partner', 'write', [[7], { phone: '+32 2 555 01 02' }]],
          },
          {
            service: 'object',
            method: 'execute_kw',
            params: ['lab', 2, KEYS.labAdmin, 'res.partner', 'no_such_method', [[7]]],
          },
        ],
      },
    );
    expect(answers[1]).toEqual({ value: 2 });
    expect(answers[2]?.value).toBeInstanceOf(Array);
    expect(answers[4]?.fault).toBeDefined();
    const answer = await page.goto(`${s.bridge.url}/_bridge/`);
    expect(answer?.status()).toBe(200);
    await expect(page.title()).resolves.toBe('odoo-rpc-bridge: migration inventory');

    // The overview first, then the client table; each client's details are collapsed.
    await expect(page.locator('#overview .card .value').first().textContent()).resolves.toBe('2');
    expect(await page.locator('details[open]').count()).toBe(0);
    // The Python client, with its login learnt from authenticate: its row opens its details.
    const row = page.locator('#clients tbody tr[data-login="admin"]');
    await expect(row.locator('td.ua').textContent()).resolves.toMatch(/^Python-xmlrpc\/3\.\d+$/);
    await row.locator('td.ua a').click();
    const python = page.locator('details.client[open]');
    await expect(python.locator('summary .ua').textContent()).resolves.toMatch(/^Python-xmlrpc\/3\.\d+$/);
    const names = await python.locator('tr.call .name').allTextContents();
    expect(names).toEqual([
      'common.authenticate',
      'res.partner · no_such_method',
      'res.partner · search_read',
      'res.partner · write',
    ]);

    // Each call's replacement: the JSON-2 request with the named arguments the bridge computed.
    const searchRead = python.locator('tr.replacement').nth(2);
    const [curl, py] = await searchRead.locator('pre').allTextContents();
    expect(curl).toContain('curl -sS -X POST "$ODOO_URL/json/2/res.partner/search_read"');
    expect(curl).toContain(`-H 'X-Odoo-Database: lab'`);
    expect(curl).toContain(
      `-d '{"domain": [["is_company", "=", true]], "fields": ["name", "country_id"], "limit": 5, "order": "name"}'`,
    );
    expect(py).toContain(`f"{os.environ['ODOO_URL']}/json/2/res.partner/search_read"`);
    expect(py).toContain(`"Authorization": f"bearer {os.environ['ODOO_API_KEY']}"`);
    expect(py).toContain(
      'json={"domain": [["is_company", "=", True]], "fields": ["name", "country_id"], "limit": 5, "order": "name"},',
    );
    const write = await python.locator('tr.replacement').nth(3).locator('pre').first().textContent();
    expect(write).toContain(`-d '{"ids": [7], "vals": {"phone": "+32 2 555 01 02"}}'`);
    const faultRow = python.locator('tr.call').nth(1);
    await expect(faultRow.locator('td').nth(3).textContent()).resolves.toBe('1');

    // common.version (no database): a client of its own, replaced by GET /web/version.
    const version = page.locator('details.client').filter({ hasText: 'common.version' });
    await version.locator('summary').click();
    await expect(version.locator('pre').first().textContent()).resolves.toBe(
      'curl -sS "$ODOO_URL/web/version"',
    );

    // The copy button puts the snippet on the clipboard.
    await (browser as BrowserContext).grantPermissions(['clipboard-read', 'clipboard-write'], {
      origin: s.bridge.url,
    });
    await searchRead.locator('button.copy').first().click();
    await expect(searchRead.locator('button.copy').first().textContent()).resolves.toMatch(/copied|copy/);
    const copied = await page.evaluate('navigator.clipboard.readText()');
    expect(copied).toBe(curl);

    // Another client whose User-Agent carries markup: shown as sent, nothing ran, no element was
    // made of it.
    const r = await fetch(`${s.bridge.url}/xmlrpc/2/common`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml', 'user-agent': EVIL_UA },
      body: '<?xml version="1.0"?><methodCall><methodName>version</methodName><params/></methodCall>',
    });
    expect(r.status).toBe(200);
    await page.reload();
    await expect(page.locator('#clients td.ua', { hasText: '<script>' }).textContent()).resolves.toBe(
      EVIL_UA,
    );
    await expect(
      page.locator('details.client summary .ua', { hasText: '<script>' }).textContent(),
    ).resolves.toBe(EVIL_UA);
    expect(await page.locator('main img, main script').count()).toBe(0);
    expect(dialogs).toEqual([]);
    // The key never reaches the page.
    expect(await page.content()).not.toContain(KEYS.labAdmin);
    await page.close();
  }, 60_000);

  it('200 clients and 2,000 kinds of call: overview first, details collapsed, sorting, filtering, the trend', async () => {
    const seed = seedInventory(200, 10, 30);
    const file = join(profile, 'inventory.json');
    await writeFile(file, JSON.stringify(seed.state));
    const big = await startStack({ config: { inventoryFile: file, inventoryMaxClients: 200 } });
    try {
      const page = await (browser as BrowserContext).newPage();
      const started = performance.now();
      const answer = await page.goto(`${big.bridge.url}/_bridge/`, { waitUntil: 'load' });
      const loadMs = performance.now() - started;
      const timing = JSON.parse(
        (await page.evaluate('JSON.stringify(performance.getEntriesByType("navigation")[0])')) as string,
      ) as { responseEnd: number; domContentLoadedEventEnd: number; loadEventEnd: number };
      const bytes = Number(answer?.headers()['content-length'] ?? (await answer?.body())?.length ?? 0);
      console.log(
        `migration page, 200 clients / 2,000 kinds of call: ${(bytes / 1e6).toFixed(2)} MB, ` +
          `goto→load ${loadMs.toFixed(0)} ms (response end ${timing.responseEnd.toFixed(0)} ms, ` +
          `DOMContentLoaded ${timing.domContentLoadedEventEnd.toFixed(0)} ms, load ${timing.loadEventEnd.toFixed(0)} ms)`,
      );
      expect(answer?.status()).toBe(200);
      // Once more, as a page is read again (the bridge's code warm).
      const again = performance.now();
      await page.reload({ waitUntil: 'load' });
      console.log(`migration page, reloaded: goto→load ${(performance.now() - again).toFixed(0)} ms`);

      // The overview is what is visible first; every client's details are closed.
      const viewport = page.viewportSize()?.height ?? 900;
      const overview = await page.locator('#overview').boundingBox();
      expect(overview?.y ?? Infinity).toBeLessThan(viewport / 4);
      await expect(page.locator('#overview .card .value').allTextContents()).resolves.toEqual([
        '180', // clients still calling (every tenth stopped 10 days ago)
        '1620', // kinds of call left: 9 of 10 in each calling client
        expect.stringMatching(/^\d+$/),
        expect.stringMatching(/^\d+$/),
      ]);
      expect(await page.locator('details.client').count()).toBe(200);
      expect(await page.locator('details.client[open]').count()).toBe(0);

      // The trend: 30 days, the seeded totals.
      const bars = page.locator('#trend svg g[data-day]');
      expect(await bars.count()).toBe(30);
      const shown = await bars.evaluateAll((gs) =>
        gs.map((g) => [g.getAttribute('data-day'), Number(g.getAttribute('data-calls'))]),
      );
      expect(new Map(shown as [string, number][])).toEqual(seed.totals);
      expect(await page.locator('#clients tbody tr svg.trend').count()).toBe(200);

      // Sorting by calls: most first, then least first.
      const calls = () =>
        page
          .locator('#clients tbody tr')
          .evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-calls'))));
      const byCalls = page.locator('#clients th button[data-sort="calls"]');
      await byCalls.click();
      const down = await calls();
      expect(down).toEqual([...down].sort((a, b) => b - a));
      await byCalls.click();
      const up = await calls();
      expect(up).toEqual([...up].sort((a, b) => a - b));
      expect(await byCalls.getAttribute('aria-sort')).toBe('ascending');

      // Filtering by database, then by model as well.
      await page.locator('.filters input[name="db"]').fill('staging');
      const visible = page.locator('#clients tbody tr:not([hidden])');
      expect(await visible.count()).toBe(40);
      expect(
        new Set(await visible.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-db')))),
      ).toEqual(new Set(['staging']));
      await expect(page.locator('#shown').textContent()).resolves.toBe('40');
      await page.locator('.filters input[name="model"]').fill('crm.lead');
      const withModel = await visible.evaluateAll((rows) =>
        rows.map((r) => r.getAttribute('data-models') ?? ''),
      );
      expect(withModel.length).toBeGreaterThan(0);
      expect(withModel.length).toBeLessThan(40);
      for (const m of withModel) expect(m.split(' ')).toContain('crm.lead');
      await page.locator('.filters input[name="model"]').fill('');
      await page.locator('.filters input[name="db"]').fill('');
      expect(await visible.count()).toBe(200);

      if (process.env['UPDATE_SCREENSHOT'] === '1') {
        await page.locator('#clients th button[data-sort="last"]').click();
        await page.locator('#clients th button[data-sort="last"]').click();
        const shot = join(profile, 'inventory.png');
        const png = await page.screenshot({ path: shot });
        await copyFile(shot, SCREENSHOT);
        expect((await readFile(SCREENSHOT)).equals(png)).toBe(true);
      }

      // A row's link opens that client's details.
      await page.locator('#clients tbody tr').first().locator('td.ua a').click();
      expect(await page.locator('details.client[open]').count()).toBe(1);
      await page.close();
    } finally {
      await big.close();
    }
  }, 120_000);
});
