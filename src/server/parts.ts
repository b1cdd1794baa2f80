/**
 * The bridge's long-lived parts: what its services use (services/service.ts `ServiceParts`) and
 * its HTTP side's own (the pass-through, the limits, the inventory, the credential sources), built
 * once by bridge.ts. A call's context (server/call-context.ts) reads them through its prototype.
 */
import type { Admission } from './admission.ts';
import type { Shadow } from './shadow.ts';
import type { Tracing } from './tracing.ts';
import type { Forwarder } from './forward.ts';
import type { IdleWatch } from './idle-watch.ts';
import type { BridgeMetrics } from './metrics.ts';
import type { CredentialSource } from '../auth/credential-source.ts';
import type { KeyExpiryWatch } from '../auth/key-expiry.ts';
import type { KeyVerifier } from '../auth/key-verifier.ts';
import type { KnownNames } from '../auth/known-names.ts';
import type { Inventory } from '../inventory/store.ts';
import type { FreezeShare } from '../shared/freeze-share.ts';
import type { InventoryShare } from '../shared/inventory-share.ts';
import type { SharedState } from '../shared/redis.ts';
import type { CallContext, ServiceParts, UpstreamServices } from '../services/service.ts';
import type { Routes } from '../upstream/routes.ts';

/** An upstream's parts as the server holds them: a native one's forwarder is a Forwarder. */
export interface BridgeUpstream extends UpstreamServices {
  native: Forwarder | undefined;
}

export type BridgeRoutes = Routes<BridgeUpstream>;

export interface BridgeParts extends ServiceParts {
  routes: BridgeRoutes;
  /** Whose key is this? (used by `auth`, and by tests) */
  keys: KeyVerifier;
  /** The live credential map (reloaded on change and on SIGHUP). */
  credentials: CredentialSource;
  /** When the credential map's keys expire (read at start, on reload and daily). */
  keyExpiry: KeyExpiryWatch;
  /** OpenTelemetry traces, when the standard variables turn them on (else undefined). */
  tracing: Tracing | undefined;
  /** Every other path, forwarded to Odoo as is (whole-URL drop-in). */
  forwarder: Forwarder;
  /** Prometheus metrics (`/_bridge/metrics`), this bridge's own registry. */
  metrics: BridgeMetrics;
  /** The migration inventory (`/_bridge/inventory`, `/_bridge/`), recorded from `logCall`. */
  inventory: Inventory;
  /** BRIDGE_REDIS_URL: the connection the replicas share their state through (else undefined). */
  shared: SharedState | undefined;
  /** BRIDGE_REDIS_URL: every replica's inventory, merged (else undefined: `inventory` alone). */
  inventoryShare: InventoryShare | undefined;
  /** BRIDGE_REDIS_URL: the run-time freezes every replica applies (else undefined: this one's). */
  freezeShare: FreezeShare | undefined;
  /** What the bridge holds at once: calls in flight and their request bytes. */
  admission: Admission;
  /** Cuts request bodies that stop arriving. */
  idle: IdleWatch;
  /** Databases and logins seen verified: the only ones named when an attempt fails. */
  known: KnownNames;
  /** Shadow mode: reads compared with the upstream's own legacy endpoint (shadow.ts). */
  shadow: Shadow;
}

/** A call's context as the HTTP side sees it: the service's, with all of the bridge's parts. */
export interface ServerCallContext extends CallContext, BridgeParts {
  metrics: BridgeMetrics;
  routes: BridgeRoutes;
  native: Forwarder | undefined;
}
