/**
 * The migration inventory's endpoints (src/inventory/): `GET /_bridge/inventory` answers it as
 * JSON, `GET /_bridge/` as a page. Neither calls Odoo.
 */
import type { Request, Response } from 'express';
import type { SnippetOptions } from '../inventory/snippets.ts';
import { inventoryPage, PAGE_CSP } from '../inventory/page.ts';
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
