/**
 * Attack: enough parallel calls, or slow ones, to make the bridge hold more than its pod can: every
 * call and every byte was held until the process was killed with all calls in flight; a body sent
 * a byte at a time held its place forever.
 * Now: calls in flight and their bytes are capped (BRIDGE_MAX_CALLS_IN_FLIGHT,
 * BRIDGE_MAX_INFLIGHT_BYTES) with a retryable answer past them, and a stalled body is cut.
 */
import { once } from 'node:events';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { xmlrpcCall } from '../support/clients.ts';
import { KEYS, startStack } from '../support/harness.ts';
import { largeExecuteKw, rawRequest, streamPost } from './support.ts';

const count = (s: string[], re: RegExp): number => s.filter((x) => re.test(x)).length;

describe('limits that hold under concurrency', () => {
  it('past BRIDGE_MAX_CALLS_IN_FLIGHT a call gets a retryable 503 fault at once; the others are served', async () => {
    const s = await startStack({ config: { maxCallsInFlight: 4 } });
    try {
      s.odoo.setFault({ kind: 'delay', ms: 300 });
      const answers = await Promise.all(
        Array.from({ length: 12 }, () =>
          xmlrpcCall(`${s.bridge.url}/xmlrpc/2/object`, 'execute_kw', [
            'lab',
            2,
            KEYS.labAdmin,
            'res.partner',
            'search_count',
            [[]],
          ]),
        ),
      );
      const texts = answers.map((a) => a.fault?.faultString ?? `ok ${String(a.value)}`);
      expect(count(texts, /^ok \d+$/)).toBe(4);
      expect(count(texts, /503 Service Unavailable: .*BRIDGE_MAX_CALLS_IN_FLIGHT.*retry/)).toBe(8);
      expect(s.bridge.parts.admission.calls).toBe(0);
      const metrics = await (await fetch(`${s.bridge.url}/_bridge/metrics`)).text();
      expect(metrics).toContain('odoo_bridge_refused_total{reason="calls"} 8');
      // Forwarded requests count too, and get the status a load balancer understands.
      const slow = Array.from({ length: 4 }, () =>
        xmlrpcCall(`${s.bridge.url}/xmlrpc/2/object`, 'execute_kw', [
          'lab',
          2,
          KEYS.labAdmin,
          'res.partner',
          'search_count',
          [[]],
        ]),
      );
      await new Promise((r) => setTimeout(r, 100));
      const forwarded = await fetch(`${s.bridge.url}/web/webclient/version_info`, {
        method: 'POST',
        body: '{}',
      });
      expect(forwarded.status).toBe(503);
      expect(forwarded.headers.get('retry-after')).toBe('1');
      await Promise.all(slow);
    } finally {
      s.odoo.setFault(null);
      await s.close();
    }
  });

  it('past BRIDGE_MAX_INFLIGHT_BYTES, verified large calls in parallel get the retryable fault; memory held stays within it', async () => {
    const budget = 6 * 1024 * 1024;
    const s = await startStack({ config: { maxInflightBytes: budget } });
    try {
      let peak = 0;
      const timer = setInterval(() => (peak = Math.max(peak, s.bridge.parts.admission.bytes)), 1);
      const { head, tail } = largeExecuteKw('lab', 2, KEYS.labAdmin);
      const answers = await Promise.all(
        Array.from({ length: 6 }, () =>
          streamPost(`${s.bridge.url}/xmlrpc/2/object`, { head, size: 2 * 1024 * 1024, tail }),
        ),
      );
      clearInterval(timer);
      const refused = answers.filter((a) => a.body.includes('BRIDGE_MAX_INFLIGHT_BYTES')).length;
      const served = answers.filter(
        (a) => !a.body.includes('<fault>') && /<value><int>\d+<\/int><\/value>/.test(a.body),
      ).length;
      expect(refused + served).toBe(6);
      expect(refused).toBeGreaterThan(0);
      expect(served).toBeGreaterThan(0);
      expect(peak).toBeLessThanOrEqual(budget);
      expect(s.bridge.parts.admission.bytes).toBe(0);
    } finally {
      await s.close();
    }
  });

  it('a body that stops arriving is cut after BRIDGE_BODY_IDLE_TIMEOUT_MS, its place given back', async () => {
    const s = await startStack({ config: { bodyIdleTimeoutMs: 200 } });
    try {
      const { answer, closed } = await rawRequest(
        s.bridge.url,
        'POST /xmlrpc/2/common HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: 1000\r\n\r\n<?xml',
      );
      await closed;
      expect(answer()).toContain('the request body stalled for');
      expect(answer().toLowerCase()).toContain('connection: close');
      expect(s.bridge.parts.admission.calls).toBe(0);
      // The bridge went on serving meanwhile.
      expect((await xmlrpcCall(`${s.bridge.url}/xmlrpc/2/common`, 'version', [])).value).toBeDefined();
    } finally {
      await s.close();
    }
  });
});

describe('a body that trickles', () => {
  it('is cut when its first bytes are not all in within BRIDGE_BODY_IDLE_TIMEOUT_MS, however often a byte comes', async () => {
    const s = await startStack({ config: { bodyIdleTimeoutMs: 300 } });
    try {
      const { sock, answer, closed } = await rawRequest(
        s.bridge.url,
        'POST /xmlrpc/2/common HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: 100000\r\n\r\n',
      );
      const started = Date.now();
      const drip = setInterval(() => sock.write('x'), 50);
      await closed;
      clearInterval(drip);
      expect(answer()).toContain('the request body stalled for');
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(s.bridge.parts.admission.calls).toBe(0);
    } finally {
      await s.close();
    }
  });
});

describe('bad limits stop start-up with one line naming them', () => {
  const problem = (env: Record<string, string>): string => {
    try {
      loadConfig({ ODOO_URL: 'http://odoo:8069', ...env }, []);
      return '';
    } catch (e) {
      return e instanceof ConfigError ? e.message : String(e);
    }
  };
  it.each([
    ['BRIDGE_MAX_INFLIGHT_BYTES', '0'],
    ['BRIDGE_MAX_INFLIGHT_BYTES', '12k'],
    ['BRIDGE_MAX_CALLS_IN_FLIGHT', '0'],
    ['BRIDGE_BODY_IDLE_TIMEOUT_MS', '0'],
    ['BRIDGE_TUNNEL_IDLE_TIMEOUT_SECONDS', '0'],
    ['BRIDGE_INVENTORY_MAX_CLIENTS_PER_ADDRESS', '0'],
    ['BRIDGE_ADMIN_LISTEN', 'localhost'],
    ['BRIDGE_ADMIN_TOKEN', 'short'],
    ['BRIDGE_REDIS_PREFIX', 'has space'],
    ['BRIDGE_INVENTORY_SHARE_SECONDS', '301'],
  ])('%s=%s', (name, value) => {
    const message = problem({ [name]: value });
    expect(message).toContain(name);
    expect(message).not.toContain('\n');
  });
});

describe('BRIDGE_REDIS_URL', () => {
  const problem = (value: string): string => {
    try {
      loadConfig({ ODOO_URL: 'http://odoo:8069', BRIDGE_REDIS_URL: value }, []);
      return '';
    } catch (e) {
      return e instanceof ConfigError ? e.message : String(e);
    }
  };
  it('takes redis:// and rediss:// URLs', () => {
    expect(problem('redis://:pw@redis:6379/0')).toBe('');
    expect(problem('rediss://user:pw@redis.example.com:6380')).toBe('');
  });
  it('refuses anything else in one line that never repeats the value (it may hold a password)', () => {
    for (const value of ['http://:s3cret-pw@redis:6379', 'not a url s3cret-pw']) {
      const message = problem(value);
      expect(message).toContain('BRIDGE_REDIS_URL');
      expect(message).not.toContain('s3cret-pw');
      expect(message).not.toContain('\n');
    }
  });
});

/*
 * Attack: one connection, no credentials, 1,100 pipelined forwarded requests whose answers it
 * never reads: every call slot taken for as long as it liked; and 60 large answers a caller never
 * reads grew the bridge by a gigabyte, uncounted.
 * Now: one address holds at most BRIDGE_MAX_CALLS_PER_CLIENT places, and an answer its client
 * reads nothing of for BRIDGE_BODY_IDLE_TIMEOUT_MS is cut (large ones counted until then).
 */
describe('one client cannot hold every place', () => {
  it('pipelined requests on one connection take at most the per-client places; others are served', async () => {
    const s = await startStack({ config: { maxCallsPerClient: 8, bodyIdleTimeoutMs: 500 } });
    try {
      const { port } = new URL(s.bridge.url);
      const sock = connect({ port: Number(port), host: '127.0.0.1', localAddress: '127.0.0.5' });
      sock.on('error', () => undefined);
      await once(sock, 'connect');
      sock.pause(); // reads nothing
      sock.write('GET /web/content/big-download?mb=8 HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(200));
      await new Promise((r) => setTimeout(r, 300));
      expect(s.bridge.parts.admission.calls).toBeLessThanOrEqual(8);
      const other = await xmlrpcCall(`${s.bridge.url}/xmlrpc/2/common`, 'version', []);
      expect(other.value).toBeDefined();
      // The stuck reader is cut, and every place comes back.
      for (let i = 0; i < 60 && s.bridge.parts.admission.calls > 0; i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(s.bridge.parts.admission.calls).toBe(0);
      sock.destroy();
    } finally {
      await s.close();
    }
  });

  it('a large answer nobody reads is counted while it waits and cut after the idle timeout', async () => {
    const s = await startStack({ config: { bodyIdleTimeoutMs: 400 } });
    try {
      const { port } = new URL(s.bridge.url);
      const body = `<?xml version='1.0'?><methodCall><methodName>execute_kw</methodName><params><param><value>lab</value></param><param><value><int>2</int></value></param><param><value>${KEYS.labAdmin}</value></param><param><value>res.partner</value></param><param><value>search_read</value></param><param><value><array><data><value><array><data></data></array></value></data></array></value></param><param><value><struct><member><name>fields</name><value><array><data><value>comment</value><value>name</value></data></array></value></member></struct></value></param></params></methodCall>`;
      // Large answers: 10,000 partners with a 1 KB comment each, about 11 MB, more than the
      // system's socket buffers take (the fake's seed holds a few dozen).
      const partners = s.odoo.data['lab']?.models['res.partner'];
      const template = partners?.records.get(9);
      for (let id = 100_000; id < 110_000; id++)
        partners?.records.set(id, { ...template, id, name: `P${id}`, comment: 'c'.repeat(1000) });
      let counted = 0;
      const sampler = setInterval(() => (counted = Math.max(counted, s.bridge.parts.admission.bytes)), 5);
      const socks: import('node:net').Socket[] = [];
      for (let i = 0; i < 5; i++) {
        const sock = connect(Number(port), '127.0.0.1');
        sock.on('error', () => undefined);
        await once(sock, 'connect');
        sock.pause();
        sock.write(
          `POST /xmlrpc/2/object HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        );
        socks.push(sock);
      }
      for (let i = 0; i < 60 && s.bridge.parts.admission.calls > 0; i++)
        await new Promise((r) => setTimeout(r, 100));
      clearInterval(sampler);
      // While the answers waited, they were counted (5 × ~11 MB); cut, they are given back.
      expect(counted).toBeGreaterThan(10 * 1024 * 1024);
      expect(s.bridge.parts.admission.calls).toBe(0);
      expect(s.bridge.parts.admission.bytes).toBe(0);
      for (const sock of socks) sock.destroy();
    } finally {
      await s.close();
    }
  });
});
