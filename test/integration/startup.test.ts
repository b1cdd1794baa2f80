/**
 * Start-up as the README says (`ODOO_URL=... npm start` runs `node src/main.ts`): settings
 * errors stop it with one line naming the setting, --help lists the settings, and a started
 * bridge answers curl and exits 0 on SIGTERM.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOdoo, type FakeOdoo } from '../support/fake-odoo.ts';

const run = promisify(execFile);
const MAIN = new URL('../../src/main.ts', import.meta.url).pathname;

async function startFails(
  env: Record<string, string>,
  args: string[] = [],
): Promise<{ code: number; stderr: string }> {
  try {
    await run(process.execPath, [MAIN, ...args], {
      env: { PATH: process.env['PATH'] ?? '', ...env },
      timeout: 10_000,
    });
    return { code: 0, stderr: '' };
  } catch (e) {
    const err = e as { code: number; stderr: string };
    return { code: err.code, stderr: err.stderr };
  }
}

describe('start-up', () => {
  let odoo: FakeOdoo;
  beforeAll(async () => {
    odoo = await startFakeOdoo();
  });
  afterAll(() => odoo.close());

  it.each([
    [{}, [], /^odoo-rpc-bridge: ODOO_URL is not set/],
    [{ ODOO_URL: 'not a url' }, [], /^odoo-rpc-bridge: ODOO_URL=not a url is not a URL/],
    [
      { ODOO_URL: 'http://x', ODOO_DB_HEADER: 'sometimes' },
      [],
      /^odoo-rpc-bridge: ODOO_DB_HEADER=sometimes must be 'auto' or 'never'/,
    ],
    [
      { ODOO_URL: 'http://x', BRIDGE_LISTEN: '8069' },
      [],
      /^odoo-rpc-bridge: BRIDGE_LISTEN=8069 must be host:port/,
    ],
    [
      { ODOO_URL: 'http://x' },
      ['--upstream-timeout-ms', 'soon'],
      /^odoo-rpc-bridge: BRIDGE_UPSTREAM_TIMEOUT_MS=soon must be a whole number/,
    ],
    [{ ODOO_URL: 'http://x' }, ['--frobnicate'], /^odoo-rpc-bridge: unknown argument "--frobnicate"/],
    [
      { ODOO_URL: 'http://x', BRIDGE_CONFIG: '/nonexistent.yaml' },
      [],
      /^odoo-rpc-bridge: BRIDGE_CONFIG=\/nonexistent.yaml cannot be read/,
    ],
  ])('%j %j → exit 2 with one line naming the setting', async (env, args, expected) => {
    const { code, stderr } = await startFails(env, args);
    expect(code).toBe(2);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(expected);
  });

  it('--help lists every setting', async () => {
    const { stdout } = await run(process.execPath, [MAIN, '--help']);
    for (const name of [
      'ODOO_URL',
      'BRIDGE_LISTEN',
      'ODOO_DB_HEADER',
      'ODOO_DOCS_KEY',
      'BRIDGE_CONFIG',
      'BRIDGE_UPSTREAM_TIMEOUT_MS',
    ])
      expect(stdout).toContain(name);
  });

  it('serves curl, logs JSON lines, and exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [MAIN, '--listen', '127.0.0.1:0'], {
      env: { PATH: process.env['PATH'] ?? '', ODOO_URL: odoo.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    while (!/"url":"([^"]+)"/.test(out)) await once(child.stdout, 'data');
    const url = /"url":"([^"]+)"/.exec(out)?.[1] ?? '';
    const { stdout } = await run('curl', [
      '-s',
      '-H',
      'Content-Type: application/json',
      '-d',
      '{"jsonrpc":"2.0","method":"call","params":{"service":"common","method":"version","args":[]},"id":1}',
      `${url}/jsonrpc`,
    ]);
    expect(JSON.parse(stdout)).toEqual({
      jsonrpc: '2.0',
      id: 1,
      result: {
        server_version: '19.0',
        server_version_info: [19, 0, 0, 'final', 0, ''],
        server_serie: '19.0',
        protocol_version: 1,
      },
    });
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(0);
    expect(out).toMatch(/"msg":"legacy call"/);
  });
});
