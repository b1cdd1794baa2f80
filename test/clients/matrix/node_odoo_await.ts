/**
 * Client matrix: the `odoo-await` npm client, through its own helpers (connect, read,
 * searchRead, create, update, delete), which send the shapes it documents: `write` and `unlink`
 * with a bare id, `search_read` with every option as a keyword (limit 0 = all, order '').
 * It has no version call: `connect` asks common.version over the xmlrpc client it is built on,
 * with the library's own client options.
 * Environment: MATRIX_URL, MATRIX_DB, MATRIX_LOGIN, MATRIX_PASSWORD (an API key).
 */
import OdooAwait from 'odoo-await';
import xmlrpc from 'xmlrpc';
import { check, emit, env, isFault, NAME, names, packageVersion, step } from './node_steps.ts';

emit({ client: 'odoo-await', version: packageVersion('odoo-await') });
const odoo = new OdooAwait({ baseUrl: env.url, db: env.db, username: env.login, password: env.password });
let id = 0;

await step('connect', async () => {
  const { host, port, path } = odoo.createClientOptions('/xmlrpc/2/common');
  const client = xmlrpc.createClient({ host, port, path });
  const v = await new Promise<Record<string, unknown>>((resolve, reject) =>
    client.methodCall('version', [], (err: unknown, value: unknown) =>
      err ? reject(err) : resolve(value as Record<string, unknown>),
    ),
  );
  check(v.server_version === '19.0', v);
  return v.server_version;
});

await step('login', async () => {
  const uid = (await odoo.connect()) as number;
  check(typeof uid === 'number' && uid > 0, uid);
  return uid;
});

await step('read', async () => {
  const recs: unknown = await odoo.read('res.partner', 1, ['name']);
  check(JSON.stringify(recs) === JSON.stringify([{ id: 1, name: 'YourCompany' }]), recs);
  return recs;
});

await step('search_read', async () => {
  // Positional domain, fields, offset, limit, order through execute_kw ...
  const recs: unknown = await odoo.execute_kw('res.partner', 'search_read', [
    [[['is_company', '=', true]], ['name'], 0, 2, 'id'],
  ]);
  check(JSON.stringify(names(recs)) === '["YourCompany","Wood Corner"]', recs);
  // ... and the helper's keywords, all of them, as its defaults send them.
  const all: unknown = await odoo.searchRead('res.partner', { is_company: true }, ['name'], {
    offset: 0,
    limit: 0,
    order: '',
    context: {},
  });
  check(Array.isArray(all) && all.length === 10, all);
  // Options left out go as <nil/> (offset, order, context).
  const some: unknown = await odoo.searchRead('res.partner', { is_company: true }, ['name'], { limit: 2 });
  check(JSON.stringify(names(some)) === '["Acme Corporation","Azure Interior"]', some);
  return recs;
});

await step('create', async () => {
  id = (await odoo.create('res.partner', { name: NAME, email: 'zoe@example.com' })) as number;
  check(Number.isInteger(id), id);
  const back: unknown = await odoo.read('res.partner', [id], ['name']);
  check(names(back)[0] === NAME, back);
  return id;
});

await step('write', async () => {
  const ok: unknown = await odoo.update('res.partner', id, { name: `${NAME} (updated)` });
  check(ok === true, ok);
  const back: unknown = await odoo.read('res.partner', id, ['name']);
  check(names(back)[0] === `${NAME} (updated)`, back);
  return ok;
});

await step('unlink', async () => {
  const ok: unknown = await odoo.delete('res.partner', id);
  check(ok === true, ok);
  const left: unknown = await odoo.search('res.partner', { id });
  check(Array.isArray(left) && left.length === 0, left);
  return ok;
});

await step('fault', async () => {
  try {
    await odoo.read('no.such.model', 1);
  } catch (e) {
    check(isFault(e), String(e));
    check(e.faultCode === 2 && e.faultString === "Object no.such.model doesn't exist", e);
    return [e.faultCode, e.faultString];
  }
  throw new Error('no fault');
});
