/**
 * What every legacy service function gets and returns. A service is a table of functions
 * `(params, ctx) → Promise<CallResult>`: adding a legacy function is adding a row.
 */
import type { Admission } from '../server/admission.ts';
import type { Forwarder } from '../server/forward.ts';
import type { IdleWatch } from '../server/idle-watch.ts';
import type { BridgeMetrics } from '../server/metrics.ts';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Authenticator } from '../auth/authenticator.ts';
import type { KnownNames } from '../auth/known-names.ts';
import type { CredentialSource } from '../auth/credential-source.ts';
import type { KeyVerifier } from '../auth/key-verifier.ts';
import type { BridgeConfig } from '../config.ts';
import type { Inventory, Json2Note } from '../inventory/store.ts';
import type { SignatureRegistry } from '../signatures/registry.ts';
import type { OdooClient } from '../upstream/odoo-client.ts';
import type { WebDatabaseClient } from '../upstream/web-database.ts';
import type { CallResult, Value } from '../values.ts';
import type { VersionSource } from './version.ts';

/** A decoded legacy call, whatever protocol carried it. */
export interface LegacyCall {
  service: string;
  method: string;
  params: Value[];
}

/** Long-lived parts shared by all calls. */
export interface BridgeParts {
  config: BridgeConfig;
  odoo: OdooClient;
  signatures: SignatureRegistry;
  /** Whose key is this? (used by `auth`, and by tests) */
  keys: KeyVerifier;
  /** Pass-through and mapped authentication behind one interface. */
  auth: Authenticator;
  /** The live credential map (reloaded on change and on SIGHUP). */
  credentials: CredentialSource;
  version: VersionSource;
  /** Odoo's database manager (`/web/database/*`), for the db service. */
  webDb: WebDatabaseClient;
  /** Every other path, forwarded to Odoo as is (whole-URL drop-in). */
  forwarder: Forwarder;
  /** Prometheus metrics (`/_bridge/metrics`), this bridge's own registry. */
  metrics: BridgeMetrics;
  /** The migration inventory (`/_bridge/inventory`, `/_bridge/`), recorded from `logCall`. */
  inventory: Inventory;
  /** What the bridge holds at once: calls in flight and their request bytes. */
  admission: Admission;
  /** Cuts request bodies that stop arriving. */
  idle: IdleWatch;
  /** Databases and logins seen verified: the only ones named when an attempt fails. */
  known: KnownNames;
  log: Logger;
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
}

export interface CallContext extends BridgeParts {
  requestId: string;
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

export type ServiceFunction = (params: Value[], ctx: CallContext) => Promise<CallResult>;
export type Service = Readonly<Record<string, ServiceFunction>>;
