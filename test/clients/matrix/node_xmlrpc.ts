/**
 * Client matrix: the raw `xmlrpc` npm client (what odoo-await and odoo-xmlrpc are built on),
 * making the Odoo documentation's calls on /xmlrpc/2.
 * Environment: MATRIX_URL, MATRIX_DB, MATRIX_LOGIN, MATRIX_PASSWORD (an API key).
 */
import xmlrpc from 'xmlrpc';
import { check, emit, env, isFault, NAME, names, packageVersion, step } from './node_steps.ts';

function call(service: string, method: string, params: unknown[]): Promise<unknown> {
  const client = xmlrpc.createClient(`${env.url}/xmlrpc/2/${service}`);
  return new Promise((resolve, reject) =>
    client.methodCall(method, params, (err: unknown, value: unknown) => (err ? reject(err) : resolve(value))),
  );
}

emit({ client: 'xmlrpc (npm)', version: packageVersion('xmlrpc') });
let uid = 0;
let id = 0;
const kw = (model: string, method: string, args: unknown[], kwargs?: Record<string, unknown>) =>
  call('object', 'execute_kw', [env.db, uid, env.password, model, method, args, ...(kwargs ? [kwargs] : [])]);

await step('connect', async () => {
  const v = (await call('common', 'version', [])) as Record<string, unknown>;
  check(v.server_version === '19.0' && v.protocol_version === 1, v);
  return v.server_version;
});

await step('login', async () => {
  uid = (await call('common', 'authenticate', [env.db, env.login, env.password, {}])) as number;
  check(typeof uid === 'number' && uid > 0, uid);
  return uid;
});

await step('read', async () => {
  const recs = await kw('res.partner', 'read', [[1]], { fields: ['name'] });
  check(JSON.stringify(recs) === JSON.stringify([{ id: 1, name: 'YourCompany' }]), recs);
  return recs;
});

await step('search_read', async () => {
  const recs = await kw('res.partner', 'search_read', [[['is_company', '=', true]], ['name'], 0, 2, 'id']);
  check(JSON.stringify(names(recs)) === '["YourCompany","Wood Corner"]', recs);
  return recs;
});

await step('create', async () => {
  id = (await kw('res.partner', 'create', [{ name: NAME, email: 'zoe@example.com' }])) as number;
  check(Number.isInteger(id), id);
  const back = await kw('res.partner', 'read', [[id], ['name']]);
  check(names(back)[0] === NAME, back);
  return id;
});

await step('write', async () => {
  const ok = await kw('res.partner', 'write', [[id], { name: `${NAME} (updated)` }]);
  check(ok === true, ok);
  const back = await kw('res.partner', 'read', [[id]], { fields: ['name'] });
  check(names(back)[0] === `${NAME} (updated)`, back);
  return ok;
});

await step('unlink', async () => {
  const ok = await kw('res.partner', 'unlink', [[id]]);
  check(ok === true, ok);
  const left = await kw('res.partner', 'search', [[['id', '=', id]]]);
  check(Array.isArray(left) && left.length === 0, left);
  return ok;
});

await step('fault', async () => {
  try {
    await kw('no.such.model', 'read', [[1]]);
  } catch (e) {
    check(isFault(e), String(e));
    check(e.faultCode === 2 && e.faultString === "Object no.such.model doesn't exist", e);
    return [e.faultCode, e.faultString];
  }
  throw new Error('no fault');
});
