/**
 * Settings: environment variables, each with a command-line flag, validated at start-up.
 * A bad or missing setting stops start-up with one line naming it (see `ConfigError`).
 */
import { checkConfigDocument, NO_CONFIG_FILE, readConfigDocument, type ConfigFile } from './config-file.ts';
import { parseTrustedProxies, type TrustedProxies } from './server/client-address.ts';

export interface BridgeConfig {
  /** Upstream Odoo base URL, without a trailing slash: `http://odoo:8069` or `https://host/prefix`. */
  odooUrl: string;
  /** ODOO_URL was not given: it stands for the first of BRIDGE_CONFIG's upstreams. */
  odooUrlFromUpstreams?: boolean;
  /** Where the legacy endpoints are served. */
  listen: HostPort;
  /** BRIDGE_ADMIN_LISTEN: where `/_bridge/*` is served instead of the public listener. */
  adminListen: HostPort | undefined;
  /** BRIDGE_ADMIN_TOKEN: what the inventory and its page require (Bearer, or Basic password). */
  adminToken: string | undefined;
  /** `auto`: send the legacy call's db as `X-Odoo-Database`; `never`: send no such header. */
  dbHeader: 'auto' | 'never';
  /** Key of a user in the Technical Documentation group, used only to read `/doc-bearer`. */
  docsKey: string | undefined;
  /** API key (and its database) used to read res.lang / res.country for db.list_lang / db.list_countries. */
  serviceKey: ServiceKey | undefined;
  /** The BRIDGE_CONFIG path, re-read when it changes (credentials). */
  configPath: string | undefined;
  connectTimeoutMs: number;
  /** Time allowed for Odoo's whole answer to one call. */
  upstreamTimeoutMs: number;
  /**
   * Most connections open to Odoo for legacy calls at once (opened as needed, kept alive); calls
   * beyond them wait in the bridge for one to be free.
   */
  upstreamConnections: number;
  /** Time allowed for Odoo to answer a database operation (create, duplicate, drop, dump, restore). */
  dbTimeoutMs: number;
  /** Largest legacy request body accepted (Odoo's own default is 128 MiB). */
  maxBodyBytes: number;
  /** Most request body bytes held in memory by all calls at once (server/admission.ts). */
  maxInflightBytes: number;
  /** Most legacy calls and forwarded requests in flight at once. */
  maxCallsInFlight: number;
  /** Most of them from one client address. */
  maxCallsPerClient: number;
  /** A request body that sends nothing for this long is cut. */
  bodyIdleTimeoutMs: number;
  /** A websocket tunnel silent both ways for this long is closed. */
  tunnelIdleTimeoutMs: number;
  /** BRIDGE_TRUSTED_PROXIES: peers whose X-Forwarded-For names the client (server/client-address.ts). */
  trustedProxies: TrustedProxies | undefined;
  /** Largest db.restore request accepted (its backup streams through); 0: no limit, as Odoo. */
  maxRestoreBytes: number;
  /** Largest upstream answer accepted. */
  maxUpstreamBytes: number;
  signatureCacheSize: number;
  signatureCacheTtlMs: number;
  authCacheTtlMs: number;
  /** Failed logins per (db, login) within the window before it is throttled. */
  authMaxFailures: number;
  /** Failed logins per client address within the window before it is throttled. */
  authMaxFailuresPerClient: number;
  authFailureWindowMs: number;
  /** How often the config file and API key files are checked for changes; 0: only on SIGHUP. */
  credentialsPollMs: number;
  versionCacheTtlMs: number;
  /** On SIGTERM, how long calls in flight may take to finish before their connections are closed. */
  shutdownGraceMs: number;
  /** BRIDGE_METRICS_MODELS: label the request metrics with db, model and method (capped). */
  metricsModels: boolean;
  /** BRIDGE_INVENTORY_*: the migration inventory (src/inventory/). */
  inventoryFile: string | undefined;
  inventoryMaxClients: number;
  inventoryMaxCalls: number;
  inventoryMaxClientsPerAddress: number;
  inventoryRetentionDays: number;
  inventoryMigratedAfterDays: number;
  /** BRIDGE_REDIS_URL: the replicas' shared state (src/shared/); unset: every replica keeps its own. */
  redisUrl: string | undefined;
  /** Prefix of every key the bridge writes to Redis (several bridges may share one Redis). */
  redisPrefix: string;
  /** BRIDGE_REDIS_SECRET: what the replicas key the names they count in Redis with. */
  redisSecret: string | undefined;
  /** How often a replica publishes its inventory to Redis (when it changed). */
  inventoryShareMs: number;
  /** BRIDGE_RETRY_*: retries of requests to Odoo (src/upstream/retry.ts). */
  retryMax: number;
  retryBackoffMs: number;
  retryBudgetRatio: number;
  retryBudgetPerSecond: number;
  logLevel: LogLevel;
  /** From the BRIDGE_CONFIG file. */
  file: ConfigFile;
}

/** `host:port`; an empty host is every address. */
export interface HostPort {
  host: string;
  port: number;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type { ConfigFile, SignatureOverrides } from './config-file.ts';

/** ODOO_SERVICE_KEY: `<database>:<api key>`, or `<api key>` for the server's default database. */
export interface ServiceKey {
  db: string | undefined;
  key: string;
}

export class ConfigError extends Error {}

/**
 * One setting: its environment variable and flag, its default and help, whether it is a secret,
 * and how its value is read into the config (`key`, `parse`: bounds and types, a ConfigError of
 * one line naming the setting otherwise). `loadConfig` is a loop over these rows; the help, the
 * docs/configuration.md's table (test/deploy/settings-table.test.ts) and the manifests' checks read them too.
 */
export interface Setting {
  readonly env: string;
  readonly flag: string;
  readonly key: keyof BridgeConfig;
  readonly help: string;
  readonly default?: string;
  readonly secret?: boolean;
  /** The value (undefined: not set and no default) as the config holds it. */
  parse(value: string | undefined, env: string): unknown;
}

/** A row whose `parse` answers exactly what `key` holds in BridgeConfig. */
function row<K extends keyof BridgeConfig>(
  r: Omit<Setting, 'key' | 'parse'> & {
    key: K;
    parse(value: string | undefined, env: string): BridgeConfig[K];
  },
): Setting {
  return r;
}

// The parsers: each answers the config's value or throws a ConfigError naming the setting.
const text = (v: string | undefined): string | undefined => v;
const int =
  (min: number, scale = 1) =>
  (v: string | undefined, env: string): number => {
    const value = v ?? '';
    const n = Number(value);
    if (!/^\d{1,15}$/.test(value) || !Number.isSafeInteger(n * scale) || n < min)
      throw new ConfigError(`${env}=${value} must be a whole number >= ${min}`);
    return n * scale;
  };
/** A whole number from `min` to `max`. */
const intUpTo =
  (min: number, max: number) =>
  (v: string | undefined, env: string): number => {
    const n = int(min)(v, env);
    if (n > max) throw new ConfigError(`${env}=${n} must be at most ${max}`);
    return n;
  };
const decimal = (v: string | undefined, env: string): number => {
  const value = v ?? '';
  if (!/^\d{1,9}(\.\d{1,9})?$/.test(value))
    throw new ConfigError(`${env}=${value} must be a number >= 0, e.g. 0.1`);
  return Number(value);
};
const bool = (v: string | undefined, env: string): boolean => {
  if (v !== 'true' && v !== 'false') throw new ConfigError(`${env}=${v} must be 'true' or 'false'`);
  return v === 'true';
};
function oneOf<T extends string>(values: readonly T[]) {
  return (v: string | undefined, env: string): T => {
    if (!(values as readonly (string | undefined)[]).includes(v))
      throw new ConfigError(
        `${env}=${v} must be ${values.length === 2 ? `'${values[0]}' or '${values[1]}'` : `one of ${values.join(', ')}`}`,
      );
    return v as T;
  };
}
const hostPort =
  (example: string) =>
  (v: string | undefined, env: string): HostPort => {
    const value = v ?? '';
    const colon = value.lastIndexOf(':');
    const portText = value.slice(colon + 1);
    const port = Number(portText);
    if (colon < 0 || !/^\d{1,5}$/.test(portText) || port > 65535)
      throw new ConfigError(`${env}=${value} must be host:port, e.g. ${example}`);
    const host = value.slice(0, colon).replace(/^\[(.*)\]$/, '$1') || '0.0.0.0';
    return { host, port };
  };
const optional =
  <T>(parse: (v: string | undefined, env: string) => T) =>
  (v: string | undefined, env: string): T | undefined =>
    v === undefined ? undefined : parse(v, env);

function odooUrl(v: string | undefined): string {
  if (!v)
    throw new ConfigError(
      'ODOO_URL is not set: give the upstream Odoo URL, e.g. ODOO_URL=http://odoo:8069 (or upstreams in BRIDGE_CONFIG)',
    );
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new ConfigError(`ODOO_URL=${v} is not a URL (expected e.g. http://odoo:8069)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError(`ODOO_URL=${v} must be an http:// or https:// URL`);
  if (url.username || url.password || url.search || url.hash)
    throw new ConfigError('ODOO_URL must not carry credentials, a query or a fragment');
  // Trailing slashes, tried from the first of a run only (`/\/+$/` rescans a run from each slash).
  return v.replace(/(?<!\/)\/+$/, '');
}

function redisUrl(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    // The value may hold a password: never repeated.
    throw new ConfigError('BRIDGE_REDIS_URL is not a URL (expected e.g. redis://redis:6379/0)');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
    throw new ConfigError('BRIDGE_REDIS_URL must be a redis:// or rediss:// URL');
  return v;
}

function redisPrefix(v: string | undefined, env: string): string {
  const value = v ?? '';
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(value))
    throw new ConfigError(`${env}=${value} must be 1 to 64 letters, digits or _ . : -`);
  return value;
}

function adminToken(v: string | undefined): string | undefined {
  if (v !== undefined && v.length < 16)
    throw new ConfigError('BRIDGE_ADMIN_TOKEN must be at least 16 characters (e.g. openssl rand -hex 24)');
  return v;
}

function trustedProxies(v: string | undefined): TrustedProxies | undefined {
  if (v === undefined) return undefined;
  try {
    return parseTrustedProxies(v);
  } catch (e) {
    throw new ConfigError(`BRIDGE_TRUSTED_PROXIES: ${(e as Error).message}`);
  }
}

export const SETTINGS: readonly Setting[] = [
  row({
    env: 'ODOO_URL',
    flag: '--odoo-url',
    key: 'odooUrl',
    help: 'Upstream Odoo 19+ base URL (required), e.g. http://odoo:8069',
    parse: odooUrl,
  }),
  row({
    env: 'BRIDGE_LISTEN',
    flag: '--listen',
    key: 'listen',
    default: '0.0.0.0:8069',
    help: 'host:port to serve the legacy endpoints on',
    parse: hostPort('0.0.0.0:8069'),
  }),
  row({
    env: 'BRIDGE_ADMIN_LISTEN',
    flag: '--admin-listen',
    key: 'adminListen',
    help: "host:port to serve the bridge's own endpoints (/_bridge/: probes, metrics, inventory) on instead of the public listener, e.g. 127.0.0.1:9169 (default: the public listener)",
    parse: optional(hostPort('127.0.0.1:9169')),
  }),
  row({
    env: 'BRIDGE_ADMIN_TOKEN',
    flag: '--admin-token',
    key: 'adminToken',
    secret: true,
    help: 'token the inventory (/_bridge/inventory) and its page (/_bridge/) require: Authorization: Bearer <token>, or Basic with the token as password (default: none)',
    parse: adminToken,
  }),
  row({
    env: 'ODOO_DB_HEADER',
    flag: '--db-header',
    key: 'dbHeader',
    default: 'auto',
    help: "'auto': send the legacy call's db as X-Odoo-Database; 'never': don't (hosted Odoo that answer 404 to it)",
    parse: oneOf(['auto', 'never'] as const),
  }),
  row({
    env: 'ODOO_DOCS_KEY',
    flag: '--docs-key',
    key: 'docsKey',
    secret: true,
    help: 'API key of a user in the Technical Documentation group, used only to read method signatures (/doc-bearer)',
    parse: text,
  }),
  row({
    env: 'ODOO_SERVICE_KEY',
    flag: '--service-key',
    key: 'serviceKey',
    secret: true,
    help: '<database>:<api key> of any active user, used only to read languages and countries (db.list_lang, db.list_countries)',
    parse: parseServiceKey,
  }),
  row({
    env: 'BRIDGE_CONFIG',
    flag: '--config',
    key: 'configPath',
    help: 'YAML or JSON file: auth mode, credential map, signature overrides, shims (see docs/configuration.md)',
    parse: text,
  }),
  row({
    env: 'BRIDGE_CONNECT_TIMEOUT_MS',
    flag: '--connect-timeout-ms',
    key: 'connectTimeoutMs',
    default: '5000',
    help: 'time to connect to Odoo',
    parse: int(1),
  }),
  row({
    env: 'BRIDGE_UPSTREAM_TIMEOUT_MS',
    flag: '--upstream-timeout-ms',
    key: 'upstreamTimeoutMs',
    default: '120000',
    help: "time allowed for Odoo's whole answer to one call",
    parse: int(1),
  }),
  row({
    env: 'BRIDGE_UPSTREAM_CONNECTIONS',
    flag: '--upstream-connections',
    key: 'upstreamConnections',
    default: '256',
    help: 'most connections open to Odoo for legacy calls at once (more calls wait in the bridge)',
    parse: int(1),
  }),
  row({
    env: 'BRIDGE_DB_TIMEOUT_MS',
    flag: '--db-timeout-ms',
    key: 'dbTimeoutMs',
    default: '3600000',
    help: 'time allowed for Odoo to answer a database operation (create, duplicate, drop, dump, restore)',
    parse: int(1),
  }),
  row({
    env: 'BRIDGE_MAX_BODY_BYTES',
    flag: '--max-body-bytes',
    key: 'maxBodyBytes',
    default: String(128 * 1024 * 1024),
    help: 'largest legacy request body accepted',
    parse: int(1024),
  }),
  row({
    env: 'BRIDGE_MAX_INFLIGHT_BYTES',
    flag: '--max-inflight-bytes',
    key: 'maxInflightBytes',
    default: String(64 * 1024 * 1024),
    help: 'most request bytes all calls in flight may hold in memory at once (a call holds up to about 5 times its size, about once when its bulk is one long plain text such as a base64 attachment: the default keeps the bridge within a 512 MiB container); past it a call gets a retryable fault, and a call larger than it alone is refused',
    parse: int(1024 * 1024),
  }),
  row({
    env: 'BRIDGE_MAX_CALLS_IN_FLIGHT',
    flag: '--max-calls-in-flight',
    key: 'maxCallsInFlight',
    default: '1024',
    help: 'most legacy calls and forwarded requests in flight at once; past it a call gets a retryable fault (forwarded requests a 503)',
    parse: int(1),
  }),
  row({
    env: 'BRIDGE_MAX_CALLS_PER_CLIENT',
    flag: '--max-calls-per-client',
    key: 'maxCallsPerClient',
    default: '256',
    help: 'most of those from one client address (pipelined requests on one connection included); past it that client gets the retryable fault',
    parse: int(1),
  }),
  row({
    env: 'BRIDGE_BODY_IDLE_TIMEOUT_MS',
    flag: '--body-idle-timeout-ms',
    key: 'bodyIdleTimeoutMs',
    default: '30000',
    help: 'a request body that sends nothing for this long (or whose first 64 KiB take longer), or an answer the client reads nothing of for this long, is cut and its connection closed',
    parse: int(100),
  }),
  row({
    env: 'BRIDGE_TUNNEL_IDLE_TIMEOUT_SECONDS',
    flag: '--tunnel-idle-timeout-seconds',
    key: 'tunnelIdleTimeoutMs',
    default: '120',
    help: "a websocket (Odoo's bus, /websocket) silent both ways for this long is closed; Odoo pings an idle one every 40-55 s",
    parse: int(1, 1000),
  }),
  row({
    env: 'BRIDGE_TRUSTED_PROXIES',
    flag: '--trusted-proxies',
    key: 'trustedProxies',
    help: "addresses or CIDR ranges of proxies in front of the bridge (or loopback, linklocal, uniquelocal), comma-separated: a request from one of them is named by the X-Forwarded-For hop it saw, for throttling, logs and the inventory (default: none, the socket's peer)",
    parse: trustedProxies,
  }),
  row({
    env: 'BRIDGE_MAX_RESTORE_BYTES',
    flag: '--max-restore-bytes',
    key: 'maxRestoreBytes',
    default: '0',
    help: 'largest db.restore request accepted, its backup streamed through (0: no limit, as Odoo)',
    parse: int(0),
  }),
  row({
    env: 'BRIDGE_MAX_UPSTREAM_BYTES',
    flag: '--max-upstream-bytes',
    key: 'maxUpstreamBytes',
    default: String(512 * 1024 * 1024),
    help: 'largest answer accepted from Odoo',
    parse: int(1024),
  }),
  row({
    env: 'BRIDGE_SIGNATURE_CACHE_SIZE',
    flag: '--signature-cache-size',
    key: 'signatureCacheSize',
    default: '500',
    help: 'models whose signatures are cached',
    parse: int(1),
  }),
  row({
    env: 'BRIDGE_SIGNATURE_CACHE_TTL_SECONDS',
    flag: '--signature-cache-ttl-seconds',
    key: 'signatureCacheTtlMs',
    default: '3600',
    help: 'how long a model description is trusted',
    parse: int(1, 1000),
  }),
  row({
    env: 'BRIDGE_AUTH_CACHE_TTL_SECONDS',
    flag: '--auth-cache-ttl-seconds',
    key: 'authCacheTtlMs',
    default: '60',
    help: 'how long a verified (db, uid, key) or (db, login or uid, password) is trusted without verifying it again',
    parse: int(0, 1000),
  }),
  row({
    env: 'BRIDGE_AUTH_MAX_FAILURES',
    flag: '--auth-max-failures',
    key: 'authMaxFailures',
    default: '5',
    help: 'failed logins per (db, login) within the window before further attempts are refused',
    parse: int(1),
  }),
  row({
    env: 'BRIDGE_AUTH_MAX_FAILURES_PER_CLIENT',
    flag: '--auth-max-failures-per-client',
    key: 'authMaxFailuresPerClient',
    default: '20',
    help: 'failed logins per client address within the window before further attempts are refused',
    parse: int(1),
  }),
  row({
    env: 'BRIDGE_AUTH_FAILURE_WINDOW_SECONDS',
    flag: '--auth-failure-window-seconds',
    key: 'authFailureWindowMs',
    default: '60',
    help: 'how long a failed login counts',
    parse: int(1, 1000),
  }),
  row({
    env: 'BRIDGE_CREDENTIALS_POLL_SECONDS',
    flag: '--credentials-poll-seconds',
    key: 'credentialsPollMs',
    default: '5',
    help: 'how often BRIDGE_CONFIG and the API key files are checked for changes (0: only on SIGHUP)',
    parse: int(0, 1000),
  }),
  row({
    env: 'BRIDGE_VERSION_CACHE_TTL_SECONDS',
    flag: '--version-cache-ttl-seconds',
    key: 'versionCacheTtlMs',
    default: '60',
    help: 'how long the answer of /web/version is reused',
    parse: int(0, 1000),
  }),
  row({
    env: 'BRIDGE_SHUTDOWN_GRACE_SECONDS',
    flag: '--shutdown-grace-seconds',
    key: 'shutdownGraceMs',
    default: '25',
    help: 'on SIGTERM, how long calls in flight may take to finish before the bridge exits',
    parse: int(0, 1000),
  }),
  row({
    env: 'BRIDGE_METRICS_MODELS',
    flag: '--metrics-models',
    key: 'metricsModels',
    default: 'false',
    help: "'true': label /_bridge/metrics' request counts with db, model and method (the first 200 of each, then 'other')",
    parse: bool,
  }),
  row({
    env: 'BRIDGE_INVENTORY_FILE',
    flag: '--inventory-file',
    key: 'inventoryFile',
    help: 'file the migration inventory (/_bridge/inventory) is loaded from at start and saved to every 30 s and on exit (default: kept in memory only)',
    parse: text,
  }),
  row({
    env: 'BRIDGE_INVENTORY_MAX_CLIENTS',
    flag: '--inventory-max-clients',
    key: 'inventoryMaxClients',
    default: '100',
    help: 'clients the migration inventory keeps, least recently seen dropped first (0: no inventory)',
    parse: int(0),
  }),
  row({
    env: 'BRIDGE_INVENTORY_MAX_CALLS',
    flag: '--inventory-max-calls',
    key: 'inventoryMaxCalls',
    default: '100',
    help: 'kinds of call (service, model, method, protocol) the inventory keeps per client, least recently seen dropped first',
    parse: int(1),
  }),
  row({
    env: 'BRIDGE_INVENTORY_MAX_CLIENTS_PER_ADDRESS',
    flag: '--inventory-max-clients-per-address',
    key: 'inventoryMaxClientsPerAddress',
    default: '10',
    help: 'clients (User-Agent, db, login) the inventory keeps per client address, its least recently seen dropped first: one sender cannot evict other clients',
    parse: int(1),
  }),
  row({
    env: 'BRIDGE_INVENTORY_RETENTION_DAYS',
    flag: '--inventory-retention-days',
    key: 'inventoryRetentionDays',
    default: '30',
    help: 'days of calls per day the inventory keeps for its trend (at most 400); a client or kind of call not seen for that long is forgotten',
    parse: intUpTo(1, 400),
  }),
  row({
    env: 'BRIDGE_INVENTORY_MIGRATED_AFTER_DAYS',
    flag: '--inventory-migrated-after-days',
    key: 'inventoryMigratedAfterDays',
    default: '7',
    help: 'a kind of call (or a client) not seen for this many days counts as migrated on the migration page (less than the retention)',
    parse: intUpTo(1, 399),
  }),
  row({
    env: 'BRIDGE_REDIS_URL',
    flag: '--redis-url',
    key: 'redisUrl',
    secret: true,
    help: 'redis:// or rediss:// URL of a Redis 6+ (or Valkey) the replicas share: login throttling counts and the migration inventory of every replica (default: none, each replica keeps its own in memory)',
    parse: redisUrl,
  }),
  row({
    env: 'BRIDGE_REDIS_PREFIX',
    flag: '--redis-prefix',
    key: 'redisPrefix',
    default: 'odoo-rpc-bridge:',
    help: 'prefix of every Redis key the bridge writes (bridges in front of different Odoos sharing one Redis need different prefixes)',
    parse: redisPrefix,
  }),
  row({
    env: 'BRIDGE_REDIS_SECRET',
    flag: '--redis-secret',
    key: 'redisSecret',
    secret: true,
    help: 'with BRIDGE_REDIS_URL: a secret shared by the replicas (at least 16 characters) that keys the throttling names they keep in Redis, so that reading Redis does not tell logins or addresses (default: derived from BRIDGE_REDIS_URL, weaker when its URL has no password)',
    parse: (v) => {
      if (v !== undefined && v.length < 16)
        throw new ConfigError(
          'BRIDGE_REDIS_SECRET must be at least 16 characters (e.g. openssl rand -hex 24)',
        );
      return v;
    },
  }),
  row({
    env: 'BRIDGE_INVENTORY_SHARE_SECONDS',
    flag: '--inventory-share-seconds',
    key: 'inventoryShareMs',
    default: '5',
    help: 'with BRIDGE_REDIS_URL: how often a replica publishes its migration inventory to Redis (when it changed), at most 300',
    parse: (v, env) => intUpTo(1, 300)(v, env) * 1000,
  }),
  row({
    env: 'BRIDGE_RETRY_MAX',
    flag: '--retry-max',
    key: 'retryMax',
    default: '1',
    help: 'retries of a request to Odoo that provably never reached it, or of a read cut off or answered 502/503/504 by a proxy (0: none); writes are never retried once sent',
    parse: int(0),
  }),
  row({
    env: 'BRIDGE_RETRY_BACKOFF_MS',
    flag: '--retry-backoff-ms',
    key: 'retryBackoffMs',
    default: '50',
    help: 'delay before a retry (jittered ±50 %, doubled for each further retry)',
    parse: int(0),
  }),
  row({
    env: 'BRIDGE_RETRY_BUDGET_RATIO',
    flag: '--retry-budget-ratio',
    key: 'retryBudgetRatio',
    default: '0.1',
    help: 'retries allowed per request over the last 10 s (0.1: retries add at most 10 % to the load), on top of the per-second floor',
    parse: decimal,
  }),
  row({
    env: 'BRIDGE_RETRY_BUDGET_PER_SECOND',
    flag: '--retry-budget-per-second',
    key: 'retryBudgetPerSecond',
    default: '1',
    help: 'retries allowed per second whatever the traffic (averaged over 10 s; decimals allowed)',
    parse: decimal,
  }),
  row({
    env: 'BRIDGE_LOG_LEVEL',
    flag: '--log-level',
    key: 'logLevel',
    default: 'info',
    help: 'pino level: fatal, error, warn, info, debug, trace, silent',
    parse: oneOf(LOG_LEVELS),
  }),
];

export function helpText(): string {
  const lines = [
    'odoo-rpc-bridge: serve Odoo legacy XML-RPC / JSON-RPC from an Odoo 19+ JSON-2 API',
    '',
    'Usage: odoo-rpc-bridge [--flag value ...]     (npm start -- --flag value ...)',
    '       odoo-rpc-bridge hash [--scheme pbkdf2-sha512|scrypt] < password    (a password_hash; --help for more)',
    '       odoo-rpc-bridge check-config [file]      (what is wrong with a BRIDGE_CONFIG file)',
    '',
    'Each setting is an environment variable or the flag beside it (the flag wins):',
  ];
  for (const s of SETTINGS) {
    const dflt = s.default === undefined ? '' : ` (default ${s.default})`;
    lines.push(`  ${s.env.padEnd(36)} ${s.flag.padEnd(30)} ${s.help}${dflt}`);
  }
  return lines.join('\n') + '\n';
}

/** Reads argv flags over env vars; throws `ConfigError` with one line naming the bad setting. */
export function loadConfig(env: NodeJS.ProcessEnv, argv: readonly string[]): BridgeConfig {
  const raw = new Map<string, string>();
  for (const s of SETTINGS) {
    const v = env[s.env];
    if (v !== undefined && v !== '') raw.set(s.env, v);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const eq = arg.indexOf('=');
    const [flag, inline] = eq < 0 ? [arg, undefined] : [arg.slice(0, eq), arg.slice(eq + 1)];
    const setting = SETTINGS.find((s) => s.flag === flag);
    if (!setting) throw new ConfigError(`unknown argument ${JSON.stringify(arg)} (see --help)`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new ConfigError(`${setting.flag} needs a value`);
    raw.set(setting.env, value);
  }
  // With `upstreams:` in BRIDGE_CONFIG, ODOO_URL is not needed: the first upstream stands for it
  // where one URL is shown (the start-up line).
  const configPath = raw.get('BRIDGE_CONFIG');
  const file = configPath ? readConfigFile(configPath) : NO_CONFIG_FILE;
  const first = file.upstreams[0];
  const derived = first !== undefined && !raw.has('ODOO_URL');
  if (first && derived) raw.set('ODOO_URL', first.url);
  const out: Record<string, unknown> = {};
  for (const s of SETTINGS) out[s.key] = s.parse(raw.get(s.env) ?? s.default, s.env);
  const config = out as unknown as Omit<BridgeConfig, 'file'>;
  if (config.inventoryMigratedAfterDays >= config.inventoryRetentionDays)
    throw new ConfigError(
      `BRIDGE_INVENTORY_MIGRATED_AFTER_DAYS=${config.inventoryMigratedAfterDays} must be less than BRIDGE_INVENTORY_RETENTION_DAYS=${config.inventoryRetentionDays}: a client would be forgotten before it is shown as migrated`,
    );
  return { ...config, file, ...(derived ? { odooUrlFromUpstreams: true } : {}) };
}

/** ODOO_SERVICE_KEY's value; the error never repeats it (it is a secret). */
export function parseServiceKey(value: string | undefined): ServiceKey | undefined {
  if (value === undefined) return undefined;
  const colon = value.indexOf(':');
  const db = colon < 0 ? undefined : value.slice(0, colon);
  const key = colon < 0 ? value : value.slice(colon + 1);
  if ((db !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(db)) || !/^\S+$/.test(key))
    throw new ConfigError(
      'ODOO_SERVICE_KEY must be <database>:<api key> (or just <api key> for a single-database Odoo)',
    );
  return { db, key };
}

/**
 * Reads the BRIDGE_CONFIG file (src/config-file.ts); throws a ConfigError with its first problem
 * (and how many more there are: `odoo-rpc-bridge check-config` lists them all).
 */
export function readConfigFile(path: string): ConfigFile {
  const read = readConfigDocument(path);
  if ('problem' in read) throw new ConfigError(read.problem);
  return parseConfigFile(read.doc, path);
}

/** A parsed config document as the bridge uses it; throws a ConfigError with its first problem. */
export function parseConfigFile(doc: unknown, where: string): ConfigFile {
  const check = checkConfigDocument(doc, where);
  const [first, ...more] = check.problems;
  if (first !== undefined)
    throw new ConfigError(
      more.length === 0
        ? first
        : `${first} (and ${more.length} more: odoo-rpc-bridge check-config lists them)`,
    );
  return check.file;
}
