/**
 * The migration inventory's endpoints (src/inventory/): `GET /_bridge/inventory` answers it as
 * JSON, `GET /_bridge/` as a page, `GET /_bridge/inventory.csv` as CSV and
 * `GET /_bridge/inventory/report?client=<id>` one client's report as Markdown. None calls Odoo.
 */
import type { Request, Response } from 'express';
import type { SnippetOptions } from '../inventory/snippets.ts';
import { inventoryPage, PAGE_CSP } from '../inventory/page.ts';
import { clientReport, inventoryCsv } from '../inventory/report.ts';
import type { BridgeParts } from './parts.ts';

function snippetOptions(parts: BridgeParts): SnippetOptions {
  return { dbHeader: parts.config.dbHeader === 'auto' };
}

export function serveInventory(parts: BridgeParts, _req: Request, res: Response): void {
  res
    .status(200)
    .set('Cache-Control', 'no-store')
    .set('X-Content-Type-Options', 'nosniff')
    .json(parts.inventory.snapshot(snippetOptions(parts)));
}

export function serveInventoryPage(parts: BridgeParts, req: Request, res: Response): void {
  // `/_bridge` → `/_bridge/`, so that the page's relative link to `inventory` resolves.
  if (!req.originalUrl.split('?')[0]?.endsWith('/')) {
    res.redirect(301, '_bridge/');
    return;
  }
  res
    .status(200)
    .set('Cache-Control', 'no-store')
    .set('Content-Security-Policy', PAGE_CSP)
    .set('X-Content-Type-Options', 'nosniff')
    .set('X-Frame-Options', 'DENY')
    .set('Referrer-Policy', 'no-referrer')
    .type('text/html; charset=utf-8')
    .send(inventoryPage(parts.inventory.snapshot(snippetOptions(parts))));
}

export function serveInventoryCsv(parts: BridgeParts, _req: Request, res: Response): void {
  res
    .status(200)
    .set('Cache-Control', 'no-store')
    .set('X-Content-Type-Options', 'nosniff')
    .set('Content-Disposition', 'attachment; filename="odoo-rpc-bridge-inventory.csv"')
    .type('text/csv; charset=utf-8')
    .send(inventoryCsv(parts.inventory.snapshot(snippetOptions(parts))));
}

/** A client id as the page links it: 16 hex digits (src/inventory/views.ts `clientId`). */
const CLIENT_ID = /^[0-9a-f]{16}$/;

export function serveInventoryReport(parts: BridgeParts, req: Request, res: Response): void {
  const id = req.query['client'];
  const plain = (status: number, text: string) =>
    res.status(status).set('Cache-Control', 'no-store').type('text/plain; charset=utf-8').send(`${text}\n`);
  if (typeof id !== 'string' || !CLIENT_ID.test(id))
    return void plain(
      400,
      'odoo-rpc-bridge: ?client=<id> names a client (16 hex digits, as the page links it)',
    );
  const inv = parts.inventory.snapshot(snippetOptions(parts));
  const client = inv.clients.find((c) => c.id === id);
  if (!client)
    return void plain(404, 'odoo-rpc-bridge: no such client in the inventory (forgotten, or never seen)');
  res
    .status(200)
    .set('Cache-Control', 'no-store')
    .set('X-Content-Type-Options', 'nosniff')
    .set('Content-Disposition', `inline; filename="legacy-calls-${id}.md"`)
    .type('text/markdown; charset=utf-8')
    .send(clientReport(inv, client));
}
