/**
 * dispatch: `LegacyCall` → the service function, like Odoo's `dispatch_rpc`, through the service
 * tables. Unknown services and methods answer the same faults as Odoo.
 */
import { pythonError } from '../errors.ts';
import { commonService } from './common.ts';
import { dbService } from './db.ts';
import { objectService } from './object.ts';
import type { CallContext, LegacyCall, Service, ServiceResult } from './service.ts';

const SERVICES: Readonly<Record<string, Service>> = {
  common: commonService,
  object: objectService,
  db: dbService,
};

export function dispatch(call: LegacyCall, ctx: CallContext): Promise<ServiceResult> {
  const { service, method, params } = call;
  const table = Object.hasOwn(SERVICES, service) ? SERVICES[service] : undefined;
  // Odoo: `rpc_dispatchers[service]` → KeyError, whose str() quotes the name.
  if (!table) return Promise.reject(pythonError('KeyError', service, { str: `'${service}'` }));
  const fn = Object.hasOwn(table.functions, method) ? table.functions[method] : undefined;
  if (!fn) return Promise.reject(table.methodMissing(method));
  return fn(params, ctx);
}
