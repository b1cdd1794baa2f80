/**
 * The credential file: its exact shape, and a clear message naming the entry for each mistake.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkAuthSettings } from '../../src/auth/credential-config.ts';
import { buildCredentialMap, readApiKey } from '../../src/auth/credential-map.ts';
import { ConfigError, parseConfigFile, readConfigFile } from '../../src/config.ts';
import { ODOO_ADMIN_HASH } from './vectors.ts';

const KEY = '040753787b83d20c2e9ba76e9a13369befc5a77a';
const entry = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  db: 'mycompany',
  login: 'integration@example.com',
  password_hash: ODOO_ADMIN_HASH,
  api_key_env: 'MYCOMPANY_KEY',
  ...over,
});
const problems = (doc: Record<string, unknown>): string[] => checkAuthSettings(doc, 'bridge.yaml').problems;

describe('auth settings', () => {
  it('reads the documented shape (YAML)', () => {
    const file = join(tmpdir(), `bridge-cred-${process.pid}.yaml`);
    writeFileSync(
      file,
      `auth:
  mode: both            # mapped | passthrough | both
credentials:
  - db: mycompany
    login: integration@example.com
    password_hash: "${ODOO_ADMIN_HASH}"   # copied from res_users.password
    api_key_file: /run/secrets/mycompany-integration   # or api_key_env: NAME
`,
    );
    const { auth } = readConfigFile(file);
    expect(auth.mode).toBe('both');
    expect(auth.credentials).toHaveLength(1);
    expect(auth.credentials[0]).toMatchObject({
      db: 'mycompany',
      login: 'integration@example.com',
      apiKey: { file: '/run/secrets/mycompany-integration' },
      hash: { scheme: 'pbkdf2-sha512', rounds: 600_000 },
    });
  });

  it('reads JSON too', () => {
    const file = join(tmpdir(), `bridge-cred-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ auth: { mode: 'mapped' }, credentials: [entry()] }));
    expect(readConfigFile(file).auth.mode).toBe('mapped');
  });

  it('defaults to passthrough without credentials, and to both with credentials but no mode', () => {
    expect(parseConfigFile({}, 'x').auth).toEqual({ mode: 'passthrough', credentials: [] });
    expect(parseConfigFile({ credentials: [entry()] }, 'x').auth.mode).toBe('both');
  });

  it.each([
    [{ auth: { mode: 'sometimes' } }, 'bridge.yaml: auth.mode must be one of mapped, passthrough, both'],
    [{ auth: 'mapped' }, 'bridge.yaml: auth must be a mapping, e.g. auth: {mode: both}'],
    [{ auth: { mode: 'both', moed: 1 } }, 'bridge.yaml: auth.moed: unknown setting (only auth.mode exists)'],
    [
      { auth: { mode: 'mapped' } },
      'bridge.yaml: auth.mode is mapped but no credentials are listed: no legacy login could succeed',
    ],
    [
      { credentials: { db: 'x' } },
      'bridge.yaml: credentials must be a list of {db, login, password_hash, api_key_file | api_key_env}',
    ],
    [
      { credentials: ['x'] },
      'bridge.yaml: credentials[0] must be a mapping {db, login, password_hash, api_key_file | api_key_env}',
    ],
    [{ credentials: [entry({ db: '' })] }, 'bridge.yaml: credentials[0]: db must be a database name'],
    [{ credentials: [entry({ login: 5 })] }, "bridge.yaml: credentials[0]: login must be the user's login"],
    [
      { credentials: [entry(), entry({ password_hash: 'admin' })] },
      'bridge.yaml: credentials[1] (mycompany/integration@example.com): password_hash: plain-text passwords are not accepted: hash it with `odoo-rpc-bridge hash`',
    ],
    [
      { credentials: [entry({ password_hash: undefined })] },
      'bridge.yaml: credentials[0] (mycompany/integration@example.com): password_hash is missing (copy it from res_users.password, or make one with odoo-rpc-bridge hash)',
    ],
    [
      { credentials: [entry({ api_key: KEY })] },
      'bridge.yaml: credentials[0] (mycompany/integration@example.com): api_key: secrets never sit in this file: give the API key with api_key_file or api_key_env',
    ],
    [
      { credentials: [entry({ api_key_file: '/run/k' })] },
      'bridge.yaml: credentials[0] (mycompany/integration@example.com): give api_key_file or api_key_env, not both',
    ],
    [
      { credentials: [entry({ api_key_env: undefined })] },
      'bridge.yaml: credentials[0] (mycompany/integration@example.com): the API key is missing: give api_key_file (e.g. a mounted secret) or api_key_env',
    ],
    [
      { credentials: [entry({ api_key_env: 'NOT-A-NAME' })] },
      'bridge.yaml: credentials[0] (mycompany/integration@example.com): api_key_env must be an environment variable name',
    ],
    [
      { credentials: [entry({ pasword_hash: 'x' })] },
      'bridge.yaml: credentials[0] (mycompany/integration@example.com): pasword_hash: unknown field (expected db, login, password_hash, api_key_file or api_key_env)',
    ],
    [
      { credentials: [entry(), entry({ api_key_env: 'OTHER' })] },
      'bridge.yaml: credentials[1] (mycompany/integration@example.com): the same db and login as credentials[0] (mycompany/integration@example.com)',
    ],
  ])('%j → %s', (doc, message) => {
    expect(problems(doc)).toContain(message);
    expect(() => parseConfigFile(doc, 'bridge.yaml')).toThrow(ConfigError);
  });

  it('lists every problem, and quotes no key or hash', () => {
    const found = problems({
      auth: { mode: 'x' },
      credentials: [
        entry({ password_hash: ODOO_ADMIN_HASH.slice(0, 60) }),
        entry({ login: 'b', api_key: KEY }),
      ],
    });
    expect(found).toHaveLength(3);
    for (const p of found) {
      expect(p).not.toContain(KEY);
      expect(p).not.toContain(ODOO_ADMIN_HASH.slice(25, 50));
    }
  });

  it('warns that credentials are unused in passthrough mode', () => {
    expect(
      checkAuthSettings({ auth: { mode: 'passthrough' }, credentials: [entry()] }, 'f').warnings,
    ).toEqual(['f: auth.mode is passthrough: the 1 credentials listed are not used']);
  });

  it('the same login in two databases is two entries', () => {
    expect(problems({ credentials: [entry(), entry({ db: 'other' })] })).toEqual([]);
  });
});

describe('API keys', () => {
  it('reads a key file (trailing newline and all) and an environment variable', () => {
    const file = join(tmpdir(), `bridge-key-${process.pid}`);
    writeFileSync(file, `${KEY}\n`);
    expect(readApiKey({ file }, {})).toEqual({ ok: true, key: KEY });
    expect(readApiKey({ env: 'K' }, { K: KEY })).toEqual({ ok: true, key: KEY });
  });

  it('says why a key cannot be read, without quoting the file', () => {
    const file = join(tmpdir(), `bridge-key-bad-${process.pid}`);
    writeFileSync(file, `${KEY} ${KEY}\n`);
    expect(readApiKey({ file: '/nonexistent/key' }, {})).toEqual({
      ok: false,
      problem: 'api_key_file /nonexistent/key: the file does not exist',
    });
    expect(readApiKey({ env: 'K' }, {})).toEqual({
      ok: false,
      problem: 'api_key_env K: the variable is not set',
    });
    const bad = readApiKey({ file }, {});
    expect(bad).toEqual({
      ok: false,
      problem: `api_key_file ${file}: does not hold one API key (16 to 512 printable characters, no spaces)`,
    });
  });

  it('a reload keeps the previous key of an entry whose key cannot be read now', () => {
    const settings = checkAuthSettings({ credentials: [entry()] }, 'f').settings;
    const first = buildCredentialMap(settings, { MYCOMPANY_KEY: KEY });
    expect(first.problems).toEqual([]);
    const second = buildCredentialMap(settings, {}, first.map);
    expect(second.map.find('mycompany', 'integration@example.com')?.apiKey).toBe(KEY);
    expect(second.problems).toEqual([
      'f: credentials[0] (mycompany/integration@example.com): api_key_env MYCOMPANY_KEY: the variable is not set; keeping the key read before',
    ]);
  });
});
