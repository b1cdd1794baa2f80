/**
 * The HTTP surface: the legacy endpoints, the bridge's own endpoints under `/_bridge/`, and
 * every other path forwarded to Odoo (whole-URL drop-in). Routing only; each legacy route is
 * decode → dispatch → encode in its own module.
 */
import express, { type Express, type Request, type Response } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { BridgeParts } from './parts.ts';
import { RETRY_AFTER_SECONDS } from './admission.ts';
import { clientAddressOf } from './client-address.ts';
import { watchAnswer } from './answer-watch.ts';
import { closeAfterLinger } from './linger.ts';
import { serveLivez, serveMetrics, serveReadyz } from './health.ts';
import {
  serveInventory,
  serveInventoryCsv,
  serveInventoryPage,
  serveInventoryReport,
} from './inventory-routes.ts';
import { serveFreezeChange, serveFreezeList } from './freeze-routes.ts';
import { serveJsonRpc } from './jsonrpc-route.ts';
import { methodNotAllowed, serveXmlRpc } from './xmlrpc-route.ts';

/** Where the bridge's own endpoints (`/_bridge/*`) are served. */
export type AdminPlacement = 'here' | 'elsewhere';

export function createApp(parts: BridgeParts, admin: AdminPlacement = 'here'): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');

  app.post('/xmlrpc/2/:service', (req, res) => serveXmlRpc(parts, req, res, req.params.service, 'int'));
  app.post('/xmlrpc/:service', (req, res) => serveXmlRpc(parts, req, res, req.params.service, 'string'));
  app.all(['/xmlrpc/2/:service', '/xmlrpc/:service'], (_req, res) => methodNotAllowed(res, 'POST'));
  app.post('/jsonrpc', (req, res) => serveJsonRpc(parts, req, res));

  if (admin === 'here') addAdminRoutes(app, parts);
  else
    app.all(['/_bridge', '/_bridge/{*rest}'], (_req, res) => {
      res
        .status(404)
        .type('text/plain; charset=utf-8')
        .send('odoo-rpc-bridge: its own endpoints are served on another address (BRIDGE_ADMIN_LISTEN)\n');
    });

  // Whole-URL drop-in: everything else is Odoo's, within the bridge's limit of calls in flight
  // (past it: 503 with Retry-After, which load balancers and browsers understand).
  app.use((req, res) => {
    const client = clientAddressOf(req, parts.config.trustedProxies);
    const refused = parts.admission.enter(client);
    if (refused) {
      res.writeHead(503, {
        'content-type': 'text/plain; charset=utf-8',
        'retry-after': String(RETRY_AFTER_SECONDS),
        connection: 'close',
      });
      const setting = refused === 'client' ? 'BRIDGE_MAX_CALLS_PER_CLIENT' : 'BRIDGE_MAX_CALLS_IN_FLIGHT';
      res.end(
        `503 Service Unavailable: odoo-rpc-bridge is holding as many requests as it may (${setting}); retry later\n`,
      );
      return;
    }
    res.once('close', () => parts.admission.leave(client));
    // A client that stops reading the answer is cut after BRIDGE_BODY_IDLE_TIMEOUT_MS.
    watchAnswer(res, parts.idle);
    void parts.forwarder.forward(req, res);
  });
  return app;
}

/**
 * The bridge's own endpoints, on the public listener (the default) or alone on
 * BRIDGE_ADMIN_LISTEN. The probes and metrics are open (Kubernetes and Prometheus reach them);
 * the inventory and its page need BRIDGE_ADMIN_TOKEN when it is set.
 */
export function createAdminApp(parts: BridgeParts): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  addAdminRoutes(app, parts);
  app.use((_req, res) => {
    res.status(404).type('text/plain; charset=utf-8').send('odoo-rpc-bridge: no such endpoint\n');
  });
  return app;
}

function addAdminRoutes(app: Express, parts: BridgeParts): void {
  const token = parts.config.adminToken;
  const guarded = (serve: (req: Request, res: Response) => unknown) => (req: Request, res: Response) => {
    if (token === undefined || adminTokenMatches(req.headers.authorization, token)) return serve(req, res);
    res
      .status(401)
      .set('WWW-Authenticate', 'Bearer realm="odoo-rpc-bridge", Basic realm="odoo-rpc-bridge"')
      .set('Cache-Control', 'no-store')
      .type('text/plain; charset=utf-8')
      .send(
        'odoo-rpc-bridge: the inventory needs BRIDGE_ADMIN_TOKEN (Authorization: Bearer <token>, or any user name and the token as password)\n',
      );
  };
  app.get('/_bridge/livez', serveLivez);
  app.get('/_bridge/readyz', (req, res) => serveReadyz(parts, req, res));
  app.get('/_bridge/metrics', (req, res) => serveMetrics(parts, req, res));
  app.get(
    '/_bridge/inventory',
    guarded((req, res) => serveInventory(parts, req, res)),
  );
  app.get(
    '/_bridge/inventory.csv',
    guarded((req, res) => serveInventoryCsv(parts, req, res)),
  );
  app.get(
    '/_bridge/inventory/report',
    guarded((req, res) => serveInventoryReport(parts, req, res)),
  );
  app.get(
    '/_bridge/freeze',
    guarded((req, res) => serveFreezeList(parts, req, res)),
  );
  // Bearer only, checked inside (src/server/freeze-routes.ts), so not `guarded`.
  app.post('/_bridge/freeze/:db', (req, res) => serveFreezeChange(parts, req, res));
  app.delete('/_bridge/freeze/:db', (req, res) => serveFreezeChange(parts, req, res));
  app.get(
    ['/_bridge', '/_bridge/'],
    guarded((req, res) => serveInventoryPage(parts, req, res)),
  );
  app.all('/_bridge/{*rest}', (_req, res) => {
    res.status(404).type('text/plain; charset=utf-8').send('odoo-rpc-bridge: no such endpoint\n');
  });
}

/**
 * Whether an Authorization header carries `token`: `Bearer <token>` (scripts), or Basic with the
 * token as the password (a browser's own prompt, for the page). Compared in constant time.
 */
export function adminTokenMatches(header: string | undefined, token: string): boolean {
  if (header === undefined || header.length > 4096) return false;
  const space = header.indexOf(' ');
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  let given: string | undefined;
  if (scheme === 'bearer') given = value;
  else if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    given = decoded.slice(decoded.indexOf(':') + 1);
  }
  if (given === undefined) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

/**
 * The server's request listener: the three legacy routes are served straight from node's
 * request (a `POST` whose path matches the routes above exactly as express matches them: any case,
 * one optional trailing slash, any query string); everything else, including any path express
 * would have to decode, goes through the express app. Per call this saves express's routing and
 * request/response decoration, a sizeable part of a small call's cost.
 */
export function createListener(parts: BridgeParts, admin: AdminPlacement = 'here'): RequestListener {
  const app = createApp(parts, admin);
  const trusted = parts.config.trustedProxies;
  return (req, res) => {
    // A client that floods after being throttled is refused before anything is read.
    if (
      parts.auth.shedding &&
      parts.auth.shed(clientAddressOf(req, trusted)) &&
      !req.url?.startsWith('/_bridge/')
    )
      return refuseShed(res);
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

/**
 * The server's `upgrade` listener (only `GET /websocket` gets there: forward.ts
 * `isWebsocketUpgrade`). A websocket holds a place like a call (its client's too): past the
 * limits its upgrade gets a 503. The place is given back when the socket closes, or as soon as
 * the bridge has ended its side (Odoo refused the upgrade, could not be reached, or the tunnel
 * ended): a client that never ends its side keeps neither the place nor, past LINGER_MS, the socket.
 */
export function createUpgradeListener(
  parts: BridgeParts,
): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    socket.once('finish', () => closeAfterLinger(socket));
    const client = clientAddressOf(req, parts.config.trustedProxies);
    if (parts.admission.enter(client)) {
      socket.on('error', () => socket.destroy());
      socket.end(
        `HTTP/1.1 503 Service Unavailable\r\nRetry-After: ${RETRY_AFTER_SECONDS}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
      );
      return;
    }
    let left = false;
    const leave = (): void => {
      if (left) return;
      left = true;
      parts.admission.leave(client);
    };
    socket.once('close', leave);
    socket.once('finish', leave);
    parts.forwarder.upgrade(req, socket, head);
  };
}

/**
 * The answer to a client that kept guessing after it was throttled: 429 and the connection
 * closed, its request unread. (A legacy client that only mistyped a password is throttled with
 * Odoo's own answers; this is for floods: auth/throttle.ts `shed`.)
 */
function refuseShed(res: ServerResponse): void {
  const body = '429 Too Many Requests: too many failed logins from this address; retry later\n';
  res.writeHead(429, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'retry-after': '60',
    connection: 'close',
  });
  res.end(body);
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
