/**
 * Builds the bridge from its configuration and serves it. Used by main.ts and by the tests, which
 * start it on port 0 in front of a fake Odoo.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import { BridgeAuthenticator } from './auth/authenticator.ts';
import { CredentialSource } from './auth/credential-source.ts';
import { KeyExpiryWatch } from './auth/key-expiry.ts';
import { KeyVerifier } from './auth/key-verifier.ts';
import { KnownNames } from './auth/known-names.ts';
import { parseServiceKey, type BridgeConfig } from './config.ts';
import { Admission } from './server/admission.ts';
import { createAdminApp, createListener, createUpgradeListener } from './server/app.ts';
import { isTrustedPeer, plainAddress } from './server/client-address.ts';
import { IdleWatch } from './server/idle-watch.ts';
import { Shadow } from './server/shadow.ts';
import { Tarpit } from './server/tarpit.ts';
import { Forwarder, isWebsocketUpgrade } from './server/forward.ts';
import { BridgeMetrics } from './server/metrics.ts';
import { tracingFromEnv } from './server/tracing.ts';
import { Inventory } from './inventory/store.ts';
import { InventoryPersister, loadInventory } from './inventory/persist.ts';
import type { BridgeParts, BridgeRoutes, BridgeUpstream } from './server/parts.ts';
import type { Tracing } from './server/tracing.ts';
import { Routes, type UpstreamParts } from './upstream/routes.ts';
import type { UpstreamSettings } from './upstream/upstream-settings.ts';
import { FreezeState } from './services/freeze.ts';
import { FreezeShare } from './shared/freeze-share.ts';
import { InventoryShare } from './shared/inventory-share.ts';
import { SharedState } from './shared/redis.ts';
import { accountSecret, RedisThrottleCounts } from './shared/throttle-counts.ts';
import { VersionSource } from './services/version.ts';
import { SignatureRegistry } from './signatures/registry.ts';
import { OdooClient } from './upstream/odoo-client.ts';
import { WebDatabaseClient } from './upstream/web-database.ts';

export interface RunningBridge {
  url: string;
  /** Where `/_bridge/*` is served when BRIDGE_ADMIN_LISTEN is set. */
  adminUrl: string | undefined;
  server: Server;
  parts: BridgeParts;
  /**
   * Stops accepting, closes idle keep-alive connections at once, lets calls in flight finish
   * (each connection is closed as soon as its answer is out) for at most `graceMs` (default: the
   * config's shutdownGraceMs), then closes what is left. Resolves `true` when nothing was cut.
   */
  close(graceMs?: number): Promise<boolean>;
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
  const metrics = new BridgeMetrics({ models: config.metricsModels });
  // Every upstream's parts (src/upstream/routes.ts): BRIDGE_CONFIG upstreams, else ODOO_URL alone.
  const routes: BridgeRoutes = new Routes(upstreamSettings(config), (s) =>
    upstreamParts(s, config, log, metrics, env),
  );
  routes.onRetired = (name) => log.info({ upstream: name }, 'upstream closed: no longer in BRIDGE_CONFIG');
  const first = routes.first.parts;
  const odoo = first.odoo;
  // An API key is checked by the Odoo that serves its database.
  const odooFor = (db: string) => (routes.for(db) ?? routes.first).parts.odoo;
  const keys = new KeyVerifier(odooFor, config.authCacheTtlMs);
  const known = new KnownNames();
  const limits = {
    maxPerAccount: config.authMaxFailures,
    maxPerClient: config.authMaxFailuresPerClient,
    windowMs: config.authFailureWindowMs,
  };
  // BRIDGE_REDIS_URL: the replicas share their throttling counts and inventory (src/shared/).
  const shared =
    config.redisUrl === undefined
      ? undefined
      : new SharedState({
          url: config.redisUrl,
          prefix: config.redisPrefix,
          secret: config.redisSecret,
          log,
        });
  if (shared && config.redisSecret === undefined && !new URL(shared.url).password)
    log.warn(
      'BRIDGE_REDIS_URL has no password and BRIDGE_REDIS_SECRET is not set: whoever reads Redis can test guesses of logins and addresses against the throttling names; set BRIDGE_REDIS_SECRET',
    );
  if (shared) shared.onFallback = metrics.watchSharedState(() => shared.ready);
  const auth = new BridgeAuthenticator({
    source: credentials,
    known,
    keys,
    log,
    cacheTtlMs: config.authCacheTtlMs,
    throttle: {
      ...limits,
      shared:
        shared &&
        new RedisThrottleCounts(shared, {
          ...limits,
          pendingTtlMs: Math.max(120_000, config.upstreamTimeoutMs + 30_000),
        }),
    },
    accountSecret: shared && accountSecret(shared),
  });
  auth.onFailure = (mode, reason) => metrics.authFailure(mode, reason);
  auth.onKeyRejected = (db, login) => metrics.keyRejected(db, login);
  // Each entry's refusal series from the start (and from each reload), at 0.
  const zeroRefusals = () => {
    for (const c of credentials.current.all()) metrics.keyRejected(c.db, c.login, 0);
  };
  zeroRefusals();
  credentials.onChange(zeroRefusals);
  // A native server speaks no JSON-2: its databases' keys are not watched.
  const keyExpiry = new KeyExpiryWatch({
    odoo: (db) => {
      const u = routes.for(db) ?? routes.first;
      return u.mode === 'native' ? undefined : u.parts.odoo;
    },
    source: credentials,
    keys,
    log,
  });
  metrics.watchKeyExpiry(() => keyExpiry.current());
  // BRIDGE_CONFIG read again (change, SIGHUP): overrides, shims, freezes and upstreams at once.
  credentials.onConfigFile((file) => {
    config.file = {
      ...config.file,
      signatures: file.signatures,
      shims: file.shims,
      frozen: file.frozen,
      upstreams: file.upstreams,
    };
    let changed: ReturnType<BridgeRoutes['update']>;
    try {
      changed = routes.update(upstreamSettings(config), config.dbTimeoutMs + 10_000);
      // The web client, /web/* and the rest follow the first upstream (a cutover moves them too).
      if (parts.forwarder.origin.href !== new URL(routes.first.settings.url).href) {
        const old = parts.forwarder;
        parts.forwarder = forwarderFor(routes.first.settings.url);
        // Open websockets are closed: their clients reconnect, to the new server.
        old.closeTunnels();
        void old.close().catch(() => undefined);
      }
    } catch (e) {
      log.error(
        { problem: (e as Error).message },
        'upstreams not reloaded: keeping the current ones (the rest of the file is applied)',
      );
      changed = { kept: [], built: [], retired: [] };
    }
    for (const u of routes.all()) u.parts.signatures.setOverrides(file.signatures);
    log.info(
      {
        overrides: Object.keys(file.signatures).length,
        shims: Object.keys(file.shims).length,
        frozen: file.frozen,
        upstreams: routes.all().map((u) => `${u.name}=${u.mode}:${u.settings.databases.join(',')}`),
        ...(changed.built.length > 0 ? { upstreamsBuilt: changed.built } : {}),
        ...(changed.retired.length > 0 ? { upstreamsRetired: changed.retired } : {}),
      },
      'signature overrides, shims, frozen databases and upstreams reloaded',
    );
  });
  const admission = new Admission({
    maxCalls: config.maxCallsInFlight,
    maxCallsPerClient: config.maxCallsPerClient,
    maxBytes: config.maxInflightBytes,
  });
  admission.onRefused = (why) => metrics.refused(why);
  metrics.watchAdmission(() => admission);
  // Everything but legacy calls goes, as is, to the first upstream (rebuilt when it changes).
  const forwarderFor = (url: string): Forwarder => {
    const f = new Forwarder({ ...config, odooUrl: url }, log);
    f.observer = (sample) => metrics.forwarded(sample);
    return f;
  };
  const forwarder = forwarderFor(routes.first.settings.url);
  const inventory = new Inventory({
    maxClients: config.inventoryMaxClients,
    maxCalls: config.inventoryMaxCalls,
    maxClientsPerAddress: config.inventoryMaxClientsPerAddress,
    retentionDays: config.inventoryRetentionDays,
    migratedAfterDays: config.inventoryMigratedAfterDays,
  });
  const freeze = new FreezeState(() => config.file.frozen);
  const shadow = new Shadow();
  shadow.onOutcome = metrics.watchShadow();
  metrics.watchFreezes(() => {
    const l = freeze.list();
    return { config: l.config.length, runtime: l.runtime.length };
  });
  const parts: BridgeParts = {
    config,
    routes,
    odoo,
    native: first.native,
    serviceKey: first.serviceKey,
    metrics,
    inventory,
    freeze,
    shadow,
    freezeShare: shared && new FreezeShare(shared, freeze),
    shared,
    inventoryShare:
      shared && inventory.enabled
        ? new InventoryShare(shared, inventory, { intervalMs: config.inventoryShareMs, log })
        : undefined,
    log,
    admission,
    idle: new IdleWatch(config.bodyIdleTimeoutMs),
    known,
    keys,
    auth,
    credentials,
    keyExpiry,
    // Set by startBridge when the standard variables turn tracing on (server/tracing.ts).
    tracing: undefined,
    version: first.version,
    webDb: first.webDb,
    forwarder,
    signatures: first.signatures,
  };
  return parts;
}

export async function startBridge(
  config: BridgeConfig,
  log: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningBridge> {
  const parts = buildParts(config, log, env);
  parts.tracing = await tracingFromEnv(env, log);
  tracingNow.current = parts.tracing;
  for (const u of parts.routes.all()) u.parts.odoo.tracing = parts.tracing;
  // The migration inventory's file: loaded before the first call, saved periodically and on close.
  let persister: InventoryPersister | undefined;
  if (config.inventoryFile !== undefined && parts.inventoryShare)
    // A file loaded by a replica that restarts under a new name would count its calls twice.
    log.warn(
      { inventoryFile: config.inventoryFile },
      'BRIDGE_INVENTORY_FILE is not used with BRIDGE_REDIS_URL: the replicas keep the inventory in Redis',
    );
  else if (config.inventoryFile !== undefined && parts.inventory.enabled) {
    await loadInventory(parts.inventory, config.inventoryFile, log);
    persister = new InventoryPersister(parts.inventory, config.inventoryFile, log);
  }
  const server = createServer(
    // Only Odoo's bus (GET /websocket) may upgrade; any other request with an Upgrade header is
    // served as the ordinary request it also is.
    { keepAliveTimeout: 65_000, shouldUpgradeCallback: isWebsocketUpgrade },
    createListener(parts, config.adminListen ? 'elsewhere' : 'here'),
  );
  server.on('upgrade', createUpgradeListener(parts));
  // A client that floods after being throttled has its new connections held unread in the tarpit,
  // before the HTTP server sets them up (not when it comes through a trusted proxy: the proxy
  // carries other clients too).
  const tarpit = new Tarpit();
  const [serveConnection] = server.listeners('connection') as Array<(socket: Socket) => void>;
  if (serveConnection) {
    server.removeListener('connection', serveConnection);
    server.on('connection', (socket: Socket) => {
      const peer = socket.remoteAddress;
      if (
        parts.auth.shedding &&
        peer !== undefined &&
        !isTrustedPeer(config.trustedProxies, peer) &&
        parts.auth.shed(plainAddress(peer))
      )
        tarpit.hold(socket);
      else serveConnection.call(server, socket);
    });
  }
  const url = await listen(server, config.listen.host, config.listen.port);
  // The bridge's own endpoints on their own address (BRIDGE_ADMIN_LISTEN), if set.
  let admin: Server | undefined;
  let adminUrl: string | undefined;
  if (config.adminListen) {
    admin = createServer({ keepAliveTimeout: 65_000 }, createAdminApp(parts));
    try {
      adminUrl = await listen(admin, config.adminListen.host, config.adminListen.port);
    } catch (e) {
      server.close();
      throw e;
    }
  }
  parts.keyExpiry.start();
  parts.inventoryShare?.start();
  parts.freezeShare?.start();
  return {
    url,
    adminUrl,
    server,
    parts,
    async close(graceMs = config.shutdownGraceMs) {
      parts.keyExpiry.stop();
      parts.freezeShare?.stop();
      if (admin) {
        admin.close();
        admin.closeAllConnections();
      }
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // server.close() stops accepting and closes idle connections once; connections that become
      // idle when their answer is out are closed by the poll below.
      server.closeIdleConnections();
      parts.forwarder.closeTunnels();
      tarpit.close();
      const poll = setInterval(() => server.closeIdleConnections(), 50);
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), graceMs);
      });
      const clean = await Promise.race([closed.then(() => true), expired]);
      clearInterval(poll);
      clearTimeout(timer);
      if (!clean) {
        log.warn({ graceMs }, 'shutdown grace period over: closing the connections still open');
        server.closeAllConnections();
        await closed;
      }
      parts.credentials.close();
      parts.idle.close();
      await persister?.close();
      await parts.inventoryShare?.close();
      await parts.shared?.close();
      const pools = Promise.all([
        parts.routes.close(),
        clean ? parts.forwarder.close() : parts.forwarder.destroy(),
      ]);
      // After a cut, upstream calls whose client is gone are not waited for long.
      if (clean) await pools;
      else await Promise.race([pools, new Promise((r) => setTimeout(r, 1000).unref())]);
      // The last spans, sent (the exporter's own timeout bounds it).
      await parts.tracing
        ?.shutdown()
        .catch((e: unknown) => log.warn({ problem: (e as Error).message }, 'could not send the last traces'));
      return clean;
    },
  };
}

/** Listens on host:port; answers the URL to reach it (0.0.0.0 as 127.0.0.1). */
async function listen(server: Server, host: string, port: number): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const { port: bound, address, family } = server.address() as AddressInfo;
  const shown = family === 'IPv6' ? `[${address}]` : address === '0.0.0.0' ? '127.0.0.1' : address;
  return `http://${shown}:${bound}`;
}

/** The upstreams of the config: BRIDGE_CONFIG `upstreams`, else ODOO_URL serving every database. */
function upstreamSettings(config: BridgeConfig): UpstreamSettings[] {
  if (config.file.upstreams.length > 0) return config.file.upstreams;
  if (config.odooUrlFromUpstreams)
    throw new Error('BRIDGE_CONFIG has no upstreams any more and ODOO_URL is not set: add one of them');
  return [
    {
      name: 'default',
      url: config.odooUrl,
      mode: 'translate',
      databases: ['*'],
      shadow: 0,
      dbHeader: undefined,
      timeoutMs: undefined,
      docsKeyEnv: undefined,
      serviceKeyEnv: undefined,
    },
  ];
}

/** One upstream's pools, caches and version (src/upstream/routes.ts); a native one's forwarder too. */
function upstreamParts(
  s: UpstreamSettings,
  config: BridgeConfig,
  log: Logger,
  metrics: BridgeMetrics,
  env: NodeJS.ProcessEnv,
): UpstreamParts<BridgeUpstream> {
  const settings = {
    ...config,
    odooUrl: s.url,
    dbHeader: s.dbHeader ?? config.dbHeader,
    upstreamTimeoutMs: s.timeoutMs ?? config.upstreamTimeoutMs,
  };
  // This server's own keys, from the variables its entry names (read when it is built: start, reload).
  const docsKey = s.docsKeyEnv === undefined ? config.docsKey : env[s.docsKeyEnv];
  const serviceKey =
    s.serviceKeyEnv === undefined ? config.serviceKey : parseServiceKey(env[s.serviceKeyEnv]);
  const odoo = new OdooClient({ ...settings, connections: config.upstreamConnections });
  odoo.tracing = tracingNow.current;
  odoo.observer = (endpoint, seconds, error) => metrics.upstreamRequest(endpoint, seconds, error);
  odoo.onRetry = (e) => {
    metrics.upstreamRetry(e.reason, e.granted);
    log.warn(
      {
        upstream: s.name,
        path: e.path,
        reason: e.reason,
        failure: e.failure,
        attempt: e.attempt,
        delayMs: e.delayMs,
      },
      e.granted ? 'retrying a request to Odoo' : 'not retrying a request to Odoo: retry budget spent',
    );
  };
  const signatures = new SignatureRegistry({
    odoo,
    overrides: config.file.signatures,
    docsKey,
    cacheSize: config.signatureCacheSize,
    ttlMs: config.signatureCacheTtlMs,
  });
  signatures.onCacheLookup = (hit) => metrics.signatureLookup(hit);
  const webDb = new WebDatabaseClient(settings);
  const native = s.mode === 'native' ? new Forwarder(settings, log) : undefined;
  if (native) native.observer = (sample) => metrics.forwarded(sample);
  return {
    parts: {
      odoo,
      signatures,
      version: new VersionSource(odoo, config.versionCacheTtlMs),
      webDb,
      native,
      serviceKey,
    },
    async close() {
      await Promise.all([odoo.close(), webDb.close(), native?.close()]);
    },
  };
}

/** The tracing of the running bridge, for upstreams built after it started (a reload). */
const tracingNow: { current: Tracing | undefined } = { current: undefined };
