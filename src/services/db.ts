/**
 * The legacy `db` service. Not served yet: every function answers a fault that says so, until
 * the /web/database mapping lands (see README, "What is not done yet").
 */
import { bridgeError } from '../errors.ts';
import type { ServiceFunction } from './service.ts';

export const dbNotServed: ServiceFunction = async (_params, _ctx) => {
  throw bridgeError(
    'the legacy db service is not served by this version of odoo-rpc-bridge yet; use Odoo\'s /web/database/* pages meanwhile',
  );
};
