/**
 * Several upstreams (issue 18, item 1): BRIDGE_CONFIG `upstreams:` read strictly (every problem one
 * line naming its entry; start-up stops on one; a reload with one keeps the running routes), calls
 * routed by database to two JSON-2 servers (the first matching entry wins), a database no entry
 * serves answered with Odoo's own fault, db.list as the union of what each serves, readyz per
 * upstream. Python's xmlrpc.client over HTTP.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readConfigFile } from '../../src/config.ts';
import { checkUpstreams } from '../../src/upstream/upstream-settings.ts';
import { startFakeOdoo, type FakeOdoo } from '../support/fake-odoo.ts';
import { KEYS, startStack, type Stack } from '../support/harness.ts';
import { runPython } from '../support/run-python.ts';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const PY_CALLS = fileURLToPath(new URL('../clients/py_calls.py', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'bridge-upstreams-'));
const run = promisify(execFile);
let stack: Stack | undefined;
const others: FakeOdoo[] = [];
afterEach(async () => {
  await stack?.close();
  stack = undefined;
  for (const o of others.splice(0)) await o.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type PyAnswer = { value?: unknown; fault?: { code: number; string: string } };

describe('upstreams in BRIDGE_CONFIG', () => {
  it('names every problem of an entry in one line', () => {
    const problems: string[] = [];
    checkUpstreams(
      [
        { name: 'old', url: 'http://odoo17:8069', mode: 'native', databases: ['crm'] },
        { name: 'old', url: 'ftp://odoo19', mode: 'translated' },
        { name: 'x y', url: 'http://u:p@odoo', databases: [] },
        { name: 'n', url: 'http://odoo', mode: 'native', shadow: 0.5, colour: 'blue' },
      ],
      'bridge.yaml',
      problems,
    );
    expect(problems).toEqual([
      'bridge.yaml: upstreams[1]: name old is used by another upstream',
      'bridge.yaml: upstreams[1] (old): url must be an http:// or https:// URL',
      'bridge.yaml: upstreams[1] (old): mode must be translate (JSON-2, Odoo 19+) or native (legacy calls forwarded as they came)',
      'bridge.yaml: upstreams[2]: name must be 1 to 32 letters, digits, _ or - (it names the upstream in logs and metrics)',
      'bridge.yaml: upstreams[2]: url must not carry credentials, a query or a fragment',
      'bridge.yaml: upstreams[2]: databases must be a list of database names (with * for any run of characters)',
      'bridge.yaml: upstreams[3]: colour: unknown key; known: name, url, mode, databases, shadow, db_header, timeout_seconds, docs_key_env, service_key_env',
      'bridge.yaml: upstreams[3] (n): shadow compares translated calls: it needs mode translate',
    ]);
    expect(problems.join('\n')).not.toContain('u:p@');
  });

  it('stops start-up with one line naming the problem (ODOO_URL not needed with upstreams)', async () => {
    const file = join(dir, 'dup.yaml');
    writeFileSync(
      file,
      'upstreams:\n  - {name: a, url: "http://127.0.0.1:9"}\n  - {name: a, url: "http://127.0.0.1:10"}\n',
    );
    const r = await run(process.execPath, [MAIN], {
      env: { PATH: process.env['PATH'] ?? '', BRIDGE_CONFIG: file },
    }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`odoo-rpc-bridge: ${file}: upstreams[1]: name a is used by another upstream\n`);
  });

  it('routes each database to its server, answers Odoo’s fault for one none serves, lists the union', async () => {
    const second = await startFakeOdoo();
    others.push(second);
    const first = await startFakeOdoo();
    others.push(first);
    const file = join(dir, 'two.yaml');
    writeFileSync(
      file,
      `upstreams:\n  - {name: a, url: "${first.url}", databases: [lab]}\n  - {name: b, url: "${second.url}", databases: ["lab2", "lab3*"]}\n`,
    );
    stack = await startStack({ config: { configPath: file, file: readConfigFile(file) } });
    const answers = await runPython<PyAnswer[]>(PY_CALLS, {
      url: stack.bridge.url,
      calls: [
        {
          service: 'object',
          method: 'execute_kw',
          params: ['lab', 2, KEYS.labAdmin, 'res.partner', 'search_count', [[]]],
        },
        {
          service: 'object',
          method: 'execute_kw',
          params: ['lab2', 2, KEYS.lab2Admin, 'res.partner', 'search_count', [[]]],
        },
        {
          service: 'object',
          method: 'execute_kw',
          params: ['other', 2, KEYS.labAdmin, 'res.partner', 'search_count', [[]]],
        },
        { service: 'db', method: 'list', params: [] },
      ],
    });
    expect(typeof answers[0]?.value).toBe('number');
    expect(typeof answers[1]?.value).toBe('number');
    expect(answers[2]?.fault?.string).toContain(
      'database "other" does not exist (no upstream of odoo-rpc-bridge serves it',
    );
    // Each fake lists lab and lab2; each database is listed once, from the server that serves it.
    expect(answers[3]?.value).toEqual(['lab', 'lab2']);
    const json2 = (o: FakeOdoo) =>
      o.requests
        .filter((r) => r.path.startsWith('/json/2/res.partner'))
        .map((r) => String(r.headers['x-odoo-database']));
    expect(json2(first)).toEqual(['lab']);
    expect(json2(second)).toEqual(['lab2']);
    const line = stack.logs.find((l) => l.includes('"db":"lab2"') && l.includes('"msg":"legacy call"'));
    expect(line).toContain('"upstream":"b"');
    const ready = (await (await fetch(`${stack.bridge.url}/_bridge/readyz`)).json()) as Record<
      string,
      unknown
    >;
    expect(ready).toMatchObject({ status: 'ok', upstreams: { a: { state: 'up' }, b: { state: 'up' } } });
    // b stops: reported, not unready (the first upstream decides).
    await second.stopListening();
    const one = await fetch(`${stack.bridge.url}/_bridge/readyz`);
    expect(one.status).toBe(200);
    expect(await one.json()).toMatchObject({ upstreams: { b: { state: 'down' } } });
    await second.listenAgain();
    // The first stops: still ready while another answers (an old server down for its upgrade).
    await first.stopListening();
    const other = await fetch(`${stack.bridge.url}/_bridge/readyz`);
    expect(other.status).toBe(200);
    expect(await other.json()).toMatchObject({ upstreams: { a: { state: 'down' }, b: { state: 'up' } } });
    await first.listenAgain();
  });

  it('a reload with a bad upstreams section keeps the running routes and says why', async () => {
    const file = join(dir, 'reload.yaml');
    const fake = await startFakeOdoo();
    others.push(fake);
    writeFileSync(file, `upstreams:\n  - {name: a, url: "${fake.url}"}\n`);
    stack = await startStack({ config: { configPath: file, file: readConfigFile(file) } });
    writeFileSync(file, `upstreams:\n  - {name: a, url: "${fake.url}", mode: nativ}\n`);
    await stack.bridge.parts.credentials.reload('test');
    expect(stack.bridge.parts.routes.all().map((u) => `${u.name} ${u.mode}`)).toEqual(['a translate']);
    expect(stack.logs.join('')).toContain('mode must be translate (JSON-2, Odoo 19+) or native');
    const answer = await runPython<PyAnswer[]>(PY_CALLS, {
      url: stack.bridge.url,
      calls: [
        {
          service: 'object',
          method: 'execute_kw',
          params: ['lab', 2, KEYS.labAdmin, 'res.partner', 'search_count', [[]]],
        },
      ],
    });
    expect(typeof answer[0]?.value).toBe('number');
  });
});
