/**
 * Attack: behind an ingress every client has the ingress's address, so one attacker's 20 failed
 * logins throttled every client of that ingress.
 * Now: with BRIDGE_TRUSTED_PROXIES, the client is the rightmost X-Forwarded-For hop that is not a
 * trusted proxy; hops a client writes itself are never believed.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { clientAddressOf, parseTrustedProxies } from '../../src/server/client-address.ts';
import type { IncomingMessage } from 'node:http';
import { xmlrpcCall } from '../support/clients.ts';
import { KEYS, startStack } from '../support/harness.ts';

const via = (xff: string) => ({ headers: { 'X-Forwarded-For': xff } });

describe('behind an ingress', () => {
  const attack = async (url: string): Promise<void> => {
    for (let i = 0; i < 25; i++)
      await xmlrpcCall(
        `${url}/xmlrpc/2/common`,
        'authenticate',
        ['lab', `guess${i}`, 'nope', {}],
        via('203.0.113.66'),
      );
  };
  const legit = (url: string) =>
    xmlrpcCall(
      `${url}/xmlrpc/2/object`,
      'execute_kw',
      ['lab', 2, KEYS.labAdmin, 'res.partner', 'search_count', [[]]],
      via('198.51.100.7'),
    );

  it('without trusted proxies, one attacker behind the ingress throttles everyone behind it', async () => {
    const s = await startStack();
    try {
      await attack(s.bridge.url);
      expect((await legit(s.bridge.url)).fault?.faultString).toMatch(/too many failed logins/);
    } finally {
      await s.close();
    }
  });

  it('with the ingress trusted, the attacker throttles only itself, and logs name each client', async () => {
    const s = await startStack({ config: { trustedProxies: parseTrustedProxies('127.0.0.1/32') } });
    try {
      await attack(s.bridge.url);
      const r = await legit(s.bridge.url);
      expect(r.fault).toBeUndefined();
      expect(r.value).toEqual(expect.any(Number));
      expect(
        s.logs.some((l) => l.includes('"client":"203.0.113.66"') && l.includes('authentication throttled')),
      ).toBe(true);
      expect(
        s.logs.some((l) => l.includes('"client":"198.51.100.7"') && l.includes('"msg":"legacy call"')),
      ).toBe(true);
    } finally {
      await s.close();
    }
  });
});

describe('clientAddressOf', () => {
  const req = (peer: string, headers: Record<string, string>): IncomingMessage =>
    ({ socket: { remoteAddress: peer }, headers }) as unknown as IncomingMessage;
  const trusted = parseTrustedProxies('10.0.0.0/8, loopback');

  it('takes the rightmost untrusted hop, never one the client wrote before it', () => {
    expect(
      clientAddressOf(req('10.1.1.1', { 'x-forwarded-for': '1.2.3.4, 5.6.7.8, 10.2.2.2' }), trusted),
    ).toBe('5.6.7.8');
    expect(clientAddressOf(req('127.0.0.1', { 'x-forwarded-for': '5.6.7.8' }), trusted)).toBe('5.6.7.8');
    expect(clientAddressOf(req('::ffff:10.1.1.1', { 'x-forwarded-for': '[2001:db8::1]:443' }), trusted)).toBe(
      '2001:db8::1',
    );
    expect(
      clientAddressOf(
        req('10.1.1.1', { forwarded: 'for=192.0.2.60;proto=https, for="[2001:db8::7]"' }),
        trusted,
      ),
    ).toBe('2001:db8::7');
  });

  it('ignores the headers of a peer that is not trusted, and hops that are not addresses', () => {
    expect(clientAddressOf(req('192.0.2.9', { 'x-forwarded-for': '1.2.3.4' }), trusted)).toBe('192.0.2.9');
    expect(clientAddressOf(req('10.1.1.1', { 'x-forwarded-for': 'not-an-ip, 10.3.3.3' }), trusted)).toBe(
      '10.3.3.3',
    );
    expect(clientAddressOf(req('10.1.1.1', { 'x-forwarded-for': '1.2.3.4' }), undefined)).toBe('10.1.1.1');
  });

  it('reads at most 32 hops of a long header, in linear time', () => {
    const long = Array.from({ length: 100_000 }, (_, i) => `10.0.${(i >> 8) & 255}.${i & 255}`).join(', ');
    expect(clientAddressOf(req('10.1.1.1', { 'x-forwarded-for': long }), trusted)).toMatch(/^10\./);
  });
});

describe('BRIDGE_TRUSTED_PROXIES', () => {
  it('stops start-up with one line naming a malformed entry', () => {
    for (const bad of ['10.0.0.0/33', '10.0.0/8', 'everything', '::1/129']) {
      let message = '';
      try {
        loadConfig({ ODOO_URL: 'http://odoo:8069', BRIDGE_TRUSTED_PROXIES: `127.0.0.1, ${bad}` }, []);
      } catch (e) {
        if (e instanceof ConfigError) message = e.message;
      }
      expect(message).toContain('BRIDGE_TRUSTED_PROXIES');
      expect(message).toContain(bad);
      expect(message).not.toContain('\n');
    }
  });
});
