/**
 * Routes (src/upstream/routes.ts): the first matching upstream serves a database; a reload keeps
 * an unchanged server's parts and its calls in flight, however many reloads come; a server that
 * leaves closes only once its last call is over (or after the grace); one that cannot be built
 * leaves the running routes as they were and closes what was built.
 */
import { describe, expect, it } from 'vitest';
import { Routes } from '../../src/upstream/routes.ts';
import type { UpstreamSettings } from '../../src/upstream/upstream-settings.ts';

const up = (name: string, url: string, databases: string[] = ['*']): UpstreamSettings => ({
  name,
  url,
  mode: 'translate',
  databases,
  shadow: 0,
  dbHeader: undefined,
  timeoutMs: undefined,
  docsKeyEnv: undefined,
  serviceKeyEnv: undefined,
});

function routes(list: UpstreamSettings[]) {
  const closed: string[] = [];
  const r = new Routes(list, (s) => {
    if (s.url === 'http://broken') throw new Error('cannot build');
    return { parts: { url: s.url }, close: async () => void closed.push(s.name) };
  });
  return { r, closed };
}

describe('Routes', () => {
  it('routes a database to the first upstream whose patterns match', () => {
    const { r } = routes([up('old', 'http://a', ['crm', 'legacy_*']), up('new', 'http://b')]);
    expect(r.for('crm')?.name).toBe('old');
    expect(r.for('legacy_eu')?.name).toBe('old');
    expect(r.for('sales')?.name).toBe('new');
    expect(routes([up('only', 'http://a', ['crm'])]).r.for('sales')).toBeUndefined();
  });

  it('closes a server that left only once its call is over, after any number of reloads', async () => {
    const { r, closed } = routes([up('old', 'http://a', ['crm']), up('new', 'http://b')]);
    const old = r.for('crm');
    old?.hold(); // a call routed there, not over yet
    r.update([up('old', 'http://a', ['crm', 'crm2']), up('new', 'http://b')], 60_000); // kept
    expect(r.for('crm2')).toBe(old); // the same object: its count kept
    r.update([up('new', 'http://b')], 60_000); // the cutover
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(closed).toEqual([]);
    old?.release();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(closed).toEqual(['old']);
  });

  it('closes after the grace a server whose calls never reported their end', async () => {
    const { r, closed } = routes([up('old', 'http://a', ['crm']), up('new', 'http://b')]);
    r.for('crm')?.hold();
    r.update([up('new', 'http://b')], 50);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(closed).toEqual(['old']);
  });

  it('keeps the running routes when a server cannot be built, closing what was built', async () => {
    const { r, closed } = routes([up('a', 'http://a')]);
    expect(() => r.update([up('b', 'http://b'), up('c', 'http://broken')], 1000)).toThrow('cannot build');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(r.all().map((u) => u.name)).toEqual(['a']);
    expect(closed).toEqual(['b']);
  });
});
