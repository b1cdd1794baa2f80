/**
 * The legacy `common` service (docs/wire.md §1.3): version, about, login, authenticate,
 * set_loglevel. `login`/`authenticate` answer the uid, or `False` (not a fault) when the
 * credentials are refused, like Odoo; src/auth/authenticator.ts decides (pass-through: the
 * password is an API key; mapped: the password is checked against the credential map). A login
 * throttled after too many failures is `False` too, as Odoo's own login cooldown answers (its
 * AccessDenied is caught by `exp_authenticate`); the bridge's log says it was throttled.
 */
import { OdooFault, pythonError } from '../errors.ts';
import { isStruct, truthy, valueResult, type CallResult, type Value } from '../values.ts';
import type { CallContext, Service } from './service.ts';
import { legacyVersionDict } from './version.ts';

export async function authenticate(
  db: Value | undefined,
  login: Value | undefined,
  password: Value | undefined,
  ctx: CallContext,
): Promise<CallResult> {
  if (typeof db !== 'string')
    throw pythonError('TypeError', `the database name must be a string, not ${describe(db)}`);
  ctx.notes.db = db;
  if (typeof login !== 'string' || typeof password !== 'string' || !password) return valueResult(false);
  let uid: number | false;
  try {
    uid = await ctx.auth.login({ db, login, password, client: ctx.client, requestId: ctx.requestId });
  } catch (e) {
    // Throttled: Odoo's login cooldown is an AccessDenied that exp_authenticate turns into False.
    if (e instanceof OdooFault && e.kind === 'access_denied') return valueResult(false);
    throw e;
  }
  if (uid === false) return valueResult(false);
  ctx.notes.uid = uid;
  ctx.notes.verified = true;
  return valueResult(uid);
}

function describe(v: Value | undefined): string {
  if (v === undefined || v === null) return 'None';
  return typeof v === 'object' ? (Array.isArray(v) ? 'list' : 'dict') : typeof v;
}

function arity(method: string, params: Value[], min: number, max: number): void {
  if (params.length < min || params.length > max) {
    const expected = min === max ? `${min}` : `from ${min} to ${max}`;
    throw pythonError(
      'TypeError',
      `exp_${method}() takes ${expected} positional argument${max === 1 ? '' : 's'} but ${params.length} ${params.length === 1 ? 'was' : 'were'} given`,
    );
  }
}

export const commonService: Service = {
  functions: {
    async version(params, ctx) {
      arity('version', params, 0, 0);
      return valueResult(legacyVersionDict(await ctx.version.get()));
    },

    async about(params, ctx) {
      arity('about', params, 0, 1);
      const info = 'See http://openerp.com';
      if (!truthy(params[0])) return valueResult(info);
      return valueResult([info, (await ctx.version.get()).version]);
    },

    async login(params, ctx) {
      arity('login', params, 3, 3);
      return authenticate(params[0], params[1], params[2], ctx);
    },

    async authenticate(params, ctx) {
      arity('authenticate', params, 4, 4);
      const env = params[3];
      // Odoo: `user_agent_env or {}`, then `{**user_agent_env, ...}`: a non-empty non-dict is a TypeError.
      if (truthy(env) && !isStruct(env))
        throw pythonError('TypeError', `'${describe(env)}' object is not a mapping`);
      return authenticate(params[0], params[1], params[2], ctx);
    },

    async set_loglevel(params) {
      arity('set_loglevel', params, 1, 2);
      return valueResult(true);
    },
  },
  // Odoo's dispatch_rpc: `Exception('Method not found: <name>')`.
  methodMissing: (method) => pythonError('Exception', `Method not found: ${method}`),
};
