/**
 * Who sends a request too large to hold before knowing (server/incoming-body.ts): a legacy
 * call's credentials are its first parameters (`execute_kw(db, uid, password, …)`,
 * `authenticate(db, login, password, …)`), decoded from the request's first bytes and verified
 * here as the service itself verifies them, before the rest of the request is read.
 *
 * A call whose credentials fail gets the answer the whole call would have got (Access Denied, or
 * `False` for a login), without its body ever being held. Calls the bridge cannot verify (the db
 * service, whose master password only Odoo knows; anything that names no caller) are not let
 * past the first bytes at all, except db.restore, whose backup streams (server/db-streams.ts).
 */
import { accessDenied, OdooFault } from '../errors.ts';
import type { CallResult, Value } from '../values.ts';
import { authenticate } from './common.ts';
import { objectCaller } from './object.ts';
import type { CallContext } from './service.ts';

/** The start of a call: its service and method, and the parameters read so far. */
export interface CallHead {
  service: string;
  method: string;
  params: readonly Value[];
}

export type EarlyVerdict =
  | { readonly kind: 'verified' }
  /** The answer the whole call gets, given now. */
  | { readonly kind: 'refused'; readonly answer: CallResult | OdooFault }
  /** Nothing in the head names a caller the bridge can verify. */
  | { readonly kind: 'unverifiable' };

const VERIFIED: EarlyVerdict = { kind: 'verified' };
const UNVERIFIABLE: EarlyVerdict = { kind: 'unverifiable' };

/** The credential parameters a head must hold before it can be verified. */
export const CREDENTIAL_PARAMS = 3;

export async function verifyCaller(head: CallHead, ctx: CallContext): Promise<EarlyVerdict> {
  const { service, method, params } = head;
  if (params.length < CREDENTIAL_PARAMS) return UNVERIFIABLE;
  try {
    if (service === 'object' && (method === 'execute' || method === 'execute_kw')) {
      const { db, uid, password } = objectCaller(params);
      if (typeof password !== 'string') return { kind: 'refused', answer: accessDenied() };
      await ctx.auth.authorize({ db, uid, password, client: ctx.client, requestId: ctx.requestId });
      return VERIFIED;
    }
    if (service === 'common' && (method === 'login' || method === 'authenticate')) {
      const r = await authenticate(params[0], params[1], params[2], ctx);
      return r.kind === 'value' && r.value === false ? { kind: 'refused', answer: r } : VERIFIED;
    }
  } catch (e) {
    if (e instanceof OdooFault) return { kind: 'refused', answer: e };
    throw e;
  }
  return UNVERIFIABLE;
}
