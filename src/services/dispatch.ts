/**
 * dispatch: `LegacyCall` → the service function, like Odoo's `dispatch_rpc`. Unknown services
 * and methods answer the same faults as Odoo.
 */
import { pythonError } from '../errors.ts';
import { commonService } from './common.ts';
import { dispatchDb } from './db.ts';
import { objectMethodMissing, objectService } from './object.ts';
import type { CallContext, LegacyCall, Service, ServiceResult } from './service.ts';

const SERVICES: Record<string, Service> = { common: commonService, object: objectService };

export function dispatch(call: LegacyCall, ctx: CallContext): Promise<ServiceResult> {
  const { service, method, params } = call;
  if (service === 'db') return dispatchDb(method, params, ctx);
  const table = Object.hasOwn(SERVICES, service) ? SERVICES[service] : undefined;
  // Odoo: `rpc_dispatchers[service]` → KeyError, whose str() quotes the name.
  if (!table) return Promise.reject(pythonError('KeyError', service, { str: `'${service}'` }));
  const fn = Object.hasOwn(table, method) ? table[method] : undefined;
  if (!fn) {
    if (service === 'object') return Promise.reject(objectMethodMissing(method));
    return Promise.reject(pythonError('Exception', `Method not found: ${method}`));
  }
  return fn(params, ctx);
}
