/**
 * Freezing a database for an upgrade at run time (issue 18, item 5), on the admin endpoints:
 * `GET /_bridge/freeze` lists what is frozen, `POST /_bridge/freeze/<db>` freezes a database and
 * `DELETE /_bridge/freeze/<db>` unfreezes it (src/services/freeze.ts says what a freeze refuses).
 * With BRIDGE_REDIS_URL the freeze applies to every replica (src/shared/freeze-share.ts) and the
 * answer comes once they all have it; without, to this replica, until it restarts (for a freeze
 * that outlives a restart, list the database under `frozen:` in BRIDGE_CONFIG).
 *
 * Changing a freeze needs BRIDGE_ADMIN_TOKEN set, sent as `Authorization: Bearer` (never Basic: a
 * browser that remembers Basic credentials for the page would send them with another site's form).
 */
import type { Request, Response } from 'express';
import { MAX_RUNTIME_FROZEN } from '../services/freeze.ts';
import { adminTokenMatches } from './app.ts';
import { clientAddressOf } from './client-address.ts';
import type { BridgeParts } from './parts.ts';

/** A database name as Odoo accepts one (its database manager's rule), at most 63 characters. */
const DB_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

function answer(res: Response, status: number, body: Record<string, unknown>): void {
  res.status(status).set('Cache-Control', 'no-store').json(body);
}

export function serveFreezeList(parts: BridgeParts, _req: Request, res: Response): void {
  answer(res, 200, { ...parts.freeze.list(), shared: parts.freezeShare !== undefined });
}

export async function serveFreezeChange(parts: BridgeParts, req: Request, res: Response): Promise<void> {
  const token = parts.config.adminToken;
  if (token === undefined)
    return answer(res, 403, {
      error:
        'freezing at run time needs BRIDGE_ADMIN_TOKEN (or list the database under frozen: in BRIDGE_CONFIG and reload)',
    });
  const auth = req.headers.authorization;
  if (!auth?.toLowerCase().startsWith('bearer ') || !adminTokenMatches(auth, token)) {
    res.set('WWW-Authenticate', 'Bearer realm="odoo-rpc-bridge"');
    return answer(res, 401, { error: 'send BRIDGE_ADMIN_TOKEN as Authorization: Bearer <token>' });
  }
  const db = req.params['db'];
  if (typeof db !== 'string' || db.length > 63 || !DB_NAME.test(db))
    return answer(res, 400, { error: 'not a database name (letters, digits, _ . -, at most 63 characters)' });
  const freezing = req.method === 'POST';
  const who = { db, client: clientAddressOf(req, parts.config.trustedProxies) };
  if (parts.freezeShare) {
    if (!(await parts.freezeShare.set(db, freezing)))
      return answer(res, 503, {
        error: parts.shared?.ready
          ? `at most ${MAX_RUNTIME_FROZEN} databases can be frozen at run time`
          : 'the replicas share their freezes through Redis (BRIDGE_REDIS_URL), which is unreachable: nothing changed; retry',
      });
  } else if (freezing && !parts.freeze.freeze(db))
    return answer(res, 409, { error: `at most ${MAX_RUNTIME_FROZEN} databases can be frozen at run time` });
  else if (!freezing) parts.freeze.unfreeze(db);
  parts.log.warn(who, freezing ? 'database frozen for an upgrade' : 'database unfrozen');
  const stillByConfig = !freezing && parts.freeze.byConfig(db);
  answer(res, stillByConfig ? 409 : 200, {
    db,
    frozen: parts.freeze.isFrozen(db),
    replicas: parts.freezeShare ? 'all that reach Redis' : 'this one',
    ...(stillByConfig
      ? { error: 'still frozen by BRIDGE_CONFIG frozen: remove it from the file and reload (SIGHUP)' }
      : {}),
  });
}
