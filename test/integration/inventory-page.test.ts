/**
 * The migration page in a real headless browser (Debian's chromium, driven by playwright-core):
 * after legacy calls made with Python's own xmlrpc.client, `/_bridge/` lists the client and, for
 * each call, the JSON-2 request that replaces it with the named arguments the bridge computed; a
 * User-Agent carrying markup is shown as text and runs nothing; the copy button copies a snippet.
 *
 * Without chromium at /usr/bin/chromium (or CHROMIUM_PATH) the test fails under CI (which installs
 * it, see .ci/run) and is skipped elsewhere. `UPDATE_SCREENSHOT=1` refreshes docs/inventory.png.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS, startStack, type Stack } from '../support/harness.ts';
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

    // The Python client, with its login learnt from authenticate.
    const python = page.locator('section.client').filter({ hasText: 'login admin' });
    await expect(python.locator('h2.ua').textContent()).resolves.toMatch(/^Python-xmlrpc\/3\.\d+$/);
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
    const version = page
      .locator('section.client')
      .filter({ has: page.locator('h2.ua', { hasText: /^Python-xmlrpc/ }) })
      .filter({ hasText: 'common.version' });
    await expect(version.locator('pre').first().textContent()).resolves.toBe(
      'curl -sS "$ODOO_URL/web/version"',
    );

    const shot = join(profile, 'inventory.png');
    const png = await page.screenshot({ path: shot, fullPage: true });
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    if (process.env['UPDATE_SCREENSHOT'] === '1') {
      await copyFile(shot, SCREENSHOT);
      expect((await readFile(SCREENSHOT)).equals(png)).toBe(true);
    }

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
    await expect(page.locator('h2.ua', { hasText: '<script>' }).textContent()).resolves.toBe(EVIL_UA);
    expect(await page.locator('main img, main script').count()).toBe(0);
    expect(dialogs).toEqual([]);
    // The key never reaches the page.
    expect(await page.content()).not.toContain(KEYS.labAdmin);
    await page.close();
  }, 60_000);
});
