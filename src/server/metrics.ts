/**
 * Prometheus metrics at `GET /_bridge/metrics` (prom-client), on a registry of this bridge's own
 * (several bridges can run in one process, as in the tests). Label values are bounded: protocol,
 * service and method come from fixed sets (anything else is `other`); model/method and db labels
 * only with BRIDGE_METRICS_MODELS=true, and then only the first MODEL_LABEL_CAP pairs (and dbs),
 * the rest as `other`. No label holds a client's login, a key or a password; the two series about
 * the credential map's own keys (their expiry, their refusal) are labelled with its entries' db and
 * login, which the configuration names (a bounded set, not what clients send). The three series every
 * call touches are counted by call-series.ts (the same text, a fraction of prom-client's cost per
 * sample); the others by prom-client.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SignatureDriftOutcome } from '../services/object.ts';
import type { UpstreamEndpoint, UpstreamErrorKind } from '../upstream/kinds.ts';
import { CallSeries } from './call-series.ts';

/** Distinct model.method pairs (and dbs) given their own label value before `other`. */
export const MODEL_LABEL_CAP = 200;

/** The legacy functions (the rest is `other`, so a client cannot grow the label set). */
const LEGACY_METHODS: Record<string, ReadonlySet<string>> = {
  common: new Set(['login', 'authenticate', 'version', 'about', 'set_loglevel']),
  object: new Set(['execute', 'execute_kw']),
  db: new Set([
    'create_database',
    'duplicate_database',
    'drop',
    'dump',
    'restore',
    'rename',
    'change_admin_password',
    'migrate_databases',
    'db_exist',
    'list',
    'list_lang',
    'list_countries',
    'server_version',
  ]),
};

export interface CallSample {
  protocol: string;
  service: string | undefined;
  method: string | undefined;
  outcome: 'ok' | 'fault';
  seconds: number;
  db?: string | undefined;
  model?: string | undefined;
  modelMethod?: string | undefined;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export class BridgeMetrics {
  readonly registry = new Registry();
  private readonly models: boolean;
  private readonly pairs = new Set<string>();
  private readonly dbs = new Set<string>();
  /** The series every call touches: counted by call-series.ts, not prom-client (its cost per sample). */
  private readonly requests: CallSeries;
  private readonly duration: CallSeries;
  private readonly upstream: CallSeries;
  private readonly upstreamErrors: Counter;
  private readonly upstreamRetries: Counter;
  private readonly retryBudgetExhausted: Counter;
  private readonly signatureCache: Counter;
  private readonly signatureDrifts: Counter;
  private readonly authFailures: Counter;
  private readonly forwardedRequests: Counter;
  private readonly forwardedDuration: Histogram;
  private readonly refusals: Counter;
  private readonly keysRejected: Counter;
  private readonly frozenRefusals: Counter;

  /** `models`: BRIDGE_METRICS_MODELS (model/method and db labels, capped). */
  constructor(opts: { models: boolean }) {
    this.models = opts.models;
    const registers = [this.registry];
    const callLabels = ['protocol', 'service', 'method', 'outcome'];
    if (this.models) callLabels.push('db', 'model', 'model_method');
    this.requests = new CallSeries({
      name: 'odoo_bridge_requests_total',
      help: 'Legacy calls answered, by protocol, service, method and outcome (ok or fault)',
      labelNames: callLabels,
    });
    this.duration = new CallSeries({
      name: 'odoo_bridge_request_duration_seconds',
      help: 'Time to answer a legacy call (the whole call, upstream included)',
      labelNames: ['protocol', 'service', 'outcome'],
      buckets: LATENCY_BUCKETS,
    });
    this.upstream = new CallSeries({
      name: 'odoo_bridge_upstream_duration_seconds',
      help: 'Time of one request to Odoo (JSON-2 call, /web/version, /doc-bearer), by endpoint',
      labelNames: ['endpoint'],
      buckets: LATENCY_BUCKETS,
    });
    this.upstreamErrors = new Counter({
      name: 'odoo_bridge_upstream_errors_total',
      help: 'Requests to Odoo that failed, by kind (refused, timeout, reset, status, garbage, too_large, other)',
      labelNames: ['endpoint', 'kind'],
      registers,
    });
    this.upstreamRetries = new Counter({
      name: 'odoo_bridge_upstream_retries_total',
      help: 'Requests to Odoo sent again, by reason (connect: never reached Odoo; reset or status: a read cut off or answered 502/503/504)',
      labelNames: ['reason'],
      registers,
    });
    this.retryBudgetExhausted = new Counter({
      name: 'odoo_bridge_upstream_retry_budget_exhausted_total',
      help: 'Retries not made because the retry budget was spent (the fault was answered), by reason',
      labelNames: ['reason'],
      registers,
    });
    this.signatureDrifts = new Counter({
      name: 'odoo_bridge_signature_drift_total',
      help: 'JSON-2 refusals (422) of an argument name the bridge produced, by outcome (retried: described again and sent again; unchanged: the new description names them the same; override: BRIDGE_CONFIG wins)',
      labelNames: ['outcome'],
      registers,
    });
    this.signatureCache = new Counter({
      name: 'odoo_bridge_signature_cache_total',
      help: 'Look-ups of model descriptions (/doc-bearer) in the signature cache, by result (hit or miss)',
      labelNames: ['result'],
      registers,
    });
    this.authFailures = new Counter({
      name: 'odoo_bridge_auth_failures_total',
      help: 'Failed or throttled logins and calls, by auth mode and reason (never the login)',
      labelNames: ['mode', 'reason'],
      registers,
    });
    this.forwardedRequests = new Counter({
      name: 'odoo_bridge_forwarded_requests_total',
      help: 'Requests forwarded to Odoo as is (whole-URL drop-in), by route family, HTTP method and status class',
      labelNames: ['route', 'method', 'status'],
      registers,
    });
    this.forwardedDuration = new Histogram({
      name: 'odoo_bridge_forwarded_duration_seconds',
      help: 'Time of a forwarded request, until its answer is fully sent (websockets: the whole session)',
      labelNames: ['route'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.refusals = new Counter({
      name: 'odoo_bridge_refused_total',
      help: 'Calls and forwarded requests refused at once because the bridge held its most (reason calls: BRIDGE_MAX_CALLS_IN_FLIGHT; client: BRIDGE_MAX_CALLS_PER_CLIENT; bytes: BRIDGE_MAX_INFLIGHT_BYTES)',
      labelNames: ['reason'],
      registers,
    });
    this.keysRejected = new Counter({
      name: 'odoo_bridge_api_key_rejected_total',
      help: "A credential map entry's API key refused by Odoo (expired or revoked), by the entry's db and login",
      labelNames: ['db', 'login'],
      registers,
    });
    this.frozenRefusals = new Counter({
      name: 'odoo_bridge_frozen_refusals_total',
      help: 'Calls refused because they may write to a database frozen for an upgrade (BRIDGE_CONFIG frozen)',
      registers,
    });
    // Zero series, so that dashboards and alerts see the metrics before the first event.
    for (const reason of ['calls', 'client', 'bytes']) this.refusals.inc({ reason }, 0);
    this.signatureCache.inc({ result: 'hit' }, 0);
    this.signatureCache.inc({ result: 'miss' }, 0);
    for (const outcome of ['retried', 'unchanged', 'override']) this.signatureDrifts.inc({ outcome }, 0);
    for (const reason of ['connect', 'reset', 'status']) {
      this.upstreamRetries.inc({ reason }, 0);
      this.retryBudgetExhausted.inc({ reason }, 0);
    }
  }

  call(s: CallSample): void {
    const service = s.service !== undefined && Object.hasOwn(LEGACY_METHODS, s.service) ? s.service : 'other';
    const known = LEGACY_METHODS[service];
    const method = known && s.method !== undefined && known.has(s.method) ? s.method : 'other';
    if (this.models) {
      const db = s.db === undefined ? '' : capped(this.dbs, s.db);
      const pair = s.model === undefined ? undefined : `${s.model}.${s.modelMethod ?? ''}`;
      const kept = pair === undefined ? '' : capped(this.pairs, pair);
      const model = kept === '' || kept === 'other' ? kept : (s.model ?? '');
      const modelMethod = kept === '' || kept === 'other' ? kept : (s.modelMethod ?? '');
      this.requests.add([s.protocol, service, method, s.outcome, db, model, modelMethod], 1);
    } else this.requests.add([s.protocol, service, method, s.outcome], 1);
    this.duration.add([s.protocol, service, s.outcome], s.seconds);
  }

  upstreamRequest(endpoint: UpstreamEndpoint, seconds: number, error?: UpstreamErrorKind): void {
    this.upstream.add([endpoint], seconds);
    if (error) this.upstreamErrors.inc({ endpoint, kind: error });
  }

  /** A retry of a request to Odoo (`granted`), or one refused by the retry budget. */
  upstreamRetry(reason: string, granted: boolean): void {
    (granted ? this.upstreamRetries : this.retryBudgetExhausted).inc({ reason });
  }

  signatureDrift(outcome: SignatureDriftOutcome): void {
    this.signatureDrifts.inc({ outcome });
  }

  signatureLookup(hit: boolean): void {
    this.signatureCache.inc({ result: hit ? 'hit' : 'miss' });
  }

  /** Labels come from forward-route.ts's fixed sets. */
  forwarded(s: { route: string; method: string; status: string; seconds: number }): void {
    this.forwardedRequests.inc({ route: s.route, method: s.method, status: s.status });
    this.forwardedDuration.observe({ route: s.route }, s.seconds);
  }

  /** A call refused at once by admission.ts. */
  refused(reason: 'calls' | 'client' | 'bytes'): void {
    this.refusals.inc({ reason });
  }

  /** Gauges read from what the bridge holds at each scrape. */
  watchAdmission(held: () => { calls: number; bytes: number }): void {
    new Gauge({
      name: 'odoo_bridge_inflight_calls',
      help: 'Legacy calls and forwarded requests in flight',
      registers: [this.registry],
      collect() {
        this.set(held().calls);
      },
    });
    new Gauge({
      name: 'odoo_bridge_inflight_request_bytes',
      help: 'Request body bytes held in memory by the calls in flight',
      registers: [this.registry],
      collect() {
        this.set(held().bytes);
      },
    });
  }

  authFailure(mode: string, reason: string): void {
    this.authFailures.inc({ mode, reason });
  }

  /** A call refused because it may write to a frozen database (BRIDGE_CONFIG frozen). */
  frozenRefusal(): void {
    this.frozenRefusals.inc();
  }

  /** Shadow mode's comparisons (src/server/shadow.ts), by outcome; every series from the start. */
  watchShadow(): (outcome: 'match' | 'mismatch' | 'error' | 'dropped') => void {
    const shadow = new Counter({
      name: 'odoo_bridge_shadow_total',
      help: "Shadow comparisons of read-only calls with the upstream's own legacy endpoint, by outcome (match, mismatch, error, dropped under load)",
      labelNames: ['outcome'],
      registers: [this.registry],
    });
    for (const outcome of ['match', 'mismatch', 'error', 'dropped']) shadow.inc({ outcome }, 0);
    return (outcome) => shadow.inc({ outcome });
  }

  /** Databases frozen now: BRIDGE_CONFIG patterns and run-time freezes, read at each scrape. */
  watchFreezes(read: () => { config: number; runtime: number }): void {
    new Gauge({
      name: 'odoo_bridge_frozen_databases',
      help: 'Databases frozen for an upgrade: patterns in BRIDGE_CONFIG (source config) and databases frozen with POST /_bridge/freeze/<db> (source runtime)',
      labelNames: ['source'],
      registers: [this.registry],
      collect() {
        const n = read();
        this.set({ source: 'config' }, n.config);
        this.set({ source: 'runtime' }, n.runtime);
      },
    });
  }

  /**
   * A credential map entry's API key that Odoo refused (expired or revoked); `by` 0 makes the
   * entry's series exist before its first refusal (an alert's `increase` sees 0 → 1).
   */
  keyRejected(db: string, login: string, by = 1): void {
    this.keysRejected.inc({ db, login }, by);
  }

  /**
   * BRIDGE_REDIS_URL: whether Redis is reachable now, and each time the throttle or the inventory
   * fell back to this replica's own state because it was not.
   */
  watchSharedState(ready: () => boolean): (what: 'throttle' | 'inventory' | 'freeze') => void {
    new Gauge({
      name: 'odoo_bridge_shared_state_up',
      help: 'Whether the shared state (BRIDGE_REDIS_URL) is reachable: 1 yes, 0 no (each replica then counts and records on its own)',
      registers: [this.registry],
      collect() {
        this.set(ready() ? 1 : 0);
      },
    });
    const fallbacks = new Counter({
      name: 'odoo_bridge_shared_state_fallbacks_total',
      help: "Times the login throttle, the inventory or the freezes used this replica's own state because the shared state (Redis) was unreachable",
      labelNames: ['what'],
      registers: [this.registry],
    });
    for (const what of ['throttle', 'inventory', 'freeze']) fallbacks.inc({ what }, 0);
    return (what) => fallbacks.inc({ what });
  }

  /** The earliest expiry of each mapped credential's user's RPC keys, read at each scrape. */
  watchKeyExpiry(read: () => readonly { db: string; login: string; expiresAt: number }[]): void {
    new Gauge({
      name: 'odoo_bridge_api_key_expiry_timestamp_seconds',
      help: "When the earliest of a mapped credential's user's API keys (scope rpc) expires, seconds since the epoch (keys without an expiry: no series)",
      labelNames: ['db', 'login'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const k of read()) this.set({ db: k.db, login: k.login }, k.expiresAt);
      },
    });
  }

  /** The metrics in Prometheus' text format, in the order they are declared above. */
  async text(): Promise<string> {
    const own = [this.requests, this.duration, this.upstream].map((m) => m.text()).join('\n\n');
    return `${own}\n\n${await this.registry.metrics()}`;
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

function capped(seen: Set<string>, value: string): string {
  if (seen.has(value)) return value;
  if (seen.size >= MODEL_LABEL_CAP) return 'other';
  seen.add(value);
  return value;
}
