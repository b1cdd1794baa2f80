/**
 * The BRIDGE_CONFIG file (YAML; JSON is YAML too), checked in one place: every problem found,
 * each on one line naming where it is, for start-up (which stops on the first) and for
 * `odoo-rpc-bridge check-config` (which lists them all). Sections: `signatures` (overrides of
 * method signatures), `auth` and `credentials` (src/auth/credential-config.ts), `shims`
 * (src/translate/shims.ts), `frozen` (src/services/freeze.ts), `upstreams`
 * (src/upstream/upstream-settings.ts); any other is reported as a warning.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { checkAuthSettings, PASSTHROUGH_ONLY, type AuthSettings } from './auth/credential-config.ts';
import { isIdentifier, isModelName, isPublicMethodName } from './odoo-names.ts';
import {
  NO_SHIMS,
  SHIM_NAMES,
  SHIM_REMOVED_IN,
  type ShimName,
  type ShimSettings,
} from './translate/shims.ts';
import { checkUpstreams, type UpstreamSettings } from './upstream/upstream-settings.ts';

/** The optional YAML/JSON file named by BRIDGE_CONFIG / --config. */
export interface ConfigFile {
  signatures: SignatureOverrides;
  /** `auth.mode` and the `credentials` map (src/auth/credential-config.ts). */
  auth: AuthSettings;
  /** Compatibility shims for calls newer Odoo removed (src/translate/shims.ts); all off by default. */
  shims: ShimSettings;
  /** Databases whose writes are refused (src/services/freeze.ts): names, `*` for any run. */
  frozen: string[];
  /** Several Odoo servers, by database (src/upstream/upstream-settings.ts); empty: ODOO_URL alone. */
  upstreams: UpstreamSettings[];
}

/** `model -> method -> { params, model }` as written in the config file. */
export type SignatureOverrides = Record<string, Record<string, { params: string[]; model: boolean }>>;

/** What a config file holds when there is none. */
export const NO_CONFIG_FILE: ConfigFile = {
  signatures: {},
  auth: PASSTHROUGH_ONLY,
  shims: NO_SHIMS,
  frozen: [],
  upstreams: [],
};

export const CONFIG_SECTIONS: readonly string[] = [
  'signatures',
  'auth',
  'credentials',
  'shims',
  'frozen',
  'upstreams',
];

export interface ConfigFileCheck {
  /** What the file says, its faulty parts left out (use it only when `problems` is empty). */
  file: ConfigFile;
  /** Errors: the file must not be used. */
  problems: string[];
  /** Legal but probably not meant. */
  warnings: string[];
}

/** Reads and parses `path`; `problem` says why it cannot be (one line). */
export function readConfigDocument(path: string): { doc: unknown } | { problem: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return { problem: `BRIDGE_CONFIG=${path} cannot be read: ${(e as Error).message}` };
  }
  try {
    return { doc: parseYaml(text) ?? {} };
  } catch (e) {
    return {
      problem: `BRIDGE_CONFIG=${path} is not valid YAML/JSON: ${(e as Error).message.split('\n')[0]}`,
    };
  }
}

/** Every problem of a parsed config document; `where` names it in the messages. */
export function checkConfigDocument(doc: unknown, where: string): ConfigFileCheck {
  const problems: string[] = [];
  const warnings: string[] = [];
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    return { file: NO_CONFIG_FILE, problems: [`${where}: the top level must be a mapping`], warnings };
  const top = doc as Record<string, unknown>;
  for (const k of Object.keys(top))
    if (!CONFIG_SECTIONS.includes(k))
      warnings.push(`${where}: ${k}: unknown section (ignored); known: ${CONFIG_SECTIONS.join(', ')}`);
  const signatures = checkSignatures(top['signatures'], where, problems);
  const auth = checkAuthSettings(top, where);
  problems.push(...auth.problems);
  warnings.push(...auth.warnings);
  const shims = checkShims(top['shims'], where, problems);
  const frozen = checkFrozen(top['frozen'], where, problems);
  const upstreams = checkUpstreams(top['upstreams'], where, problems);
  return { file: { signatures, auth: auth.settings, shims, frozen, upstreams }, problems, warnings };
}

function checkSignatures(raw: unknown, where: string, problems: string[]): SignatureOverrides {
  const signatures: SignatureOverrides = {};
  if (raw === undefined) return signatures;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.push(`${where}: signatures must map model names to methods`);
    return signatures;
  }
  for (const [model, methods] of Object.entries(raw)) {
    if (!isModelName(model)) {
      problems.push(`${where}: signatures.${model}: not a model name`);
      continue;
    }
    if (typeof methods !== 'object' || methods === null || Array.isArray(methods)) {
      problems.push(`${where}: signatures.${model} must map method names to {params, model}`);
      continue;
    }
    const out: Record<string, { params: string[]; model: boolean }> = {};
    for (const [method, spec] of Object.entries(methods as Record<string, unknown>)) {
      const at = `${where}: signatures.${model}.${method}`;
      const s = spec as { params?: unknown; model?: unknown } | null;
      if (!isPublicMethodName(method)) problems.push(`${at}: not a public method name`);
      else if (typeof s !== 'object' || s === null)
        problems.push(`${at} must be {params: [...], model: true|false}`);
      else if (!Array.isArray(s.params) || !s.params.every((p) => typeof p === 'string' && isIdentifier(p)))
        problems.push(`${at}.params must be a list of parameter names`);
      else if (s.model !== undefined && typeof s.model !== 'boolean')
        problems.push(`${at}.model must be true (an @api.model method) or false`);
      else out[method] = { params: s.params as string[], model: s.model === true };
    }
    signatures[model] = out;
  }
  return signatures;
}

/** A database name as Odoo allows it, with `*` for any run of characters (`legacy_*`). */
const FROZEN_PATTERN = /^[A-Za-z0-9_.*-]{1,63}$/;

/** `frozen: [crm, "legacy_*"]`: databases whose writes are refused (src/services/freeze.ts). */
function checkFrozen(raw: unknown, where: string, problems: string[]): string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    problems.push(`${where}: frozen must be a list of database names (with * for any run of characters)`);
    return [];
  }
  const out: string[] = [];
  for (const name of raw as unknown[]) {
    if (typeof name === 'string' && FROZEN_PATTERN.test(name)) out.push(name);
    else
      problems.push(
        `${where}: frozen: ${JSON.stringify(name)} is not a database name (letters, digits, _ . - and *)`,
      );
  }
  return out;
}

/** `shims: {name_get: true, search_count: true, fields_get_keys: true}`: each absent one is off. */
function checkShims(raw: unknown, where: string, problems: string[]): ShimSettings {
  if (raw === undefined || raw === null) return NO_SHIMS;
  const known = SHIM_NAMES.map((n) => `${n} (removed in Odoo ${SHIM_REMOVED_IN[n]})`).join(', ');
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push(`${where}: shims must map shim names to true or false; the shims are ${known}`);
    return NO_SHIMS;
  }
  const out: Record<ShimName, boolean> = { ...NO_SHIMS };
  for (const [name, on] of Object.entries(raw as Record<string, unknown>)) {
    if (!(SHIM_NAMES as readonly string[]).includes(name))
      problems.push(`${where}: shims.${name}: no such shim; the shims are ${known}`);
    else if (typeof on !== 'boolean')
      problems.push(`${where}: shims.${name} must be true or false, not ${JSON.stringify(on)}`);
    else out[name as ShimName] = on;
  }
  return out;
}
