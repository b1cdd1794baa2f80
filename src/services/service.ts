/**
 * What every legacy service function gets and returns. A service is a table of functions
 * `(params, ctx) → Promise<CallResult>`: adding a legacy function is adding a row.
 */
import type { Logger } from 'pino';
import type { KeyVerifier } from '../auth/key-verifier.ts';
import type { BridgeConfig } from '../config.ts';
import type { SignatureRegistry } from '../signatures/registry.ts';
import type { OdooClient } from '../upstream/odoo-client.ts';
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
  keys: KeyVerifier;
  version: VersionSource;
  log: Logger;
}

/** What a call learned about itself, for the one log line written per call (never secrets). */
export interface CallNotes {
  db?: string;
  uid?: number;
  model?: string;
  method?: string;
  upstreamStatus?: number;
  signature?: string;
}

export interface CallContext extends BridgeParts {
  requestId: string;
  notes: CallNotes;
}

export type ServiceFunction = (params: Value[], ctx: CallContext) => Promise<CallResult>;
export type Service = Readonly<Record<string, ServiceFunction>>;
