/**
 * `odoo-rpc-bridge check-config [file]` (default: BRIDGE_CONFIG): prints every problem of a
 * config file, one line each, and exits 1 if there is any: YAML, signature overrides, the auth
 * mode, each credential entry, and whether each entry's API key can be read (the file exists and
 * is readable, the variable is set). It never prints a key, a hash or a password.
 */
import type { Writable } from 'node:stream';
import { readApiKey } from '../auth/credential-map.ts';
import { DEFAULT_PBKDF2_ROUNDS } from '../auth/password-hash.ts';
import { checkConfigDocument, readConfigDocument } from '../config-file.ts';

export const CHECK_CONFIG_USAGE = `Usage: odoo-rpc-bridge check-config [file]     (default: the file named by BRIDGE_CONFIG)

Prints what is wrong with a config file (exit 1), or a summary of it (exit 0).
`;

export interface ConfigReport {
  problems: string[];
  warnings: string[];
  summary: string;
}

/** Everything wrong with the config file at `path`; keys are read from the files and `env` named. */
export function checkConfigFile(path: string, env: NodeJS.ProcessEnv): ConfigReport {
  const problems: string[] = [];
  const warnings: string[] = [];
  const read = readConfigDocument(path);
  if ('problem' in read) return { problems: [read.problem], warnings, summary: '' };
  const check = checkConfigDocument(read.doc, path);
  problems.push(...check.problems);
  warnings.push(...check.warnings);
  const auth = check.file.auth;
  const models = Object.keys(check.file.signatures).length;
  for (const c of auth.credentials) {
    const key = readApiKey(c.apiKey, env);
    if (!key.ok) problems.push(`${c.where}: ${key.problem}`);
    if (c.hash.scheme === 'pbkdf2-sha512' && c.hash.rounds < 100_000)
      warnings.push(
        `${c.where}: password_hash has ${c.hash.rounds} rounds (Odoo 19 writes ${DEFAULT_PBKDF2_ROUNDS}): ` +
          `it works, but it is cheap to guess; consider a new password hashed with odoo-rpc-bridge hash`,
      );
  }
  const { mode, credentials } = auth;
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
