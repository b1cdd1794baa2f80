/**
 * What every legacy service function gets and returns. A service is a table of functions
 * `(params, ctx) → Promise<ServiceResult>`, and what Odoo answers for a function it does not have:
 * adding a legacy function is adding a row.
 */
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Authenticator } from '../auth/authenticator.ts';
import type { BridgeConfig, ServiceKey } from '../config.ts';
import type { OdooFault } from '../errors.ts';
import type { SignatureRegistry } from '../signatures/registry.ts';
import type { OdooClient } from '../upstream/odoo-client.ts';
import type { WebDatabaseClient } from '../upstream/web-database.ts';
import type { CallResult, Struct, Value } from '../values.ts';
import type { Routes, Upstream } from '../upstream/routes.ts';
import type { FreezeState } from './freeze.ts';
import type { VersionSource } from './version.ts';

/** A decoded legacy call, whatever protocol carried it. */
export interface LegacyCall {
  service: string;
  method: string;
  params: Value[];
}

/** After JSON-2 refused an argument name the bridge produced: sent again, or not (why); a metric's label. */
export type SignatureDriftOutcome = 'retried' | 'unchanged' | 'override';

/**
 * The long-lived parts a service uses (the bridge's other parts, its HTTP side, are
 * server/parts.ts's `BridgeParts`, which extends this).
 */
/**
 * What one upstream serves calls with (src/upstream/routes.ts; bridge.ts builds them). A call's
 * context takes the parts of the upstream that serves its database (src/services/route.ts).
 */
export interface UpstreamServices {
  odoo: OdooClient;
  signatures: SignatureRegistry;
  version: VersionSource;
  /** Odoo's database manager (`/web/database/*`), for the db service. */
  webDb: WebDatabaseClient;
  /** A native upstream's legacy endpoints (undefined: a translate upstream). */
  native: NativeLegacy | undefined;
  /** The key db.list_lang / db.list_countries read with (this upstream's, else ODOO_SERVICE_KEY). */
  serviceKey: ServiceKey | undefined;
}

/** What the services ask of a native upstream themselves (db.list's union, common.version). */
export interface NativeLegacy {
  jsonrpc(service: string, method: string, args: unknown[], timeoutMs: number): Promise<unknown>;
}

export interface ServiceParts extends UpstreamServices {
  config: BridgeConfig;
  /** Which upstream serves which database (BRIDGE_CONFIG upstreams, else ODOO_URL alone). */
  routes: Routes<UpstreamServices>;
  /** Pass-through and mapped authentication behind one interface. */
  auth: Authenticator;
  /** What is frozen for an upgrade (BRIDGE_CONFIG `frozen`, and run-time freezes). */
  freeze: FreezeState;
  /** What services count (the rest of the metrics is counted per call, by server/call-context.ts). */
  metrics: { signatureDrift(outcome: SignatureDriftOutcome): void; frozenRefusal(): void };
  log: Logger;
}

/** The JSON-2 call an object call became (src/services/object.ts), for the migration inventory. */
export interface Json2Note {
  model: string;
  method: string;
  body: Struct;
}

/** What a call learned about itself, for the one log line written per call (never secrets). */
export interface CallNotes {
  db?: string;
  uid?: number;
  /** The user's login, when the bridge knows it (a credential map entry). */
  login?: string;
  /** How the call was authenticated. */
  auth?: 'mapped' | 'passthrough';
  /** The caller was verified (a call's credentials, or a login's password): its db and login are not secrets. */
  verified?: boolean;
  model?: string;
  method?: string;
  upstreamStatus?: number;
  /** Time spent waiting for Odoo's JSON-2 answer(s) to the call, in ms: every attempt's, summed. */
  upstreamMs?: number;
  signature?: string;
  /** Bytes of a backup passed through (db.dump, db.restore). */
  backupBytes?: number;
  /** The upstream that served the call, when there are several (BRIDGE_CONFIG upstreams). */
  upstream?: string;
}

export interface CallContext extends ServiceParts {
  requestId: string;
  /** The upstream serving the call (src/services/route.ts), once routed. */
  upstream?: Upstream<UpstreamServices> | undefined;
  /** The verified call's API key, kept only for shadow mode (never logged). */
  apiKey?: string | undefined;
  /** The client's address (server/client-address.ts): throttling, logs, the inventory. */
  client: string | undefined;
  notes: CallNotes;
  /** The JSON-2 call an object call became (for the inventory; never logged: it holds arguments). */
  json2: Json2Note | undefined;
}

/**
 * A result too large to hold, written into the answer as it arrives: the base64 of a byte stream
 * (db.dump's backup). `size` is the stream's length in bytes, when known.
 */
export interface StreamedBase64 {
  readonly kind: 'base64-stream';
  readonly source: Readable;
  readonly size: number | undefined;
}

/** What dispatch answers: a `CallResult`, or (db.dump) a stream. */
export type ServiceResult = CallResult | StreamedBase64;

export type ServiceFunction = (params: Value[], ctx: CallContext) => Promise<ServiceResult>;

/** A legacy service: its functions, and the fault Odoo answers for a function it does not have. */
export interface Service {
  readonly functions: Readonly<Record<string, ServiceFunction>>;
  methodMissing(method: string): OdooFault;
}
