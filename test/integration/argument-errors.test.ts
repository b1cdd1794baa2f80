/**
 * Argument errors read like Odoo's (issue 20, A.1). Legacy Odoo calls the method as Python does,
 * `method(records, *args, **kwargs)`, so a call that does not fit is CPython's TypeError naming
 * the method's class (`ResPartner.write() missing 1 required positional argument: 'vals'`); JSON-2
 * refuses the same call first, in `inspect`'s words (`missing a required argument: 'vals'`).
 * Through the bridge a legacy client must read what Odoo's legacy endpoints answered: the
 * expected answers are a real Odoo 19.0's (test/fixtures/native/argument-errors.json, recorded
 * with Python's xmlrpc.client and raw JSON-RPC), asked again here through the bridge in front of
 * the fake Odoo, with Python's xmlrpc.client and JSON-RPC over HTTP.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonrpcCall, lastLine } from '../support/clients.ts';
import { KEYS, startStack, type Stack } from '../support/harness.ts';
import { hasPython, runPython } from '../support/run-python.ts';

const PY_CALLS = fileURLToPath(new URL('../clients/py_calls.py', import.meta.url));

interface NativeCase {
  id: string;
  model: string;
  method: string;
  args: unknown[];
  kw: Record<string, unknown> | null;
  xmlrpc: { faultCode: number; lastLine: string };
  jsonrpc: { name: string; message: string; arguments: unknown[] };
}

const NATIVE = JSON.parse(
  readFileSync(new URL('../fixtures/native/argument-errors.json', import.meta.url), 'utf8'),
) as { cases: NativeCase[] };

/**
 * Where the bridge's answer is not Odoo's, and why (the README's limits say so too); every other
 * recorded case must match exactly.
 */
const DIFFERENT: Record<string, { why: string; bridge: string }> = {
  A13: {
    why: "res.partner's unlink is mail.thread's override; api_doc names the class that introduces it",
    bridge: "BaseModel.unlink() got an unexpected keyword argument 'bogus'",
  },
  A15: {
    why: 'context_get is wrapped by an ormcache, whose key function Python names <lambda>',
    bridge: "ResUsers.context_get() got an unexpected keyword argument 'bogus'",
  },
};

/** Models the fake Odoo does not have: their cases cannot be asked of it. */
const FAKE_LACKS = new Set(['product.product', 'ir.fields.converter']);
const CASES = NATIVE.cases.filter((c) => !FAKE_LACKS.has(c.model));

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

const params = (c: NativeCase) => [
  'lab',
  2,
  KEYS.labAdmin,
  c.model,
  c.method,
  c.args,
  ...(c.kw === null ? [] : [c.kw]),
];
const expected = (c: NativeCase): string => DIFFERENT[c.id]?.bridge ?? c.jsonrpc.message;

describe.skipIf(!hasPython)('argument errors as legacy Odoo 19 words them', () => {
  it('the recorded cases cover what must be shown', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(17);
    const messages = CASES.map((c) => c.jsonrpc.message).join('\n');
    for (const shape of [
      'missing 1 required positional argument',
      'missing 2 required positional arguments',
      'got an unexpected keyword argument',
      'takes 2 positional arguments but 3 were given',
      'got multiple values for argument',
    ])
      expect(messages).toContain(shape);
  });

  it("XML-RPC (Python's xmlrpc.client): Odoo's fault code and last line", async () => {
    const answers = await runPython<{ fault?: { code: number; string: string } }[]>(PY_CALLS, {
      url: stack.bridge.url,
      calls: CASES.map((c) => ({ service: 'object', method: 'execute_kw', params: params(c) })),
    });
    CASES.forEach((c, i) => {
      const at = `${c.id} ${c.model}.${c.method}`;
      expect(answers[i]?.fault?.code, at).toBe(c.xmlrpc.faultCode);
      expect(lastLine(answers[i]?.fault?.string ?? ''), at).toBe(`TypeError: ${expected(c)}`);
      if (!DIFFERENT[c.id]) expect(`TypeError: ${expected(c)}`, at).toBe(c.xmlrpc.lastLine);
    });
  });

  it("JSON-RPC: Odoo's error name, message and arguments", async () => {
    const answers = await Promise.all(
      CASES.map((c) => jsonrpcCall(stack.bridge.url, 'object', 'execute_kw', params(c))),
    );
    CASES.forEach((c, i) => {
      const at = `${c.id} ${c.model}.${c.method}`;
      const data = answers[i]?.json?.error?.data;
      expect(data?.name, at).toBe(c.jsonrpc.name);
      expect(data?.message, at).toBe(expected(c));
      expect(data?.arguments, at).toEqual([expected(c)]);
    });
  });
});
