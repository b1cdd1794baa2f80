/**
 * The README's settings table says what the code does: one row per setting (src/config.ts
 * SETTINGS), the same flag, the same default; and `--help` lists them all.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { helpText, loadConfig, SETTINGS } from '../../src/config.ts';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The rows of the table under `## Settings`: variable, flag, default cell. */
function tableRows(): Map<string, { flag: string; dflt: string }> {
  const section = README.slice(
    README.indexOf('\n## Settings'),
    README.indexOf('\n## ', README.indexOf('\n## Settings') + 1),
  );
  const rows = new Map<string, { flag: string; dflt: string }>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const env = /^`([A-Z_]+)`$/.exec(cells[1] ?? '')?.[1];
    if (env === undefined) continue;
    rows.set(env, { flag: (cells[2] ?? '').replace(/`/g, ''), dflt: cells[3] ?? '' });
  }
  return rows;
}

describe('the README settings table', () => {
  const rows = tableRows();

  it('has a row for every setting, and no other', () => {
    expect([...rows.keys()].sort()).toEqual(SETTINGS.map((s) => s.env).sort());
  });

  it.each(SETTINGS.map((s) => [s.env, s] as const))('%s: the same flag and default', (env, s) => {
    const r = rows.get(env);
    expect(r?.flag).toBe(s.flag);
    if (s.default !== undefined) expect(r?.dflt).toBe(`\`${s.default}\``);
    else expect(['—', '(required)']).toContain(r?.dflt);
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
