/**
 * The settings tables say what the code does: docs/configuration.md has one row per setting
 * (src/config.ts SETTINGS), the same flag, the same default; the README's short table of the
 * essential ones agrees with it; and `--help` lists them all.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { helpText, loadConfig, SETTINGS } from '../../src/config.ts';

const CONFIGURATION = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The rows of the table under `heading` in `doc`: variable, flag, default cell. */
function tableRows(doc: string, heading: string): Map<string, { flag: string; dflt: string }> {
  const start = doc.indexOf(`\n${heading}\n`);
  expect(start, heading).toBeGreaterThan(-1);
  const end = doc.indexOf('\n## ', start + 1);
  const section = doc.slice(start, end === -1 ? undefined : end);
  const rows = new Map<string, { flag: string; dflt: string }>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const env = /^`([A-Z_]+)`$/.exec(cells[1] ?? '')?.[1];
    if (env === undefined) continue;
    rows.set(env, { flag: (cells[2] ?? '').replace(/`/g, ''), dflt: cells[3] ?? '' });
  }
  return rows;
}

describe('the settings tables', () => {
  const rows = tableRows(CONFIGURATION, '## All settings');

  it('has a row for every setting, and no other', () => {
    expect([...rows.keys()].sort()).toEqual(SETTINGS.map((s) => s.env).sort());
  });

  it.each(SETTINGS.map((s) => [s.env, s] as const))('%s: the same flag and default', (env, s) => {
    const r = rows.get(env);
    expect(r?.flag).toBe(s.flag);
    if (s.default !== undefined) expect(r?.dflt).toBe(`\`${s.default}\``);
    else expect(['—', '(required)']).toContain(r?.dflt);
  });

  it("the README's essential settings are real ones, with the same flag and default", () => {
    const essential = tableRows(README, '## Configure');
    expect(essential.size).toBeGreaterThanOrEqual(5);
    for (const [env, r] of essential) expect(r, env).toEqual(rows.get(env));
  });

  it('--help lists every setting with its flag', () => {
    const help = helpText();
    for (const s of SETTINGS) expect(help).toContain(`${s.env.padEnd(36)} ${s.flag}`);
  });

  it('every setting reaches the config: each key set, from its default when not given', () => {
    const config = loadConfig({ ODOO_URL: 'http://odoo:8069' }, []);
    for (const s of SETTINGS) expect(Object.hasOwn(config, s.key), s.key).toBe(true);
    expect(new Set(SETTINGS.map((s) => s.key)).size).toBe(SETTINGS.length);
  });
});
