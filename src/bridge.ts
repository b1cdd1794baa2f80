/**
 * Builds the bridge from its configuration and serves it. Used by main.ts and by the tests, which
 * start it on port 0 in front of a fake Odoo.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { BridgeAuthenticator } from './auth/authenticator.ts';
import { CredentialSource } from './auth/credential-source.ts';
import { KeyVerifier } from './auth/key-verifier.ts';
import type { BridgeConfig } from './config.ts';
import { createApp } from './server/app.ts';
import type { BridgeParts } from './services/service.ts';
import { VersionSource } from './services/version.ts';
import { SignatureRegistry } from './signatures/registry.ts';
import { OdooClient } from './upstream/odoo-client.ts';
import { WebDatabaseClient } from './upstream/web-database.ts';

export interface RunningBridge {
  url: string;
  server: Server;
  parts: BridgeParts;
  close(): Promise<void>;
}

/** Throws ConfigError when an API key named in the credential map cannot be read. */
export function buildParts(
  config: BridgeConfig,
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
): BridgeParts {
  const credentials = new CredentialSource({
    path: config.configPath,
    settings: config.file.auth,
    env,
    log,
    pollMs: config.credentialsPollMs,
  });
  const odoo = new OdooClient(config);
  const keys = new KeyVerifier(odoo, config.authCacheTtlMs);
  const auth = new BridgeAuthenticator({
    source: credentials,
    keys,
    log,
    cacheTtlMs: config.authCacheTtlMs,
    throttle: {
      maxPerAccount: config.authMaxFailures,
      maxPerClient: config.authMaxFailuresPerClient,
      windowMs: config.authFailureWindowMs,
    },
  });
  return {
    config,
    odoo,
    log,
    keys,
    auth,
    credentials,
    version: new VersionSource(odoo, config.versionCacheTtlMs),
    webDb: new WebDatabaseClient(config),
    signatures: new SignatureRegistry({
      odoo,
      overrides: config.file.signatures,
      docsKey: config.docsKey,
      cacheSize: config.signatureCacheSize,
      ttlMs: config.signatureCacheTtlMs,
    }),
  };
}

export async function startBridge(
  config: BridgeConfig,
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningBridge> {
  const parts = buildParts(config, log, env);
  const server = createServer({ keepAliveTimeout: 65_000 }, createApp(parts));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.listenPort, config.listenHost, () => resolve());
  });
  const { port, address, family } = server.address() as AddressInfo;
  const host = family === 'IPv6' ? `[${address}]` : address === '0.0.0.0' ? '127.0.0.1' : address;
  return {
    url: `http://${host}:${port}`,
    server,
    parts,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      parts.credentials.close();
      await parts.odoo.close();
      await parts.webDb.close();
    },
  };
}
