/**
 * The HTTP surface: the legacy endpoints, the bridge's own endpoints under `/_bridge/`, and
 * every other path forwarded to Odoo (whole-URL drop-in). Routing only; each legacy route is
 * decode → dispatch → encode in its own module.
 */
import express, { type Express } from 'express';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { BridgeParts } from '../services/service.ts';
import { serveLivez, serveMetrics, serveReadyz } from './health.ts';
import { serveInventory, serveInventoryPage } from './inventory-routes.ts';
import { serveJsonRpc } from './jsonrpc-route.ts';
import { methodNotAllowed, serveXmlRpc } from './xmlrpc-route.ts';

export function createApp(parts: BridgeParts): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');

  app.post('/xmlrpc/2/:service', (req, res) => serveXmlRpc(parts, req, res, req.params.service, 'int'));
  app.post('/xmlrpc/:service', (req, res) => serveXmlRpc(parts, req, res, req.params.service, 'string'));
  app.all(['/xmlrpc/2/:service', '/xmlrpc/:service'], (_req, res) => methodNotAllowed(res, 'POST'));
  app.post('/jsonrpc', (req, res) => serveJsonRpc(parts, req, res));

  app.get('/_bridge/livez', serveLivez);
  app.get('/_bridge/readyz', (req, res) => serveReadyz(parts, req, res));
  app.get('/_bridge/metrics', (req, res) => serveMetrics(parts, req, res));
  app.get('/_bridge/inventory', (req, res) => serveInventory(parts, req, res));
  app.get(['/_bridge', '/_bridge/'], (req, res) => serveInventoryPage(parts, req, res));
  app.all('/_bridge/{*rest}', (_req, res) => {
    res.status(404).type('text/plain; charset=utf-8').send('odoo-rpc-bridge: no such endpoint\n');
  });

  // Whole-URL drop-in: everything else is Odoo's.
  app.use((req, res) => parts.forwarder.forward(req, res));
  return app;
}

/**
 * The server's request listener: the three legacy routes are served straight from node's
 * request (a `POST` whose path matches the routes above exactly as express matches them: any case,
 * one optional trailing slash, any query string); everything else, including any path express
 * would have to decode, goes through the express app. Per call this saves express's routing and
 * request/response decoration, a sizeable part of a small call's cost.
 */
export function createListener(parts: BridgeParts): RequestListener {
  const app = createApp(parts);
  return (req, res) => {
    if (req.method === 'POST') {
      const url = req.url ?? '';
      const q = url.indexOf('?');
      const path = q === -1 ? url : url.slice(0, q);
      let m;
      if (JSONRPC_PATH.test(path)) return settle(serveJsonRpc(parts, req, res), parts, req, res);
      if ((m = XMLRPC2_PATH.exec(path)))
        return settle(serveXmlRpc(parts, req, res, m[1] as string, 'int'), parts, req, res);
      if ((m = XMLRPC_PATH.exec(path)))
        return settle(serveXmlRpc(parts, req, res, m[1] as string, 'string'), parts, req, res);
    }
    app(req, res);
  };
}

// Express's matching of the routes above, for paths with no percent-escape.
const JSONRPC_PATH = /^\/jsonrpc\/?$/i;
const XMLRPC2_PATH = /^\/xmlrpc\/2\/([^/%]+)\/?$/i;
const XMLRPC_PATH = /^\/xmlrpc\/([^/%]+)\/?$/i;

/** A route's unexpected failure (a bug: routes answer every fault themselves) as express would: 500. */
function settle(served: Promise<void>, parts: BridgeParts, req: IncomingMessage, res: ServerResponse): void {
  served.catch((e: unknown) => {
    // The path without its query string, which may carry tokens.
    parts.log.error({ err: e, path: (req.url ?? '').split('?')[0] }, 'internal error');
    if (res.headersSent) res.destroy();
    else {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Internal Server Error\n');
    }
  });
}
