/** Where the real Odoo 19 captures live (shared/ beside the repository). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export const CAPTURES_DIR: string =
  process.env['ODOO_CAPTURES_DIR'] ??
  [resolve(here, '../../../shared/reference/captures'), resolve(here, '../fixtures/captures')].find((d) =>
    existsSync(d),
  ) ??
  resolve(here, '../../../shared/reference/captures');

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
