/**
 * Signature drift (issue 6, item 4): a module renamed a parameter after the bridge cached the
 * method's description. JSON-2 refuses the old name with its 422 (argument binding happens before
 * the method runs), the bridge describes the method again and sends the call once more, only when
 * the names it produced from positional arguments change, and never over an override.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigFile } from '../../src/config.ts';
import { lastLine, xmlrpcCall } from '../support/clients.ts';
import { KEYS, startStack, type Stack } from '../support/harness.ts';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const PARAM = 'ir.config_parameter';
const call = (s: Stack, model: string, method: string, args: unknown[], kw?: Record<string, unknown>) =>
  xmlrpcCall(`${s.bridge.url}/xmlrpc/2/object`, 'execute_kw', [
    'lab',
    2,
    KEYS.labAdmin,
    model,
    method,
    args,
    ...(kw ? [kw] : []),
  ]);
/** JSON-2 calls and description fetches, in order, after the first call. */
const upstream = (s: Stack) =>
  s.odoo.requests
    .filter((r) => r.path.startsWith('/json/2/') || r.path.startsWith('/doc-bearer/'))
    .filter((r) => r.path !== '/json/2/res.users/context_get') // the key check
    .map((r) => (r.path.startsWith('/doc-bearer/') ? ['doc', r.path] : [r.path, r.json]));
const driftCount = async (s: Stack, outcome: string) => {
  const text = await (await fetch(`${s.bridge.url}/_bridge/metrics`)).text();
  const m = new RegExp(`^odoo_bridge_signature_drift_total\\{outcome="${outcome}"\\} (\\d+)$`, 'm').exec(
    text,
  );
  return Number(m?.[1]);
};
const driftLogs = (s: Stack) => s.logs.filter((l) => l.includes('refused an argument name'));

/** get_param('web.base.url') once, so that the description of ir.config_parameter is cached. */
async function warm(s: Stack): Promise<unknown> {
  const a = await call(s, PARAM, 'get_param', ['web.base.url']);
  expect(a.fault).toBeUndefined();
  s.odoo.requests.length = 0;
  return a.value;
}

describe('signature drift', () => {
  it('a renamed required parameter: described again, sent again once, answered', async () => {
    stack = await startStack();
    const url = await warm(stack);
    stack.odoo.renameParam('lab', PARAM, 'get_param', 'key', 'name');
    const a = await call(stack, PARAM, 'get_param', ['web.base.url']);
    expect(a.fault).toBeUndefined();
    expect(a.value).toBe(url);
    expect(upstream(stack)).toEqual([
      ['/json/2/ir.config_parameter/get_param', { key: 'web.base.url' }],
      ['doc', '/doc-bearer/ir.config_parameter.json'],
      ['/json/2/ir.config_parameter/get_param', { name: 'web.base.url' }],
    ]);
    expect(await driftCount(stack, 'retried')).toBe(1);
    const logs = driftLogs(stack);
    expect(logs).toHaveLength(1);
    expect(JSON.parse(logs[0] ?? '{}')).toMatchObject({
      level: 40,
      model: PARAM,
      method: 'get_param',
      argument: 'name',
      outcome: 'retried',
    });
    // No values and no key in the warning.
    expect(logs[0]).not.toContain('web.base.url');
    expect(logs[0]).not.toContain(KEYS.labAdmin);
    // The new description is cached: the next call goes straight through.
    stack.odoo.requests.length = 0;
    expect((await call(stack, PARAM, 'get_param', ['web.base.url'])).value).toBe(url);
    expect(upstream(stack)).toEqual([['/json/2/ir.config_parameter/get_param', { name: 'web.base.url' }]]);
  });

  it('a renamed optional parameter (an unexpected keyword): sent again under the new name', async () => {
    stack = await startStack();
    await warm(stack);
    stack.odoo.renameParam('lab', PARAM, 'get_param', 'default', 'fallback');
    const a = await call(stack, PARAM, 'get_param', ['no.such.param', 'dflt']);
    expect(a.value).toBe('dflt');
    expect(upstream(stack)).toEqual([
      ['/json/2/ir.config_parameter/get_param', { key: 'no.such.param', default: 'dflt' }],
      ['doc', '/doc-bearer/ir.config_parameter.json'],
      ['/json/2/ir.config_parameter/get_param', { key: 'no.such.param', fallback: 'dflt' }],
    ]);
  });

  it('names the client gave itself are not the bridge’s to change: Odoo’s error, no retry', async () => {
    stack = await startStack();
    await warm(stack);
    stack.odoo.renameParam('lab', PARAM, 'get_param', 'key', 'name');
    const a = await call(stack, PARAM, 'get_param', [], { key: 'web.base.url' });
    expect(lastLine(a.fault?.faultString ?? '')).toBe(
      "TypeError: IrConfigParameter.get_param() missing 1 required positional argument: 'name'",
    );
    expect(upstream(stack)).toEqual([['/json/2/ir.config_parameter/get_param', { key: 'web.base.url' }]]);
    expect(driftLogs(stack)).toEqual([]);
  });

  it('an argument the client left out is not drift: Odoo’s error, no new description', async () => {
    stack = await startStack();
    await warm(stack);
    const a = await call(stack, PARAM, 'set_param', ['some.key']);
    expect(lastLine(a.fault?.faultString ?? '')).toBe(
      "TypeError: IrConfigParameter.set_param() missing 1 required positional argument: 'value'",
    );
    expect(upstream(stack)).toEqual([['/json/2/ir.config_parameter/set_param', { key: 'some.key' }]]);
    expect(driftLogs(stack)).toEqual([]);
  });

  it('an override in BRIDGE_CONFIG wins: no new description, no retry', async () => {
    stack = await startStack({
      config: {
        file: parseConfigFile(
          { signatures: { [PARAM]: { get_param: { params: ['key', 'default'], model: true } } } },
          'test',
        ),
      },
    });
    await warm(stack);
    stack.odoo.renameParam('lab', PARAM, 'get_param', 'key', 'name');
    const a = await call(stack, PARAM, 'get_param', ['web.base.url']);
    expect(lastLine(a.fault?.faultString ?? '')).toBe(
      "TypeError: IrConfigParameter.get_param() missing 1 required positional argument: 'name'",
    );
    expect(upstream(stack)).toEqual([['/json/2/ir.config_parameter/get_param', { key: 'web.base.url' }]]);
    expect(await driftCount(stack, 'override')).toBe(1);
    expect(await driftCount(stack, 'retried')).toBe(0);
  });

  it('a description that still names it the same (api_doc shows the introducing method): no retry', async () => {
    stack = await startStack();
    await warm(stack);
    stack.odoo.renameParam('lab', PARAM, 'get_param', 'key', 'name', { doc: false });
    const a = await call(stack, PARAM, 'get_param', ['web.base.url']);
    expect(lastLine(a.fault?.faultString ?? '')).toBe(
      "TypeError: IrConfigParameter.get_param() missing 1 required positional argument: 'name'",
    );
    expect(upstream(stack)).toEqual([
      ['/json/2/ir.config_parameter/get_param', { key: 'web.base.url' }],
      ['doc', '/doc-bearer/ir.config_parameter.json'],
    ]);
    expect(await driftCount(stack, 'unchanged')).toBe(1);
    // Within the minute, the same failure does not fetch the description again.
    stack.odoo.requests.length = 0;
    await call(stack, PARAM, 'get_param', ['web.base.url']);
    expect(upstream(stack)).toEqual([['/json/2/ir.config_parameter/get_param', { key: 'web.base.url' }]]);
    expect(await driftCount(stack, 'unchanged')).toBe(2);
  });

  it('never when the method may have run: a 500 from inside it, or a UserError 422', async () => {
    stack = await startStack();
    // search_read takes **read_kwargs: an unknown name reaches the method, which fails (4d-28).
    stack.odoo.renameParam('lab', 'res.partner', 'search_read', 'order', 'sort');
    const a = await call(stack, 'res.partner', 'search_read', [[], ['name'], 0, 1, 'id']);
    expect(lastLine(a.fault?.faultString ?? '')).toBe(
      "TypeError: BaseModel._read_format() got an unexpected keyword argument 'order'",
    );
    // A ValidationError is a 422 too (4d-37), from the method itself.
    const b = await call(stack, 'res.partner', 'create', [{ email: 'noname@example.com' }]);
    expect(b.fault?.faultCode).toBe(2);
    expect(upstream(stack)).toEqual([
      ['/json/2/res.partner/search_read', { domain: [], fields: ['name'], offset: 0, limit: 1, order: 'id' }],
      ['/json/2/res.partner/create', { vals_list: { email: 'noname@example.com' } }],
    ]);
    expect(driftLogs(stack)).toEqual([]);
  });
});
