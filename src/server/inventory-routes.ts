/**
 * The migration inventory's endpoints (src/inventory/): `GET /_bridge/inventory` answers it as
 * JSON, `GET /_bridge/` as a page, `GET /_bridge/inventory.csv` as CSV and
 * `GET /_bridge/inventory/report?client=<id>` one client's report as Markdown. None calls Odoo.
 * The first three take `?db=`, `?model=`, `?client=`, `?offset=`, `?limit=`
 * (src/inventory/selection.ts). With BRIDGE_REDIS_URL they show every replica's calls
 * (src/shared/inventory-share.ts), else this replica's.
 */
import type { Request, Response } from 'express';
import type { SnippetOptions } from '../inventory/snippets.ts';
import { inventoryPage, PAGE_CSP } from '../inventory/page.ts';
import { clientReport, inventoryCsv } from '../inventory/report.ts';
import { isEverything, select, selectionOf, type Selection } from '../inventory/selection.ts';
import type { InventoryJson } from '../inventory/views.ts';
import type { BridgeParts } from './parts.ts';

function snippetOptions(parts: BridgeParts): SnippetOptions {
  return { dbHeader: parts.config.dbHeader === 'auto' };
}

/** The inventory as the endpoints show it: every replica's when shared, this one's otherwise. */
async function snapshot(parts: BridgeParts): Promise<InventoryJson> {
  const inventory = parts.inventoryShare ? await parts.inventoryShare.view() : parts.inventory;
  return inventory.snapshot(snippetOptions(parts));
}

function plain(res: Response, status: number, text: string): void {
  res.status(status).set('Cache-Control', 'no-store').type('text/plain; charset=utf-8').send(`${text}\n`);
}

/** Answers the selected inventory to `send`, or a 400 naming a bad query value. */
function selected(
  parts: BridgeParts,
  req: Request,
  res: Response,
  send: (inv: InventoryJson, selection: Selection) => void,
): Promise<void> {
  const selection = selectionOf(req.query as Record<string, unknown>);
  if (typeof selection === 'string') {
    plain(res, 400, `odoo-rpc-bridge: ${selection}`);
    return Promise.resolve();
  }
  return snapshot(parts).then(
    (inv) => send(isEverything(selection) ? inv : select(inv, selection), selection),
    (e: unknown) => {
      parts.log.error({ problem: (e as Error).message }, 'inventory could not be read');
      plain(res, 500, 'odoo-rpc-bridge: the inventory could not be read (see the log)');
    },
  );
}

export function serveInventory(parts: BridgeParts, req: Request, res: Response): Promise<void> {
  return selected(parts, req, res, (inv) => {
    res.status(200).set('Cache-Control', 'no-store').set('X-Content-Type-Options', 'nosniff').json(inv);
  });
}

export function serveInventoryPage(parts: BridgeParts, req: Request, res: Response): Promise<void> {
  // `/_bridge` → `/_bridge/`, so that the page's relative link to `inventory` resolves.
  if (!req.originalUrl.split('?')[0]?.endsWith('/')) {
    res.redirect(301, '_bridge/');
    return Promise.resolve();
  }
  return selected(parts, req, res, (inv, selection) => {
    res
      .status(200)
      .set('Cache-Control', 'no-store')
      .set('Content-Security-Policy', PAGE_CSP)
      .set('X-Content-Type-Options', 'nosniff')
      .set('X-Frame-Options', 'DENY')
      .set('Referrer-Policy', 'no-referrer')
      .type('text/html; charset=utf-8')
      .send(inventoryPage(inv, selection, parts.freeze.list()));
  });
}

export function serveInventoryCsv(parts: BridgeParts, req: Request, res: Response): Promise<void> {
  return selected(parts, req, res, (inv) => {
    res
      .status(200)
      .set('Cache-Control', 'no-store')
      .set('X-Content-Type-Options', 'nosniff')
      .set('Content-Disposition', 'attachment; filename="odoo-rpc-bridge-inventory.csv"')
      .type('text/csv; charset=utf-8')
      .send(inventoryCsv(inv));
  });
}

/** A client id as the page links it: 16 hex digits (src/inventory/views.ts `clientId`). */
const CLIENT_ID = /^[0-9a-f]{16}$/;

export function serveInventoryReport(parts: BridgeParts, req: Request, res: Response): Promise<void> {
  const id = req.query['client'];
  if (typeof id !== 'string' || !CLIENT_ID.test(id)) {
    plain(res, 400, 'odoo-rpc-bridge: ?client=<id> names a client (16 hex digits, as the page links it)');
    return Promise.resolve();
  }
  return selected(parts, { ...req, query: {} } as Request, res, (inv) => {
    const client = inv.clients.find((c) => c.id === id);
    if (!client)
      return plain(res, 404, 'odoo-rpc-bridge: no such client in the inventory (forgotten, or never seen)');
    res
      .status(200)
      .set('Cache-Control', 'no-store')
      .set('X-Content-Type-Options', 'nosniff')
      .set('Content-Disposition', `inline; filename="legacy-calls-${id}.md"`)
      .type('text/markdown; charset=utf-8')
      .send(clientReport(inv, client));
  });
}
