/**
 * The real Odoo 19 captures the fake upstream is built from: `test/fixtures/captures/`, in the
 * repository (real exchanges with an Odoo 19.0 server; see its INDEX.md). ODOO_CAPTURES_DIR
 * points the tests at another set.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export const CAPTURES_DIR: string = process.env['ODOO_CAPTURES_DIR'] ?? resolve(here, '../fixtures/captures');

export interface Capture {
  id: string;
  description: string;
  request: {
    method: string;
    path: string;
    headers: Record<string, string>;
    body?: unknown;
    body_raw?: string;
  };
  response: {
    status: number;
    headers: Record<string, string>;
    body?: unknown;
    body_raw?: string;
  };
  decoded_request?: { methodName: string; params: unknown[] };
  decoded_response?: { result?: unknown; fault?: { faultCode: number | string; faultString: string } };
}

export function loadCapture(id: string): Capture {
  return JSON.parse(readFileSync(`${CAPTURES_DIR}/${id}.json`, 'utf8')) as Capture;
}
