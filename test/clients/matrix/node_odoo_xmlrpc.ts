/**
 * Client matrix: the `odoo-xmlrpc` npm client (callback API: connect, execute_kw), with the
 * positional shapes its README shows (`search_read` as [domain, fields, offset, limit]).
 * It has no version call: `connect` asks common.version over the xmlrpc client it is built on.
 * Environment: MATRIX_URL, MATRIX_DB, MATRIX_LOGIN, MATRIX_PASSWORD (an API key).
 */
import xmlrpc from 'xmlrpc';
import { check, emit, env, isFault, NAME, names, packageVersion, require, step } from './node_steps.ts';

type Callback = (err: unknown, value: unknown) => void;
interface OdooXmlrpc {
  connect(cb: Callback): void;
  execute_kw(model: string, method: string, params: unknown[], cb: Callback): void;
}
// The package has no types: load it as the CommonJS module it is, with the shape it documents.
const Odoo = require('odoo-xmlrpc') as new (config: {
  url: string;
  db: string;
  username: string;
  password: string;
}) => OdooXmlrpc;

emit({ client: 'odoo-xmlrpc', version: packageVersion('odoo-xmlrpc') });
const odoo = new Odoo({ url: env.url, db: env.db, username: env.login, password: env.password });
const connect = () => new Promise<unknown>((res, rej) => odoo.connect((e, v) => (e ? rej(e) : res(v))));
/** `params` is execute_kw's [args] or [args, kwargs], as the library takes it. */
const kw = (model: string, method: string, params: unknown[]) =>
  new Promise<unknown>((res, rej) => odoo.execute_kw(model, method, params, (e, v) => (e ? rej(e) : res(v))));
let id = 0;

await step('connect', async () => {
  const client = xmlrpc.createClient(`${env.url}/xmlrpc/2/common`);
  const v = await new Promise<Record<string, unknown>>((resolve, reject) =>
    client.methodCall('version', [], (err: unknown, value: unknown) =>
      err ? reject(err) : resolve(value as Record<string, unknown>),
    ),
  );
  check(v.server_version === '19.0', v);
  return v.server_version;
});

await step('login', async () => {
  const uid = await connect();
  check(typeof uid === 'number' && uid > 0, uid);
  return uid;
});

await step('read', async () => {
  const recs = await kw('res.partner', 'read', [[[1], ['name']]]);
  check(JSON.stringify(recs) === JSON.stringify([{ id: 1, name: 'YourCompany' }]), recs);
  return recs;
});

await step('search_read', async () => {
  // The README's shape: [domain, fields, offset, limit], all positional.
  const recs = await kw('res.partner', 'search_read', [[[['is_company', '=', true]], ['name'], 0, 2]]);
  check(JSON.stringify(names(recs)) === '["Acme Corporation","Azure Interior"]', recs);
  return recs;
});

await step('create', async () => {
  id = (await kw('res.partner', 'create', [[{ name: NAME, email: 'zoe@example.com' }]])) as number;
  check(Number.isInteger(id), id);
  const back = await kw('res.partner', 'read', [[[id]], { fields: ['name'] }]);
  check(names(back)[0] === NAME, back);
  return id;
});

await step('write', async () => {
  const ok = await kw('res.partner', 'write', [[[id], { name: `${NAME} (updated)` }]]);
  check(ok === true, ok);
  const back = await kw('res.partner', 'read', [[[id], ['name']]]);
  check(names(back)[0] === `${NAME} (updated)`, back);
  return ok;
});

await step('unlink', async () => {
  const ok = await kw('res.partner', 'unlink', [[[id]]]);
  check(ok === true, ok);
  const left = await kw('res.partner', 'search', [[[['id', '=', id]]]]);
  check(Array.isArray(left) && left.length === 0, left);
  return ok;
});

await step('fault', async () => {
  try {
    await kw('no.such.model', 'read', [[[1]]]);
  } catch (e) {
    check(isFault(e), String(e));
    check(e.faultCode === 2 && e.faultString === "Object no.such.model doesn't exist", e);
    return [e.faultCode, e.faultString];
  }
  throw new Error('no fault');
});
