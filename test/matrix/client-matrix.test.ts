/**
 * The legacy client-library matrix: real client libraries, each run as a child process (never a
 * synchronous spawn: the bridge under test lives in this process) against the bridge in front of
 * the fake Odoo 19. Each client (test/clients/matrix/) connects, logs in, reads, calls
 * search_read with positional arguments, creates / writes / unlinks a partner with a non-ASCII
 * name, and checks the shape of a fault, printing one JSON line per step. This file prints
 * `client version: N passed, N failed` per client and asserts every step passes.
 *
 * A client whose runtime is missing fails when `CI` is set (.ci/run installs them all), and is
 * skipped with the reason otherwise.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { hashPassword } from '../../src/auth/password-hash.ts';
import type { BridgeAuthenticator } from '../../src/auth/authenticator.ts';
import { parseConfigFile } from '../../src/config.ts';
import { KEYS, startStack, type Stack } from '../support/harness.ts';

const DIR = fileURLToPath(new URL('../clients/matrix/', import.meta.url));
const STEPS = ['connect', 'login', 'read', 'search_read', 'create', 'write', 'unlink', 'fault'];
const KOLO_SRC = '/usr/share/gocode/src/github.com/kolo/xmlrpc';
/** odoorpc is Debian's package, for Debian's Python (`python3` on PATH may be another one). */
const DEBIAN_PYTHON = '/usr/bin/python3';
/** The lab admin's password in the fake (its /web/session/authenticate takes the login). */
const ADMIN_PASSWORD = 'admin';

/**
 * Steps known to fail, by client and step, with the reason (a bridge bug not fixed yet). The
 * test asserts exactly these fail, so a fixed one must be removed from here. None at present.
 */
const KNOWN_FAILURES: Record<string, Record<string, string>> = {};

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when the command could not be started at all (ENOENT: not installed). */
  spawnError?: string;
}

function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, stdout: '', stderr: '', spawnError: e.message });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

/** Why a probe says the runtime is missing, or null when it is there. */
async function missing(cmd: string, args: string[], what: string): Promise<string | null> {
  const r = await run(cmd, args, { timeoutMs: 30_000 });
  if (r.code === 0) return null;
  return `${what} (\`${[cmd, ...args].join(' ')}\`: ${r.spawnError ?? (r.stderr.trim().split('\n').at(-1) || `exit ${r.code}`)})`;
}

interface Prepared {
  cmd: string;
  args: string[];
  env?: Record<string, string>;
}

interface Client {
  name: string;
  /** `passthrough`: the password is the admin's API key; `mapped`: its password, via a credential map. */
  stack: 'passthrough' | 'mapped';
  /** Resolves null when the runtime is there, else the reason it is not. */
  probe(): Promise<string | null>;
  /** What to run (the Go client is built here first). */
  prepare(): Promise<Prepared>;
}

const node = (script: string): Pick<Client, 'probe' | 'prepare'> => ({
  probe: async () => null, // the project's own Node and devDependencies
  prepare: async () => ({ cmd: process.execPath, args: [join(DIR, script)] }),
});

/** Builds the kolo/xmlrpc client offline, in GOPATH mode, into a cache dir outside the tree. */
async function buildGo(): Promise<Prepared> {
  const base = join(tmpdir(), 'odoo-rpc-bridge-matrix-go');
  mkdirSync(join(base, 'gopath'), { recursive: true });
  const bin = join(base, 'kolo-matrix');
  const env = {
    ...process.env,
    GO111MODULE: 'off',
    GOPATH: `/usr/share/gocode:${join(base, 'gopath')}`,
    GOCACHE: join(base, 'cache'),
    GOFLAGS: '',
    GOPROXY: 'off',
    GOTOOLCHAIN: 'local',
  };
  const built = await run('go', ['build', '-o', bin, join(DIR, 'go_kolo', 'main.go')], {
    env,
    timeoutMs: 240_000,
  });
  if (built.code !== 0) throw new Error(`go build failed: ${built.spawnError ?? built.stderr}`);
  const pkg = await run('dpkg-query', ['-W', '-f=${Version}', 'golang-github-kolo-xmlrpc-dev']);
  const go = await run('go', ['env', 'GOVERSION']);
  const version = `${pkg.code === 0 ? pkg.stdout.trim() : 'unknown'} (${go.stdout.trim() || 'go'})`;
  return { cmd: bin, args: [], env: { MATRIX_CLIENT_VERSION: version } };
}

const CLIENTS: Client[] = [
  ...['/xmlrpc/2', '/xmlrpc'].map((path): Client => ({
    name: `python xmlrpc.client ${path}`,
    stack: 'passthrough',
    probe: () => missing('python3', ['-c', 'import xmlrpc.client'], 'python3'),
    prepare: async () => ({ cmd: 'python3', args: [join(DIR, 'python_xmlrpc.py'), path] }),
  })),
  {
    name: 'odoorpc',
    stack: 'mapped',
    probe: () =>
      missing(
        DEBIAN_PYTHON,
        ['-c', 'import odoorpc'],
        'odoorpc for /usr/bin/python3 (Debian python3-odoorpc)',
      ),
    prepare: async () => ({ cmd: DEBIAN_PYTHON, args: [join(DIR, 'python_odoorpc.py')] }),
  },
  { name: 'xmlrpc (npm)', stack: 'passthrough', ...node('node_xmlrpc.ts') },
  { name: 'odoo-await', stack: 'passthrough', ...node('node_odoo_await.ts') },
  { name: 'odoo-xmlrpc', stack: 'passthrough', ...node('node_odoo_xmlrpc.ts') },
  {
    name: 'php xmlrpc',
    stack: 'passthrough',
    probe: () =>
      missing(
        'php',
        ['-r', 'exit(function_exists("xmlrpc_encode_request") && function_exists("iconv") ? 0 : 1);'],
        'PHP with the xmlrpc extension (Debian php-cli php-xmlrpc)',
      ),
    prepare: async () => ({ cmd: 'php', args: [join(DIR, 'php_xmlrpc.php')] }),
  },
  {
    name: 'ruby xmlrpc',
    stack: 'passthrough',
    probe: () =>
      missing(
        'ruby',
        ['-e', 'require "xmlrpc/client"'],
        'Ruby with its xmlrpc library (Debian ruby ruby-xmlrpc)',
      ),
    prepare: async () => ({ cmd: 'ruby', args: [join(DIR, 'ruby_xmlrpc.rb')] }),
  },
  {
    name: 'go kolo/xmlrpc',
    stack: 'passthrough',
    probe: async () =>
      (await missing('go', ['version'], 'Go (Debian golang-go)')) ??
      (existsSync(KOLO_SRC)
        ? null
        : `kolo/xmlrpc sources (Debian golang-github-kolo-xmlrpc-dev): no ${KOLO_SRC}`),
    prepare: buildGo,
  },
];

interface StepLine {
  step: string;
  ok: boolean;
  detail: string;
}

interface Outcome {
  client: string;
  version: string;
  steps: StepLine[];
}

function parseOutput(out: string): Outcome {
  const lines = out
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const head = lines[0] ?? {};
  return {
    client: String(head.client ?? '?'),
    version: String(head.version ?? '?'),
    steps: lines.slice(1).map((l) => ({ step: String(l.step), ok: l.ok === true, detail: String(l.detail) })),
  };
}

let passthrough: Stack;
let mapped: Stack;
const SUMMARY: string[] = [];

beforeAll(async () => {
  passthrough = await startStack();
  const hash = await hashPassword(ADMIN_PASSWORD, { scheme: 'pbkdf2-sha512', rounds: 1000 });
  const file = parseConfigFile(
    {
      auth: { mode: 'mapped' },
      credentials: [{ db: 'lab', login: 'admin', password_hash: hash, api_key_env: 'MATRIX_LAB_ADMIN_KEY' }],
    },
    'client matrix',
  );
  mapped = await startStack({ config: { file }, env: { MATRIX_LAB_ADMIN_KEY: KEYS.labAdmin } });
  await (mapped.bridge.parts.auth as BridgeAuthenticator).warmed;
});

afterAll(async () => {
  if (SUMMARY.length) console.log(`client matrix:\n${SUMMARY.map((l) => `  ${l}`).join('\n')}`);
  await passthrough?.close();
  await mapped?.close();
});

describe('legacy client matrix', () => {
  for (const client of CLIENTS) {
    it(
      `${client.name}: connect, login, read, search_read, create/write/unlink, fault`,
      { timeout: 300_000 },
      async (ctx: TestContext) => {
        const why = await client.probe();
        if (why) {
          const line = `${client.name}: not run: missing ${why}`;
          SUMMARY.push(line);
          console.log(line);
          if (process.env.CI) throw new Error(line);
          ctx.skip(line);
        }
        const stack = client.stack === 'mapped' ? mapped : passthrough;
        const prepared = await client.prepare();
        const r = await run(prepared.cmd, prepared.args, {
          env: {
            ...process.env,
            ...prepared.env,
            MATRIX_URL: stack.bridge.url,
            MATRIX_DB: 'lab',
            MATRIX_LOGIN: 'admin',
            MATRIX_PASSWORD: client.stack === 'mapped' ? ADMIN_PASSWORD : KEYS.labAdmin,
          },
          timeoutMs: 120_000,
        });
        const outcome = parseOutput(r.stdout);
        const failed = outcome.steps.filter((s) => !s.ok);
        const passed = outcome.steps.length - failed.length;
        const line = `${outcome.client} ${outcome.version}: ${passed} passed, ${failed.length} failed`;
        SUMMARY.push(line);
        console.log(
          [
            line,
            ...failed.map((s) => `  ${s.step}: ${s.detail}`),
            ...(r.code ? [`  exit ${r.code}: ${r.stderr}`] : []),
          ].join('\n'),
        );

        expect(r.code, r.stderr).toBe(0);
        expect(outcome.steps.map((s) => s.step)).toEqual(STEPS);
        const known = KNOWN_FAILURES[client.name] ?? {};
        expect(Object.fromEntries(failed.map((s) => [s.step, s.detail]))).toEqual(
          Object.fromEntries(Object.keys(known).map((k) => [k, expect.any(String)])),
        );
      },
    );
  }

  it('keeps the API key the clients used out of the logs', () => {
    const logs = [...passthrough.logs, ...mapped.logs].join('');
    expect(logs).toContain('legacy call');
    expect(logs).not.toContain(KEYS.labAdmin);
  });
});
