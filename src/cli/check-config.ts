/**
 * `odoo-rpc-bridge check-config [file]` (default: BRIDGE_CONFIG): prints every problem of a
 * config file, one line each, and exits 1 if there is any: YAML, signature overrides, the auth
 * mode, each credential entry, and whether each entry's API key can be read (the file exists and
 * is readable, the variable is set). It never prints a key, a hash or a password.
 */
import { readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { parse as parseYaml } from 'yaml';
import { checkAuthSettings } from '../auth/credential-config.ts';
import { readApiKey } from '../auth/credential-map.ts';
import { DEFAULT_PBKDF2_ROUNDS } from '../auth/password-hash.ts';
import { ConfigError, parseConfigFile } from '../config.ts';

export const CHECK_CONFIG_USAGE = `Usage: odoo-rpc-bridge check-config [file]     (default: the file named by BRIDGE_CONFIG)

Prints what is wrong with a config file (exit 1), or a summary of it (exit 0).
`;

const KNOWN_SECTIONS = new Set(['signatures', 'auth', 'credentials', 'shims']);

export interface ConfigReport {
  problems: string[];
  warnings: string[];
  summary: string;
}

/** Everything wrong with the config file at `path`; keys are read from the files and `env` named. */
export function checkConfigFile(path: string, env: NodeJS.ProcessEnv): ConfigReport {
  const problems: string[] = [];
  const warnings: string[] = [];
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return { problems: [`${path} cannot be read: ${(e as Error).message}`], warnings, summary: '' };
  }
  let doc: unknown;
  try {
    doc = parseYaml(text) ?? {};
  } catch (e) {
    return {
      problems: [`${path} is not valid YAML/JSON: ${(e as Error).message.split('\n')[0]}`],
      warnings,
      summary: '',
    };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    return { problems: [`${path}: the top level must be a mapping`], warnings, summary: '' };
  const top = doc as Record<string, unknown>;

  for (const k of Object.keys(top))
    if (!KNOWN_SECTIONS.has(k))
      warnings.push(`${path}: ${k}: unknown section (ignored); known: ${[...KNOWN_SECTIONS].join(', ')}`);

  let models = 0;
  try {
    models = Object.keys(
      parseConfigFile({ signatures: top['signatures'], shims: top['shims'] }, path).signatures,
    ).length;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    problems.push(e.message);
  }

  const auth = checkAuthSettings(top, path);
  problems.push(...auth.problems);
  warnings.push(...auth.warnings);
  for (const c of auth.settings.credentials) {
    const key = readApiKey(c.apiKey, env);
    if (!key.ok) problems.push(`${c.where}: ${key.problem}`);
    if (c.hash.scheme === 'pbkdf2-sha512' && c.hash.rounds < 100_000)
      warnings.push(
        `${c.where}: password_hash has ${c.hash.rounds} rounds (Odoo 19 writes ${DEFAULT_PBKDF2_ROUNDS}): ` +
          `it works, but it is cheap to guess; consider a new password hashed with odoo-rpc-bridge hash`,
      );
  }
  const { mode, credentials } = auth.settings;
  const names = credentials.map((c) => `${c.db}/${c.login}`);
  const summary =
    `${path}: auth.mode ${mode}, ${credentials.length} credential${credentials.length === 1 ? '' : 's'}` +
    `${names.length ? ` (${names.join(', ')})` : ''}, signature overrides for ${models} model${models === 1 ? '' : 's'}`;
  return { problems, warnings, summary };
}

export function runCheckConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  stdout: Writable,
  stderr: Writable,
): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    stdout.write(CHECK_CONFIG_USAGE);
    return 0;
  }
  if (argv.length > 1 || argv[0]?.startsWith('-')) {
    stderr.write(`odoo-rpc-bridge check-config: expected one file name\n${CHECK_CONFIG_USAGE}`);
    return 2;
  }
  const path = argv[0] ?? env['BRIDGE_CONFIG'];
  if (!path) {
    stderr.write(`odoo-rpc-bridge check-config: give a file, or set BRIDGE_CONFIG\n`);
    return 2;
  }
  const report = checkConfigFile(path, env);
  for (const p of report.problems) stdout.write(`error: ${p}\n`);
  for (const w of report.warnings) stdout.write(`warning: ${w}\n`);
  if (report.problems.length) {
    stdout.write(`${report.problems.length} problem${report.problems.length === 1 ? '' : 's'} in ${path}\n`);
    return 1;
  }
  stdout.write(`OK: ${report.summary}\n`);
  return 0;
}
