/**
 * dispatch: `LegacyCall` → the service function, like Odoo's `dispatch_rpc`, through the service
 * tables. Unknown services and methods answer the same faults as Odoo.
 */
import { OdooFault, pythonError } from '../errors.ts';
import { commonService } from './common.ts';
import { dbService } from './db.ts';
import { objectService } from './object.ts';
import { upstreamOf, useUpstream } from './route.ts';
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
  // The upstream that serves the call's database (BRIDGE_CONFIG upstreams; else the one).
  const upstream = upstreamOf(call, ctx);
  if (upstream instanceof OdooFault) return Promise.reject(upstream);
  useUpstream(ctx, upstream);
  return fn(params, ctx);
}
