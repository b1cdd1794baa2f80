/**
 * The HTTP surface: the legacy endpoints, the bridge's own endpoints under `/_bridge/`, and
 * every other path forwarded to Odoo (whole-URL drop-in). Routing only; each legacy route is
 * decode → dispatch → encode in its own module.
 */
import express, { type Express } from 'express';
import type { BridgeParts } from '../services/service.ts';
import { serveLivez, serveMetrics, serveReadyz } from './health.ts';
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
  app.all('/_bridge/{*rest}', (_req, res) => {
    res.status(404).type('text/plain; charset=utf-8').send('odoo-rpc-bridge: no such endpoint\n');
  });

  // Whole-URL drop-in: everything else is Odoo's.
  app.use((req, res) => parts.forwarder.forward(req, res));
  return app;
}
