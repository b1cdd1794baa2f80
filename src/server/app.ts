/**
 * The HTTP surface: the legacy endpoints, nothing else yet. Routing only; each route is
 * decode → dispatch → encode in its own module.
 */
import express, { type Express } from 'express';
import type { BridgeParts } from '../services/service.ts';
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

  app.use((_req, res) => {
    const body =
      '<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n' +
      '<p>odoo-rpc-bridge serves /xmlrpc/2/{common,object,db}, /xmlrpc/{common,object,db} and /jsonrpc.</p>\n';
    res.status(404).type('text/html; charset=utf-8').send(body);
  });
  return app;
}
