/**
 * The request id of a call or forwarded request: the client's `X-Request-Id` when it is a sane
 * token, a new UUID otherwise. It is logged, sent to Odoo and echoed in the answer.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const REQUEST_ID = /^[\w.:@/+=-]{1,128}$/;

export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}
