/**
 * deploy/observability/: the Prometheus alert rules and the Grafana dashboard ask for metrics the
 * bridge really exposes (issue 19, item 4). The rules pass `promtool check rules` (Debian's
 * prometheus package; .ci/run installs it). Then a bridge serves traffic that touches every
 * series (legacy calls and a fault, a failed login, a forwarded request, an upstream error, a
 * mapped credential whose key expires and is then refused) and every metric a rule or a panel
 * names, with every label it filters or groups by, must be in its `/_bridge/metrics`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { hashPassword } from '../../src/auth/password-hash.ts';
import { readConfigFile } from '../../src/config.ts';
import { xmlrpcCall } from '../support/clients.ts';
import { CAPTURED_KEYS } from '../support/fake-odoo.ts';
import { KEYS, startStack, type Stack } from '../support/harness.ts';
import { skipWithoutRedis, startRedis, type TestRedis } from '../support/redis-server.ts';

const RULES = fileURLToPath(new URL('../../deploy/observability/alerts.yml', import.meta.url));
const DASHBOARD = fileURLToPath(
  new URL('../../deploy/observability/grafana-dashboard.json', import.meta.url),
);
const PROMTOOL = '/usr/bin/promtool';
const inCi = process.env['CI'] !== undefined && process.env['CI'] !== '';

/** Labels Prometheus adds or histograms have: not the bridge's to expose. */
const EXTERNAL_LABELS = new Set(['instance', 'job', 'le']);
/** Series Prometheus makes itself. */
const EXTERNAL_METRICS = new Set(['up']);

function ruleExprs(): string[] {
  const doc = parse(readFileSync(RULES, 'utf8')) as {
    groups: { rules: { alert: string; expr: string }[] }[];
  };
  return doc.groups.flatMap((g) => g.rules.map((r) => String(r.expr)));
}

function panelExprs(): string[] {
  const doc = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    panels: { targets?: { expr: string }[] }[];
    templating: { list: { query?: unknown }[] };
  };
  const queries = doc.templating.list.map((v) => v.query).filter((q): q is string => typeof q === 'string');
  return [
    ...doc.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
    ...queries.filter((q) => q.includes('(')),
  ];
}

/** The metric names an expression selects, with the labels its matchers name. */
function selectors(expr: string): { metric: string; labels: string[] }[] {
  const out: { metric: string; labels: string[] }[] = [];
  for (const m of expr.matchAll(/\b(odoo_bridge_[a-z_]+|up)\b(?:\{([^}]*)\})?/g)) {
    const labels = [...(m[2] ?? '').matchAll(/([a-z_]+)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1] as string);
    out.push({ metric: m[1] as string, labels });
  }
  return out;
}

/** The labels an expression groups by (`by (a, b)`). */
function groupings(expr: string): string[] {
  return [...expr.matchAll(/\bby\s*\(([^)]*)\)/g)].flatMap((m) =>
    (m[1] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
}

/** Prometheus text → metric name → the label names its series carry. */
function exposed(text: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? /.exec(line);
    if (!m) continue;
    const labels = out.get(m[1] as string) ?? new Set<string>();
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) labels.add(l[1] as string);
    out.set(m[1] as string, labels);
  }
  return out;
}

describe('alert rules and dashboard (deploy/observability/)', () => {
  it.skipIf(!existsSync(PROMTOOL) && !inCi)('promtool check rules accepts the rules', () => {
    expect(existsSync(PROMTOOL), 'promtool (Debian package prometheus; .ci/run installs it)').toBe(true);
    const out = execFileSync(PROMTOOL, ['check', 'rules', RULES], { encoding: 'utf8' });
    expect(out).toMatch(/SUCCESS: 10 rules found/);
  });

  it.skipIf(!existsSync(PROMTOOL) && !inCi)(
    'the rules fire on input series as meant (promtool test rules alerts.test.yml)',
    () => {
      const out = execFileSync(PROMTOOL, ['test', 'rules', 'alerts.test.yml'], {
        encoding: 'utf8',
        cwd: dirname(RULES),
      });
      expect(out).toMatch(/SUCCESS/);
    },
  );

  it('covers what must be watched', () => {
    const alerts = (parse(readFileSync(RULES, 'utf8')) as { groups: { rules: { alert: string }[] }[] }).groups
      .flatMap((g) => g.rules)
      .map((r) => r.alert);
    expect(alerts).toEqual([
      'OdooBridgeDown',
      'OdooBridgeUpstreamErrors',
      'OdooBridgeAuthFailureBurst',
      'OdooBridgeThrottling',
      'OdooBridgeRefusingCalls',
      'OdooBridgeApiKeyRejected',
      'OdooBridgeApiKeyExpiresSoon',
      'OdooBridgeSharedStateDown',
      'OdooBridgeSharedStateFallbacks',
      'OdooBridgeShadowMismatch',
    ]);
    expect(panelExprs().length).toBeGreaterThanOrEqual(15);
  });

  describe('against a bridge that served traffic', () => {
    let stack: Stack;
    let redis: TestRedis | undefined;
    let metrics: Map<string, Set<string>>;
    const KEY = 'e'.repeat(40);
    const PASSWORD = 'observability-demo-pw';

    beforeAll(async () => {
      const dir = mkdtempSync(join(tmpdir(), 'bridge-obs-'));
      writeFileSync(join(dir, 'key'), `${KEY}\n`);
      const hash = await hashPassword(PASSWORD, { scheme: 'pbkdf2-sha512', rounds: 1000 });
      const file = join(dir, 'bridge.yaml');
      writeFileSync(
        file,
        `auth:\n  mode: both\ncredentials:\n  - db: lab\n    login: demo\n    password_hash: "${hash}"\n    api_key_file: ${join(dir, 'key')}\n`,
      );
      const expires = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 19).replace('T', ' ');
      // The shared state's series exist with BRIDGE_REDIS_URL only: a real redis-server.
      redis = skipWithoutRedis ? undefined : await startRedis();
      stack = await startStack({
        config: { configPath: file, file: readConfigFile(file), ...(redis ? { redisUrl: redis.url } : {}) },
        fake: { keys: [...CAPTURED_KEYS, { key: KEY, db: 'lab', uid: 5, login: 'demo', expires }] },
      });
      const s = stack;
      await s.bridge.parts.keyExpiry.check();
      const object = `${s.bridge.url}/xmlrpc/2/object`;
      await xmlrpcCall(object, 'execute_kw', ['lab', 2, KEYS.labAdmin, 'res.partner', 'search_count', [[]]]);
      await xmlrpcCall(object, 'execute_kw', [
        'lab',
        2,
        KEYS.labAdmin,
        'res.partner',
        'no_such_method',
        [[]],
      ]);
      await xmlrpcCall(`${s.bridge.url}/xmlrpc/2/common`, 'authenticate', [
        'lab',
        'demo',
        'wrong-password',
        {},
      ]);
      await fetch(`${s.bridge.url}/web/version`);
      s.odoo.setFault({
        kind: 'status',
        status: 502,
        body: 'Bad Gateway',
        contentType: 'text/html',
        times: 1,
      });
      await xmlrpcCall(object, 'execute_kw', ['lab', 2, KEYS.labAdmin, 'res.partner', 'search_count', [[]]]);
      // The mapped key, revoked in Odoo: refused at its next use.
      s.odoo.keys.splice(
        s.odoo.keys.findIndex((k) => k.key === KEY),
        1,
      );
      await xmlrpcCall(object, 'execute_kw', ['lab', 5, PASSWORD, 'res.partner', 'search_count', [[]]]);
      metrics = exposed(await (await fetch(`${s.bridge.url}/_bridge/metrics`)).text());
    }, 60_000);
    afterAll(async () => {
      await stack.close();
      await redis?.close();
    });

    it.each([
      ['alert rules', ruleExprs],
      ['dashboard panels', panelExprs],
    ])('every metric and label the %s use is exposed', (_what, exprs) => {
      for (const expr of exprs()) {
        if (!redis && expr.includes('odoo_bridge_shared_state_')) continue; // no redis-server here
        const used = selectors(expr);
        expect(used.length, expr).toBeGreaterThan(0);
        const available = new Set(EXTERNAL_LABELS);
        for (const { metric, labels } of used) {
          if (EXTERNAL_METRICS.has(metric)) continue;
          const have = metrics.get(metric);
          expect(have, `${metric} (in ${expr})`).toBeDefined();
          for (const l of have ?? []) available.add(l);
          for (const l of labels)
            if (!EXTERNAL_LABELS.has(l)) expect(have, `${metric}{${l}} in ${expr}`).toContain(l);
        }
        for (const l of groupings(expr)) expect(available, `by (${l}) in ${expr}`).toContain(l);
      }
    });

    it('the traffic reached the series the rules watch', () => {
      for (const m of [
        'odoo_bridge_upstream_errors_total',
        'odoo_bridge_auth_failures_total',
        'odoo_bridge_api_key_rejected_total',
        'odoo_bridge_api_key_expiry_timestamp_seconds',
        'odoo_bridge_forwarded_requests_total',
      ])
        expect(metrics.get(m), m).toBeDefined();
    });
  });
});
