/**
 * The conformance table: every legacy `common`/`object`/`db` capture of the real Odoo 19, replayed
 * through the bridge (in front of the fake JSON-2 Odoo) by real clients, must get the answer Odoo
 * gave: same value with the same Python types, same fault code and message (for generic faults,
 * the same last traceback line), same JSON-RPC error object.
 *
 * Python's xmlrpc.client and urllib+json run every case; the `xmlrpc` npm client runs the
 * XML-RPC ones again.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import xmlrpc from 'xmlrpc';
import { loadCapture } from '../support/captures.ts';
import { CAPTURES_DIR, KEY_MAP, startStack, type Stack } from '../support/harness.ts';
import { runPython } from '../support/run-python.ts';

/** Every legacy capture (4b-*): common, object and db (4f-* are db calls checked in test/integration/db.test.ts). */
const CASES = readdirSync(CAPTURES_DIR)
  .filter((f) => /^4b-.*\.json$/.test(f))
  .map((f) => f.replace(/\.json$/, ''))
  .sort();

const PY_CLIENT = fileURLToPath(new URL('../clients/py_conformance.py', import.meta.url));

describe('legacy captures replayed with Python xmlrpc.client / json', () => {
  let stack: Stack;
  let results: Record<string, { ok: boolean; detail: string }>;

  beforeAll(async () => {
    stack = await startStack();
    results = await runPython(PY_CLIENT, {
      url: stack.bridge.url,
      captures_dir: CAPTURES_DIR,
      cases: CASES,
      keys: KEY_MAP,
    });
  });
  afterAll(() => stack.close());

  it('covers the legacy common, object and db captures', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(54);
  });

  for (const id of CASES) {
    it(`${id}: ${loadCapture(id).description}`, () => {
      expect(results[id], `no result for ${id}`).toBeDefined();
      expect(results[id]?.detail).toBeTypeOf('string');
      expect(results[id]?.ok, results[id]?.detail).toBe(true);
    });
  }
});

describe('legacy XML-RPC captures replayed with the xmlrpc npm client', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  const xmlCases = CASES.filter(
    (id) => loadCapture(id).decoded_request && loadCapture(id).request.path.startsWith('/xmlrpc'),
  );
  for (const id of xmlCases) {
    it(id, async () => {
      const cap = loadCapture(id);
      const req = cap.decoded_request;
      if (!req) return;
      const service = cap.request.path.split('/').at(-1) ?? '';
      const params = [...req.params];
      const password = params[2];
      if ((password === 'admin' || password === 'demo') && (service === 'object' || service === 'common')) {
        const key = KEY_MAP[`${String(params[0])}/${String(params[1])}`];
        if (key) params[2] = key;
      }
      const client = xmlrpc.createClient(`${stack.bridge.url}${cap.request.path}`);
      const answer = await new Promise<{
        value?: unknown;
        fault?: { faultCode: unknown; faultString: string };
      }>((resolve, reject) =>
        client.methodCall(req.methodName, params, (err: unknown, value: unknown) => {
          if (!err) return resolve({ value });
          const f = err as { faultCode?: unknown; faultString?: string };
          if (f.faultCode !== undefined)
            return resolve({ fault: { faultCode: f.faultCode, faultString: f.faultString ?? '' } });
          reject(err as Error);
        }),
      );
      const expected = cap.decoded_response ?? {};
      if (expected.fault) {
        expect(answer.fault?.faultCode).toBe(expected.fault.faultCode);
        const last = (s: string) => s.trimEnd().split('\n').at(-1) ?? '';
        if (expected.fault.faultCode === 1 || expected.fault.faultString.startsWith('Traceback')) {
          if (id.includes('unknown-db'))
            expect(last(answer.fault?.faultString ?? '')).toMatch(/database "nosuchdb" does not exist/);
          else expect(last(answer.fault?.faultString ?? '')).toBe(last(expected.fault.faultString));
        } else expect(answer.fault?.faultString).toBe(expected.fault.faultString);
      } else {
        expect(answer.fault).toBeUndefined();
        expect(answer.value).toEqual(expected.result);
      }
    });
  }
});
