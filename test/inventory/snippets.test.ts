/**
 * The replacement of each legacy function and its curl / Python snippets: placeholders for every
 * secret, shell and Python quoting that survives hostile values, and the snippets actually parse
 * (the Python one with CPython's own compiler, the curl one with bash -n).
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { jsonToPython, replacementFor, shellQuote } from '../../src/inventory/snippets.ts';
import { hasPython } from '../support/run-python.ts';

const opts = { dbHeader: true };

/** Exit status of `cmd args` fed `input` on stdin (asynchronous: never blocks the test process). */
function status(cmd: string, args: string[], input: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'ignore'] });
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
    child.stdin.end(input);
  });
}

describe('replacementFor', () => {
  it('turns an object call into POST /json/2/<model>/<method> with the computed body', () => {
    const r = replacementFor(
      {
        service: 'object',
        function: 'execute_kw',
        model: 'res.partner',
        method: 'search_read',
        db: 'lab',
        body: '{"domain": [["active", "=", true]], "fields": ["name"], "context": {"lang": null}}',
      },
      opts,
    );
    expect(r.kind).toBe('json2');
    expect(r.request).toBe('POST /json/2/res.partner/search_read');
    expect(r.curl).toBe(
      [
        `curl -sS -X POST "$ODOO_URL/json/2/res.partner/search_read" \\`,
        `  -H "Authorization: bearer $ODOO_API_KEY" \\`,
        `  -H 'X-Odoo-Database: lab' \\`,
        `  -H 'Content-Type: application/json; charset=utf-8' \\`,
        `  -d '{"domain": [["active", "=", true]], "fields": ["name"], "context": {"lang": null}}'`,
      ].join('\n'),
    );
    expect(r.python).toBe(
      [
        'import os',
        '',
        'import requests',
        '',
        'response = requests.post(',
        `    f"{os.environ['ODOO_URL']}/json/2/res.partner/search_read",`,
        '    headers={',
        `        "Authorization": f"bearer {os.environ['ODOO_API_KEY']}",`,
        '        "X-Odoo-Database": "lab",',
        '    },',
        '    json={"domain": [["active", "=", True]], "fields": ["name"], "context": {"lang": None}},',
        ')',
        'response.raise_for_status()',
        'print(response.json())',
      ].join('\n'),
    );
  });

  it('leaves X-Odoo-Database out when the db is unknown or ODOO_DB_HEADER=never', () => {
    const call = {
      service: 'object',
      function: 'execute',
      model: 'res.partner',
      method: 'read',
      body: '{"ids": [1]}',
    };
    expect(replacementFor(call, opts).curl).not.toContain('X-Odoo-Database');
    expect(replacementFor({ ...call, db: 'lab' }, { dbHeader: false }).python).not.toContain(
      'X-Odoo-Database',
    );
  });

  it('says when the arguments are unknown or cut, and refuses to build a path from a bad name', () => {
    const unknown = replacementFor(
      { service: 'object', function: 'execute_kw', model: 'res.partner', method: 'x' },
      opts,
    );
    expect(unknown.note).toMatch(/did not get as far as naming its arguments/);
    expect(unknown.body).toBe('{}');
    const cut = replacementFor(
      {
        service: 'object',
        function: 'execute_kw',
        model: 'm',
        method: 'create',
        body: '{"vals_list": ["…"]}',
        truncated: true,
      },
      opts,
    );
    expect(cut).toMatchObject({ truncated: true, note: expect.stringMatching(/cut short/) });
    const bad = replacementFor(
      { service: 'object', function: 'execute_kw', model: 'a/b"; rm -rf /', method: 'x' },
      opts,
    );
    expect(bad).toEqual({ kind: 'none', note: expect.any(String) });
  });

  it('has an answer for every legacy function, with placeholders for every secret', () => {
    const fns: Record<string, string[]> = {
      common: ['version', 'about', 'login', 'authenticate', 'set_loglevel'],
      db: [
        'list',
        'db_exist',
        'server_version',
        'list_lang',
        'list_countries',
        'create_database',
        'duplicate_database',
        'drop',
        'dump',
        'restore',
        'change_admin_password',
        'rename',
        'migrate_databases',
      ],
    };
    const kinds: Record<string, string> = {};
    for (const [service, list] of Object.entries(fns))
      for (const fn of list) {
        const r = replacementFor({ service, function: fn, db: 'lab' }, opts);
        kinds[`${service}.${fn}`] = `${r.kind} ${r.request ?? ''}`.trim();
        expect(r.note.length, fn).toBeGreaterThan(10);
      }
    expect(kinds).toEqual({
      'common.version': 'http GET /web/version',
      'common.about': 'http GET /web/version',
      'common.login': 'json2 POST /json/2/res.users/context_get',
      'common.authenticate': 'json2 POST /json/2/res.users/context_get',
      'common.set_loglevel': 'none',
      'db.list': 'http POST /web/database/list',
      'db.db_exist': 'none',
      'db.server_version': 'http GET /web/version',
      'db.list_lang': 'json2 POST /json/2/res.lang/search_read',
      'db.list_countries': 'json2 POST /json/2/res.country/search_read',
      'db.create_database': 'http POST /web/database/create',
      'db.duplicate_database': 'http POST /web/database/duplicate',
      'db.drop': 'http POST /web/database/drop',
      'db.dump': 'http POST /web/database/backup',
      'db.restore': 'http POST /web/database/restore',
      'db.change_admin_password': 'http POST /web/database/change_password',
      'db.rename': 'none',
      'db.migrate_databases': 'none',
    });
    const drop = replacementFor({ service: 'db', function: 'drop', db: 'lab' }, opts);
    expect(drop.curl).toContain(`--data-urlencode "master_pwd=$ODOO_MASTER_PASSWORD"`);
    expect(drop.curl).toContain(`--data-urlencode 'name=lab'`);
    expect(drop.python).toContain(`"master_pwd": os.environ["ODOO_MASTER_PASSWORD"],`);
    const restore = replacementFor({ service: 'db', function: 'restore', db: 'lab' }, opts);
    expect(restore.curl).toContain(`-F 'backup_file=@backup.zip'`);
    expect(restore.python).toContain(`files={"backup_file": open("backup.zip", "rb")},`);
    expect(replacementFor({ service: 'db', function: 'dump', db: 'lab' }, opts).curl).toContain(
      `-o 'backup.zip'`,
    );
  });
});

describe('quoting', () => {
  it('single-quotes shell words, quotes included', () => {
    expect(shellQuote(`it's $HOME`)).toBe(`'it'\\''s $HOME'`);
  });

  it('writes JSON as a Python literal without touching strings', () => {
    expect(jsonToPython('{"a": true, "b": [false, null], "c": "true null \\" false", "d": 1.5e3}')).toBe(
      '{"a": True, "b": [False, None], "c": "true null \\" false", "d": 1.5e3}',
    );
  });

  it.skipIf(!hasPython)(
    'snippets with hostile values still parse: Python compiles them, bash -n reads them',
    async () => {
      const db = `it's "odd" $(touch /tmp/pwned) \\ {x} \u2028 😀`;
      const body = JSON.stringify({ name: db, vals: { note: "'; rm -rf / #" }, ok: true, none: null });
      for (const r of [
        replacementFor(
          { service: 'object', function: 'execute_kw', model: 'res.partner', method: 'create', db, body },
          opts,
        ),
        replacementFor({ service: 'db', function: 'drop', db }, opts),
        replacementFor({ service: 'db', function: 'restore', db }, opts),
      ]) {
        expect(
          await status(
            'python3',
            ['-c', 'import sys; compile(sys.stdin.read(), "snippet", "exec")'],
            r.python ?? '',
          ),
        ).toBe(0);
        expect(await status('bash', ['-n'], r.curl ?? '')).toBe(0);
      }
      // What bash would pass to curl: the db name exactly, nothing expanded.
      const r = replacementFor({ service: 'db', function: 'drop', db }, opts);
      const words = await new Promise<string>((resolve, reject) => {
        const child = spawn('bash', [
          '-c',
          `set -- ${r.curl
            ?.split('\n')
            .at(-1)
            ?.replace(/^\s*--data-urlencode /, '')}; printf %s "$1"`,
        ]);
        const out: Buffer[] = [];
        child.stdout.on('data', (c: Buffer) => out.push(c));
        child.on('error', reject);
        child.on('close', () => resolve(Buffer.concat(out).toString()));
      });
      expect(words).toBe(`name=${db}`);
    },
  );
});
