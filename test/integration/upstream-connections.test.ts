/**
 * BRIDGE_UPSTREAM_CONNECTIONS: how many connections the bridge opens to Odoo for legacy calls
 * at most; calls beyond them wait in the bridge and are all answered. And the setting's parsing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, helpText, loadConfig } from '../../src/config.ts';
import { xmlrpcCall } from '../support/clients.ts';
import { KEYS, startStack, type Stack } from '../support/harness.ts';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const read = (s: Stack, id: number) =>
  xmlrpcCall(`${s.bridge.url}/xmlrpc/2/object`, 'execute_kw', [
    'lab',
    2,
    KEYS.labAdmin,
    'res.partner',
    'read',
    [[id]],
    { fields: ['name'] },
  ]);

describe('connections to Odoo', () => {
  it('opens at most BRIDGE_UPSTREAM_CONNECTIONS, and every call waiting for one is answered', async () => {
    const s = (stack = await startStack({ config: { upstreamConnections: 2 } }));
    expect((await read(s, 1)).fault).toBeUndefined(); // the key verified, outside the delay
    s.odoo.setFault({ kind: 'delay', ms: 100 });
    const answers = await Promise.all([1, 2, 3, 1, 2, 3, 1, 2].map((id) => read(s, id)));
    for (const a of answers) expect(a.fault).toBeUndefined();
    expect(answers.map((a) => (a.value as { id: number }[])[0]?.id)).toEqual([1, 2, 3, 1, 2, 3, 1, 2]);
    expect(s.odoo.connectionsAccepted()).toBeLessThanOrEqual(2);
    expect(s.odoo.connectionsAccepted()).toBeGreaterThan(0);
  });

  it('by default opens more than 64 (the old fixed pool) when more calls come together', async () => {
    const s = (stack = await startStack());
    expect(s.bridge.parts.config.upstreamConnections).toBe(256);
    expect((await read(s, 1)).fault).toBeUndefined();
    s.odoo.setFault({ kind: 'delay', ms: 300 });
    const ids = Array.from({ length: 80 }, (_, i) => (i % 3) + 1);
    const answers = await Promise.all(ids.map((id) => read(s, id)));
    for (const a of answers) expect(a.fault).toBeUndefined();
    expect(s.odoo.connectionsAccepted()).toBeGreaterThan(64);
  });
});

describe('BRIDGE_UPSTREAM_CONNECTIONS', () => {
  const base = { ODOO_URL: 'http://odoo:8069' };

  it('defaults to 256 and is read from the environment or the flag', () => {
    expect(loadConfig(base, []).upstreamConnections).toBe(256);
    expect(loadConfig({ ...base, BRIDGE_UPSTREAM_CONNECTIONS: '16' }, []).upstreamConnections).toBe(16);
    expect(loadConfig(base, ['--upstream-connections', '8']).upstreamConnections).toBe(8);
    expect(helpText()).toContain('BRIDGE_UPSTREAM_CONNECTIONS');
  });

  it('refuses 0 and non-numbers with a clear error', () => {
    for (const v of ['0', '-1', 'many', '2.5'])
      expect(() => loadConfig({ ...base, BRIDGE_UPSTREAM_CONNECTIONS: v }, [])).toThrow(
        new RegExp(`BRIDGE_UPSTREAM_CONNECTIONS`),
      );
    expect(() => loadConfig({ ...base, BRIDGE_UPSTREAM_CONNECTIONS: '0' }, [])).toThrow(ConfigError);
  });
});
