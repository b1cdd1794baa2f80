/**
 * The deployment files hold together: the Kubernetes manifests' probes and the Dockerfile's
 * HEALTHCHECK ask endpoints a running bridge answers, ports agree with the Service and
 * BRIDGE_LISTEN, the bridge runs as non-root on a read-only root filesystem, and the pod's
 * termination grace period outlasts the bridge's own shutdown grace.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { SETTINGS } from '../../src/config.ts';
import { startStack, type Stack } from '../support/harness.ts';
import { freePort, REDIS_SERVER, skipWithoutRedis } from '../support/redis-server.ts';

const ROOT = new URL('../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, ROOT), 'utf8');

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped YAML */
type Doc = Record<string, any>;

function documents(path: string): Doc[] {
  return parseAllDocuments(read(path)).map((d) => {
    expect(d.errors, `${path}: ${d.errors.join('; ')}`).toEqual([]);
    return d.toJS() as Doc;
  });
}

const BRIDGE_IMAGE = /odoo-rpc-bridge/;
const DEFAULT_GRACE_S = Number(SETTINGS.find((s) => s.env === 'BRIDGE_SHUTDOWN_GRACE_SECONDS')?.default);
const ENDPOINT = /\/_bridge\/[\w-]+/;

/** The path a probe asks: httpGet's path, or the URL in an exec command. */
function probePath(probe: Doc | undefined): string | undefined {
  if (!probe) return undefined;
  if (probe.httpGet) return probe.httpGet.path as string;
  const command = ((probe.exec?.command ?? []) as string[]).join(' ');
  return ENDPOINT.exec(command)?.[0];
}

/** The bridge's env: its `env` values and the ConfigMaps it takes whole (`envFrom`). */
function envOf(container: Doc, docs: Doc[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    const cm = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === from.configMapRef?.name);
    Object.assign(env, cm?.data ?? {});
  }
  for (const e of container.env ?? []) if (typeof e.value === 'string') env[e.name] = e.value;
  return env;
}

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

async function status(path: string): Promise<number> {
  return (await fetch(`${stack.bridge.url}${path}`)).status;
}

const MANIFESTS = [
  {
    file: 'deploy/kubernetes/standalone.yaml',
    kinds: ['ConfigMap', 'Secret', 'Deployment', 'Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget'],
  },
  { file: 'deploy/kubernetes/sidecar.yaml', kinds: ['Pod'] },
];

describe.each(MANIFESTS)('$file', ({ file, kinds }) => {
  const docs = documents(file);
  const podSpec: Doc =
    docs.find((d) => d.kind === 'Deployment')?.spec.template.spec ?? docs.find((d) => d.kind === 'Pod')?.spec;
  const bridge: Doc = podSpec.containers.find((c: Doc) => BRIDGE_IMAGE.test(c.image));
  const env = envOf(bridge, docs);

  it('has the expected objects', () => {
    expect(docs.map((d) => d.kind).sort()).toEqual([...kinds].sort());
    for (const d of docs) expect(d.apiVersion, d.kind).toBeTruthy();
  });

  it('probes endpoints the bridge answers (liveness livez, readiness readyz)', async () => {
    expect(probePath(bridge.livenessProbe)).toBe('/_bridge/livez');
    expect(probePath(bridge.readinessProbe)).toBe('/_bridge/readyz');
    for (const probe of [bridge.livenessProbe, bridge.readinessProbe]) {
      expect(await status(probePath(probe) ?? '')).toBe(200);
      if (probe.httpGet) {
        const port = probe.httpGet.port;
        const ports = (bridge.ports as Doc[]).filter((p) => p.name === port || p.containerPort === port);
        expect(ports, `probe port ${port}`).toHaveLength(1);
      }
    }
  });

  it('listens where its ports say (BRIDGE_LISTEN = containerPort = Service targetPort; the admin port is not in the Service)', () => {
    const listenPort = Number(/:(\d+)$/.exec(env['BRIDGE_LISTEN'] ?? '')?.[1]);
    expect(listenPort).toBe(8069);
    const adminPort = env['BRIDGE_ADMIN_LISTEN']
      ? Number(/:(\d+)$/.exec(env['BRIDGE_ADMIN_LISTEN'])?.[1])
      : undefined;
    const containerPorts = (bridge.ports as Doc[]).map((p) => p.containerPort as number);
    expect(containerPorts).toEqual(adminPort === undefined ? [listenPort] : [listenPort, adminPort]);
    for (const svc of docs.filter((d) => d.kind === 'Service')) {
      for (const p of svc.spec.ports as Doc[]) {
        const target =
          typeof p.targetPort === 'string'
            ? (bridge.ports as Doc[]).find((c) => c.name === p.targetPort)?.containerPort
            : p.targetPort;
        expect(target).toBe(listenPort);
      }
      const labels = docs.find((d) => d.kind === 'Deployment')?.spec.template.metadata.labels;
      expect(labels).toMatchObject(svc.spec.selector);
    }
  });

  it('runs as non-root on a read-only root filesystem, with resources', () => {
    const sc = { ...podSpec.securityContext, ...bridge.securityContext };
    expect(sc.runAsNonRoot).toBe(true);
    // The image's USER is `node` (a name): runAsNonRoot needs a numeric runAsUser to verify it.
    expect(sc.runAsUser).toBeGreaterThan(0);
    expect(bridge.securityContext.readOnlyRootFilesystem).toBe(true);
    expect(bridge.securityContext.allowPrivilegeEscalation).toBe(false);
    expect(bridge.resources.requests).toMatchObject({ cpu: expect.anything(), memory: expect.anything() });
    expect(bridge.resources.limits.memory).toBeTruthy();
  });

  it('gives calls in flight more time than the bridge takes to shut down', () => {
    const grace = Number(env['BRIDGE_SHUTDOWN_GRACE_SECONDS'] ?? DEFAULT_GRACE_S);
    expect(grace).toBeGreaterThan(0);
    expect(podSpec.terminationGracePeriodSeconds).toBeGreaterThan(grace);
  });
});

describe('standalone.yaml', () => {
  const docs = documents('deploy/kubernetes/standalone.yaml');
  const deployment = docs.find((d) => d.kind === 'Deployment') as Doc;
  const name = deployment.metadata.name as string;

  it('scales the Deployment and keeps one replica through disruptions', () => {
    const hpa = docs.find((d) => d.kind === 'HorizontalPodAutoscaler') as Doc;
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    const pdb = docs.find((d) => d.kind === 'PodDisruptionBudget') as Doc;
    expect(deployment.spec.template.metadata.labels).toMatchObject(pdb.spec.selector.matchLabels);
    expect(pdb.spec.minAvailable).toBeLessThan(hpa.spec.minReplicas);
  });

  it('sets only known settings, and secrets only from the Secret', () => {
    const known = new Set(SETTINGS.map((s) => s.env));
    const secret = new Set(SETTINGS.filter((s) => s.secret).map((s) => s.env));
    const configMap = docs.find((d) => d.kind === 'ConfigMap') as Doc;
    for (const key of Object.keys(configMap.data)) {
      expect(known.has(key), key).toBe(true);
      expect(secret.has(key), `${key} is a secret`).toBe(false);
    }
    const sec = docs.find((d) => d.kind === 'Secret') as Doc;
    for (const key of Object.keys(sec.stringData)) expect(secret.has(key), key).toBe(true);
  });

  it('points the scrape annotation at the metrics endpoint, on the admin port the probes use', async () => {
    const annotations = deployment.spec.template.metadata.annotations;
    const path = annotations['prometheus.io/path'] as string;
    expect(path).toBe('/_bridge/metrics');
    expect(await status(path)).toBe(200);
    const env = envOf(deployment.spec.template.spec.containers[0] as Doc, docs);
    expect(env['BRIDGE_ADMIN_LISTEN']).toMatch(new RegExp(`:${String(annotations['prometheus.io/port'])}$`));
  });
});

describe('Dockerfile', () => {
  const text = read('Dockerfile');

  it('installs production dependencies only and runs as the node user', () => {
    expect(text).toMatch(/^RUN npm ci --omit=dev\b/m);
    const users = [...text.matchAll(/^USER (\S+)/gm)].map((m) => m[1]);
    expect(users.at(-1)).toBe('node');
    // USER comes after the last stage's FROM.
    expect(text.lastIndexOf('\nUSER node')).toBeGreaterThan(text.lastIndexOf('\nFROM '));
  });

  it('listens on 8069 and health-checks an endpoint the bridge answers', async () => {
    expect(text).toMatch(/BRIDGE_LISTEN=0\.0\.0\.0:8069\b/);
    expect(text).toMatch(/^EXPOSE 8069$/m);
    const check = /^HEALTHCHECK .*$/m.exec(text)?.[0] ?? '';
    const path = ENDPOINT.exec(check)?.[0];
    expect(path).toBe('/_bridge/livez');
    expect(check).toContain(`127.0.0.1:8069${path}`);
    expect(await status(path ?? '')).toBe(200);
  });
});

describe.skipIf(skipWithoutRedis)('redis.yaml (the optional shared state)', () => {
  const docs = documents('deploy/kubernetes/redis.yaml');
  const sts = docs.find((d) => d.kind === 'StatefulSet') as Doc;
  const container = sts.spec.template.spec.containers[0] as Doc;

  it('is one Redis replica behind the Service the standalone example names in BRIDGE_REDIS_URL', () => {
    expect(docs.map((d) => d.kind)).toEqual(['Secret', 'StatefulSet', 'Service']);
    expect(sts.spec.replicas).toBe(1);
    const service = docs.find((d) => d.kind === 'Service') as Doc;
    const example =
      /BRIDGE_REDIS_URL: (redis:\/\/\S+)/.exec(read('deploy/kubernetes/standalone.yaml'))?.[1] ?? '';
    const url = new URL(example);
    expect(url.hostname).toBe(service.metadata.name);
    expect(Number(url.port)).toBe(service.spec.ports[0].port);
    expect(service.spec.selector).toEqual(sts.spec.template.metadata.labels);
    expect(container.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
    });
    expect(sts.spec.template.spec.securityContext.runAsNonRoot).toBe(true);
  });

  it('starts a real redis-server with its arguments (persistent, no eviction), which a bridge then uses with a password in the URL', async () => {
    const data = mkdtempSync(join(tmpdir(), 'bridge-redis-manifest-'));
    const args = (container.args as string[]).map((a) => (a === '/data' ? data : a));
    const port = await freePort();
    const server = spawn(
      REDIS_SERVER,
      [...args, '--port', String(port), '--bind', '127.0.0.1', '--requirepass', 'pw-from-the-secret'],
      {
        stdio: 'ignore',
      },
    );
    const url = `redis://:pw-from-the-secret@127.0.0.1:${port}/0`;
    const redis = new Redis(url, { lazyConnect: true, retryStrategy: () => 50 });
    redis.on('error', () => undefined); // refused until the server listens: retried below
    let bridge: Stack | undefined;
    try {
      for (let i = 0; i < 100 && redis.status !== 'ready'; i++)
        await redis.connect().catch(() => new Promise((r) => setTimeout(r, 50)));
      expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      expect(await redis.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
      bridge = await startStack({ config: { redisUrl: url } });
      let ready: { sharedState?: string } = {};
      for (let i = 0; i < 50 && ready.sharedState !== 'up'; i++) {
        ready = (await (await fetch(`${bridge.bridge.url}/_bridge/readyz`)).json()) as typeof ready;
        if (ready.sharedState !== 'up') await new Promise((r) => setTimeout(r, 100));
      }
      expect(ready.sharedState).toBe('up');
      expect(bridge.logs.join('')).not.toContain('pw-from-the-secret');
    } finally {
      await bridge?.close();
      redis.disconnect();
      server.kill('SIGKILL');
      rmSync(data, { recursive: true, force: true });
    }
  });
});
