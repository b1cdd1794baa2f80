/**
 * Every JSON-2 error capture maps to the fault its legacy twin capture shows.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { faultFromJson2 } from '../../src/upstream/json2-errors.ts';
import type { UpstreamAnswer } from '../../src/upstream/odoo-client.ts';
import { CAPTURES_DIR } from '../support/captures.ts';
import { withText } from '../support/answers.ts';

interface Capture {
  request: { path: string; headers: Record<string, string> };
  response: { status: number; headers: Record<string, string>; body?: unknown; body_raw?: string };
  decoded_response?: { fault?: { faultCode: number; faultString: string } };
}
const load = (id: string): Capture =>
  JSON.parse(readFileSync(`${CAPTURES_DIR}/${id}.json`, 'utf8')) as Capture;

function answerOf(c: Capture): UpstreamAnswer {
  const ct = c.response.headers['Content-Type'] ?? '';
  const text = c.response.body_raw ?? JSON.stringify(c.response.body);
  return { status: c.response.status, contentType: ct, ...withText(text), headers: {} };
}

const PAIRS: Array<[json2: string, legacy: string]> = [
  ['4d-25-json2-err-unknown-model', '4b-31-xmlrpc-err-unknown-model'],
  ['4d-26-json2-err-unknown-method', '4b-32-xmlrpc-err-unknown-method'],
  ['4d-27-json2-err-private-method', '4b-33-xmlrpc-err-private-method'],
  ['4d-28-json2-err-wrong-arg-name', '4b-34-xmlrpc-err-wrong-kwarg'],
  ['4d-33-json2-err-access-demo', '4b-35-xmlrpc-err-access-demo'],
  ['4d-36b-json2-err-missing-record-write', '4b-36b-xmlrpc-err-missing-record-write'],
  ['4d-37-json2-err-validation', '4b-37-xmlrpc-err-validation'],
  ['4d-24-json2-err-unknown-db', '4b-38-xmlrpc-err-unknown-db'],
  ['4d-20-json2-err-bad-key', '4b-30-xmlrpc-err-bad-password'],
];
const CODES = {
  generic: 1,
  user_error: 2,
  missing_error: 2,
  redirect_warning: 2,
  access_denied: 3,
  access_error: 4,
};

describe('faultFromJson2', () => {
  for (const [j2, legacy] of PAIRS) {
    it(`${j2} gives the fault of ${legacy}`, () => {
      const c = load(j2);
      const model = c.request.path.split('/')[3] ?? '';
      const method = c.request.path.split('/')[4] ?? '';
      const db = c.request.headers['X-Odoo-Database'] ?? '';
      const fault = faultFromJson2(answerOf(c), { db, model, method, baseUrl: 'http://odoo' });
      const expected = load(legacy).decoded_response?.fault;
      expect(expected).toBeDefined();
      if (!expected) return;
      expect(CODES[fault.kind]).toBe(expected.faultCode);
      if (expected.faultCode === 1) {
        // Tracebacks differ; the last line (the exception) must match, but for a missing database
        // the bridge cannot know the PostgreSQL host, so only the class and database are compared.
        const lastLine = expected.faultString.trimEnd().split('\n').at(-1) ?? '';
        const ours = fault.debug.trimEnd().split('\n').at(-1) ?? '';
        if (legacy.includes('unknown-db')) {
          expect(ours).toMatch(/^psycopg2.OperationalError: database "nosuchdb" does not exist/);
          expect(lastLine).toMatch(/^psycopg2.OperationalError: .*database "nosuchdb" does not exist/);
        } else {
          // 4d-28 misspelled 'domian' where 4b-34 sent 'no_such_arg': same error, other name.
          const anyArg = (line: string) => line.replace(/argument '[^']*'$/, "argument '<name>'");
          expect(anyArg(ours)).toBe(anyArg(lastLine));
        }
      } else {
        expect(fault.message).toBe(expected.faultString);
      }
    });
  }

  it('says what the upstream did when it answers an HTML error page', () => {
    const f = faultFromJson2(
      {
        status: 502,
        contentType: 'text/html',
        ...withText('<html><body><h1>502 Bad Gateway</h1></body></html>'),
        headers: {},
      },
      { db: 'lab', model: 'res.partner', method: 'read', baseUrl: 'http://odoo:8069' },
    );
    expect(f.kind).toBe('generic');
    expect(f.pyName).toBe('odoo_rpc_bridge.UpstreamError');
    expect(f.message).toBe(
      'Odoo at http://odoo:8069 answered HTTP 502 (text/html) for res.partner.read: 502 Bad Gateway',
    );
  });
});
