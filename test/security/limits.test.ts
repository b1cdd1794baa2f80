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
import { largeExecuteKw, streamPost } from './support.ts';

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
      const { port } = new URL(s.bridge.url);
      const sock = connect(Number(port), '127.0.0.1');
      sock.on('error', () => undefined);
      await once(sock, 'connect');
      sock.write(
        'POST /xmlrpc/2/common HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: 1000\r\n\r\n<?xml',
      );
      let answer = '';
      sock.on('data', (c: Buffer) => (answer += c.toString()));
      await new Promise((r) => sock.once('close', r));
      expect(answer).toContain('the request body stalled for');
      expect(answer.toLowerCase()).toContain('connection: close');
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
      const { port } = new URL(s.bridge.url);
      const sock = connect(Number(port), '127.0.0.1');
      sock.on('error', () => undefined);
      await once(sock, 'connect');
      sock.write(
        'POST /xmlrpc/2/common HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: 100000\r\n\r\n',
      );
      let answer = '';
      sock.on('data', (c: Buffer) => (answer += c.toString()));
      const closed = new Promise((r) => sock.once('close', r));
      const started = Date.now();
      const drip = setInterval(() => sock.write('x'), 50);
      await closed;
      clearInterval(drip);
      expect(answer).toContain('the request body stalled for');
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
  ])('%s=%s', (name, value) => {
    const message = problem({ [name]: value });
    expect(message).toContain(name);
    expect(message).not.toContain('\n');
  });
});
