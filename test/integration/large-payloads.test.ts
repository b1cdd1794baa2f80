/**
 * Large payloads as integrations move documents: 2 MiB attachments (base64, as Odoo's binary
 * fields hold them) and long texts, created and read back through the bridge by Python's own
 * clients, four at a time, each compared with what the (fake) Odoo holds. Long texts cross as the
 * bytes they came in (protocol/large-texts.ts, json-to-xml.ts): these show nothing is lost or
 * mixed up between concurrent calls, whatever the text holds (escapes, markup, non-ASCII).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEYS, startStack, type Stack } from '../support/harness.ts';
import { runPython } from '../support/run-python.ts';
import { xmlrpcCall } from '../support/clients.ts';

const PY_ATTACHMENTS = new URL('../clients/py_attachments.py', import.meta.url).pathname;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
}, 60_000);
afterAll(() => stack.close());

describe('attachments and long texts through the bridge', () => {
  it('reads a long model name as the string it is (only arguments stay bytes)', async () => {
    const model = 'x'.repeat(1100 * 1024);
    const answer = await xmlrpcCall(`${stack.bridge.url}/xmlrpc/2/object`, 'execute_kw', [
      'lab',
      2,
      KEYS.labAdmin,
      model,
      'read',
      [[1]],
    ]);
    expect(answer.fault?.faultString).toBe(`Object ${model} doesn't exist`);
  });

  it('arrive and come back exactly, over XML-RPC and JSON-RPC, four calls at once', async () => {
    const run = 'x'.repeat(1200 * 1024);
    const texts = [
      `<p>${run} & "quoted" \\ é 😀</p>`, // escapes in JSON, entities in XML: the ordinary path
      `${run}é😀日${run}`, // plain, non-ASCII: kept as bytes
      `${run}\n${run}`, // a line feed: the ordinary path
      `${'é'.repeat(700 * 1024)}`, // two-byte characters only: kept as bytes
    ];
    const { checks } = await runPython<{ checks: { what: string; same: boolean }[] }>(
      PY_ATTACHMENTS,
      {
        bridge: stack.bridge.url,
        odoo: stack.odoo.url,
        db: 'lab',
        uid: 2,
        key: KEYS.labAdmin,
        mib: 2,
        texts,
      },
      120_000,
    );
    expect(checks).toHaveLength(3 * (4 + texts.length));
    expect(checks.filter((c) => !c.same)).toEqual([]);
  }, 120_000);
});
