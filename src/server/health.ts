/**
 * The bridge's probes, under `/_bridge/` (a prefix Odoo never uses):
 * `livez` answers while the process serves; `readyz` asks Odoo's `GET /web/version` each time
 * (uncached, short timeout) and answers 503 with the reason when Odoo does not answer it (and
 * says whether the shared state, BRIDGE_REDIS_URL, is up: Redis away does not make it unready);
 * `metrics` is the Prometheus text of this bridge's registry (server/metrics.ts).
 */
import type { Request, Response } from 'express';
import { OdooFault } from '../errors.ts';
import type { BridgeParts } from './parts.ts';

/** Time allowed for `/web/version` during a readiness probe (Kubernetes' default probe timeout is 1 s). */
export const READY_TIMEOUT_MS = 2000;

export function serveLivez(_req: Request, res: Response): void {
  res.status(200).set('Cache-Control', 'no-store').json({ status: 'ok' });
}

export async function serveReadyz(parts: BridgeParts, _req: Request, res: Response): Promise<void> {
  res.set('Cache-Control', 'no-store');
  const where = `${parts.odoo.baseUrl}/web/version`;
  let reason: string;
  try {
    const answer = await parts.odoo.version(Math.min(READY_TIMEOUT_MS, parts.config.upstreamTimeoutMs));
    if (answer.status === 200) {
      let version: unknown;
      try {
        version = (JSON.parse(answer.text) as { version?: unknown } | null)?.version;
      } catch {
        version = undefined;
      }
      if (typeof version === 'string') {
        // The shared state is reported, never a reason to be unready: without it, each replica
        // counts and records on its own (src/shared/redis.ts).
        const shared = parts.shared ? { sharedState: parts.shared.ready ? 'up' : 'down' } : {};
        res.status(200).json({ status: 'ok', upstream: { version }, ...shared });
        return;
      }
      reason = `Odoo at ${where} answered without a version`;
    } else reason = `Odoo at ${where} answered HTTP ${answer.status}`;
  } catch (e) {
    reason =
      e instanceof OdooFault
        ? e.message.replace(' (BRIDGE_UPSTREAM_TIMEOUT_MS)', '')
        : `request to Odoo at ${where} failed`;
  }
  parts.log.warn({ reason }, 'not ready');
  res.status(503).json({ status: 'unavailable', reason });
}

export async function serveMetrics(parts: BridgeParts, _req: Request, res: Response): Promise<void> {
  const text = await parts.metrics.text();
  res.status(200).set('Cache-Control', 'no-store').type(parts.metrics.contentType).send(text);
}
