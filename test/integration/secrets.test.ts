/**
 * No password or API key ever appears in what the bridge logs or in a fault, whatever happens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonrpcCall, xmlrpcCall } from '../support/clients.ts';
import { KEYS, startStack, type Stack } from '../support/harness.ts';

const WRONG = 'c0ffee'.repeat(6) + 'beef';
const DOCS = KEYS.lab2Admin;

describe('secrets', () => {
  let stack: Stack;
  const answers: string[] = [];
  beforeAll(async () => {
    stack = await startStack({ config: { docsKey: DOCS, logLevel: 'trace' } });
    const o = `${stack.bridge.url}/xmlrpc/2/object`;
    const c = `${stack.bridge.url}/xmlrpc/2/common`;
    const calls: Array<Promise<unknown>> = [
      xmlrpcCall(c, 'login', ['lab', 'admin', KEYS.labAdmin]),
      xmlrpcCall(c, 'login', ['lab', 'admin', WRONG]),
      xmlrpcCall(c, 'authenticate', ['lab', 'demo', KEYS.labDemo, {}]),
      xmlrpcCall(o, 'execute_kw', [
        'lab',
        2,
        KEYS.labAdmin,
        'res.partner',
        'search_read',
        [[]],
        { limit: 1 },
      ]),
      xmlrpcCall(o, 'execute_kw', ['lab', 2, WRONG, 'res.partner', 'search', [[]]]),
      xmlrpcCall(o, 'execute_kw', ['lab', 5, KEYS.labDemo, 'ir.config_parameter', 'get_param', ['a', 'b']]),
      xmlrpcCall(o, 'execute_kw', [
        'lab',
        2,
        KEYS.labAdmin,
        'res.partner',
        'write',
        [[999999], { name: KEYS.labAdmin }],
      ]),
      xmlrpcCall(o, 'execute_kw', ['nosuchdb', 2, KEYS.labAdmin, 'res.partner', 'search', [[]]]),
      jsonrpcCall(stack.bridge.url, 'object', 'execute_kw', ['lab', 2, WRONG, 'res.partner', 'search', [[]]]),
      jsonrpcCall(stack.bridge.url, 'common', 'login', ['lab', 'admin', KEYS.labAdmin]),
    ];
    for (const a of await Promise.all(calls)) answers.push(JSON.stringify(a));
  });
  afterAll(() => stack.close());

  it('logged one line per call', () => {
    expect(stack.logs.filter((l) => l.includes('"msg":"legacy call"'))).toHaveLength(10);
  });

  it('logged no key or password, at trace level', () => {
    const all = stack.logs.join('');
    for (const secret of [KEYS.labAdmin, KEYS.labDemo, DOCS, WRONG]) expect(all).not.toContain(secret);
  });

  it('answered no fault containing a key', () => {
    const faults = answers.filter((a) => a.includes('fault') || a.includes('error'));
    expect(faults.length).toBeGreaterThan(3);
    for (const secret of [KEYS.labAdmin, KEYS.labDemo, DOCS, WRONG])
      for (const f of faults) expect(f).not.toContain(secret);
  });
});
