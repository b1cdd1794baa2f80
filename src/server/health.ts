/**
 * The bridge's probes, under `/_bridge/` (a prefix Odoo never uses):
 * `livez` answers while the process serves; `readyz` asks Odoo's `GET /web/version` each time
 * (uncached, short timeout) and answers 503 with the reason when Odoo does not answer it (and
 * says whether the shared state, BRIDGE_REDIS_URL, is up: Redis away does not make it unready);
 * `metrics` is the Prometheus text of this bridge's registry (server/metrics.ts).
 */
import type { Request, Response } from 'express';
import { OdooFault } from '../errors.ts';
import type { Upstream } from '../upstream/routes.ts';
import type { BridgeParts, BridgeUpstream } from './parts.ts';

/** Time allowed for `/web/version` during a readiness probe (Kubernetes' default probe timeout is 1 s). */
export const READY_TIMEOUT_MS = 2000;

export function serveLivez(_req: Request, res: Response): void {
  res.status(200).set('Cache-Control', 'no-store').json({ status: 'ok' });
}

export async function serveReadyz(parts: BridgeParts, _req: Request, res: Response): Promise<void> {
  res.set('Cache-Control', 'no-store');
  // The shared state is reported, never a reason to be unready: without it, each replica
  // counts and records on its own (src/shared/redis.ts).
  const shared = parts.shared ? { sharedState: parts.shared.ready ? 'up' : 'down' } : {};
  const upstreams = parts.routes.all();
  const states = await Promise.all(upstreams.map((u) => upstreamState(parts, u)));
  // Several upstreams: each one's state is reported, and the bridge is ready while any answers
  // (an old server down for its upgrade must not take the bridge out of its Service: every
  // replica sees the same servers). `upstream` is the first that answers.
  const each =
    upstreams.length > 1
      ? { upstreams: Object.fromEntries(upstreams.map((u, i) => [u.name, states[i]])) }
      : {};
  const up = states.find((s) => s.state === 'up');
  if (up) {
    res.status(200).json({ status: 'ok', upstream: { version: up.version }, ...each, ...shared });
    return;
  }
  const reason = (states[0] as UpstreamState).reason;
  parts.log.warn({ reason }, 'not ready');
  res.status(503).json({ status: 'unavailable', reason, ...each });
}

interface UpstreamState {
  state: 'up' | 'down';
  mode: string;
  version?: string;
  reason?: string;
}

async function upstreamState(parts: BridgeParts, u: Upstream<BridgeUpstream>): Promise<UpstreamState> {
  const timeout = Math.min(READY_TIMEOUT_MS, parts.config.upstreamTimeoutMs);
  if (u.parts.native) {
    // A native upstream may be older than /web/version: its legacy common.version answers.
    try {
      const v = (await u.parts.native.jsonrpc('common', 'version', [], timeout)) as {
        server_version?: unknown;
      };
      if (typeof v?.server_version === 'string')
        return { state: 'up', mode: 'native', version: v.server_version };
      return {
        state: 'down',
        mode: 'native',
        reason: `Odoo at ${u.settings.url} answered common.version without a version`,
      };
    } catch (e) {
      return {
        state: 'down',
        mode: 'native',
        reason: `Odoo at ${u.settings.url}/jsonrpc: ${(e as Error).message}`,
      };
    }
  }
  const odoo = u.parts.odoo;
  const where = `${odoo.baseUrl}/web/version`;
  try {
    const answer = await odoo.version(timeout);
    if (answer.status === 200) {
      let version: unknown;
      try {
        version = (JSON.parse(answer.text) as { version?: unknown } | null)?.version;
      } catch {
        version = undefined;
      }
      if (typeof version === 'string') return { state: 'up', mode: 'translate', version };
      return { state: 'down', mode: 'translate', reason: `Odoo at ${where} answered without a version` };
    }
    return { state: 'down', mode: 'translate', reason: `Odoo at ${where} answered HTTP ${answer.status}` };
  } catch (e) {
    return {
      state: 'down',
      mode: 'translate',
      reason:
        e instanceof OdooFault
          ? e.message.replace(' (BRIDGE_UPSTREAM_TIMEOUT_MS)', '')
          : `request to Odoo at ${where} failed`,
    };
  }
}

export async function serveMetrics(parts: BridgeParts, _req: Request, res: Response): Promise<void> {
  const text = await parts.metrics.text();
  res.status(200).set('Cache-Control', 'no-store').type(parts.metrics.contentType).send(text);
}
