/**
 * The `auth` and `credentials` sections of the BRIDGE_CONFIG file, validated:
 *
 *     auth:
 *       mode: both            # mapped | passthrough | both
 *     credentials:
 *       - db: mycompany
 *         login: integration@example.com
 *         password_hash: "$pbkdf2-sha512$600000$..."   # copied from res_users.password
 *         api_key_file: /run/secrets/mycompany-integration   # or api_key_env: NAME
 *
 * The API key never sits in the file itself. Every problem is reported with the entry it is in
 * (`credentials[2] (mycompany/integration@example.com): ...`), and no message quotes a hash or a
 * key.
 */
import { HashFormatError, parsePasswordHash, type PasswordHash } from './password-hash.ts';

export type AuthMode = 'mapped' | 'passthrough' | 'both';
export const AUTH_MODES: readonly AuthMode[] = ['mapped', 'passthrough', 'both'];

export type ApiKeySource = { readonly file: string } | { readonly env: string };

export interface CredentialSpec {
  readonly db: string;
  readonly login: string;
  readonly hash: PasswordHash;
  /** The hash as written, to tell whether a reload changed it. */
  readonly hashText: string;
  readonly apiKey: ApiKeySource;
  /** `credentials[2] (mycompany/integration@example.com)`, for messages. */
  readonly where: string;
}

export interface AuthSettings {
  /** `passthrough` when the file has neither `auth` nor `credentials`; `both` when it lists credentials only. */
  readonly mode: AuthMode;
  readonly credentials: readonly CredentialSpec[];
}

export interface AuthSettingsCheck {
  settings: AuthSettings;
  /** Errors: the file must not be used. */
  problems: string[];
  /** Legal but probably not meant. */
  warnings: string[];
}

export const PASSTHROUGH_ONLY: AuthSettings = { mode: 'passthrough', credentials: [] };

const ENTRY_FIELDS = new Set(['db', 'login', 'password_hash', 'api_key_file', 'api_key_env']);
const INLINE_SECRET_FIELDS = new Set(['api_key', 'apikey', 'key', 'password', 'token']);
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const isMapping = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads the auth settings of a parsed config document, collecting every problem (for check-config). */
export function checkAuthSettings(doc: Record<string, unknown>, where: string): AuthSettingsCheck {
  const problems: string[] = [];
  const warnings: string[] = [];
  const auth = doc['auth'];
  const list = doc['credentials'];

  let mode: AuthMode | undefined;
  if (auth !== undefined && auth !== null) {
    if (!isMapping(auth)) problems.push(`${where}: auth must be a mapping, e.g. auth: {mode: both}`);
    else {
      for (const k of Object.keys(auth))
        if (k !== 'mode') problems.push(`${where}: auth.${k}: unknown setting (only auth.mode exists)`);
      const m = auth['mode'];
      if (m !== undefined) {
        if (typeof m === 'string' && (AUTH_MODES as readonly string[]).includes(m)) mode = m as AuthMode;
        else problems.push(`${where}: auth.mode must be one of ${AUTH_MODES.join(', ')}`);
      }
    }
  }

  const credentials: CredentialSpec[] = [];
  if (list !== undefined && list !== null) {
    if (!Array.isArray(list))
      problems.push(
        `${where}: credentials must be a list of {db, login, password_hash, api_key_file | api_key_env}`,
      );
    else {
      const seen = new Map<string, string>();
      list.forEach((item: unknown, i: number) => {
        const spec = checkEntry(item, `${where}: credentials[${i}]`, problems);
        if (!spec) return;
        const id = JSON.stringify([spec.db, spec.login]);
        const first = seen.get(id);
        if (first !== undefined) problems.push(`${spec.where}: the same db and login as ${first}`);
        else seen.set(id, spec.where.slice(where.length + 2));
        credentials.push(spec);
      });
    }
  }

  const effective: AuthMode = mode ?? (credentials.length > 0 ? 'both' : 'passthrough');
  if (effective === 'mapped' && credentials.length === 0 && problems.length === 0)
    problems.push(
      `${where}: auth.mode is mapped but no credentials are listed: no legacy login could succeed`,
    );
  if (effective === 'passthrough' && credentials.length > 0)
    warnings.push(
      `${where}: auth.mode is passthrough: the ${credentials.length} credentials listed are not used`,
    );
  return { settings: { mode: effective, credentials }, problems, warnings };
}

function checkEntry(item: unknown, at: string, problems: string[]): CredentialSpec | undefined {
  if (!isMapping(item)) {
    problems.push(`${at} must be a mapping {db, login, password_hash, api_key_file | api_key_env}`);
    return undefined;
  }
  const db = item['db'];
  const login = item['login'];
  const named =
    typeof db === 'string' && typeof login === 'string' && db && login ? `${at} (${db}/${login})` : at;
  const before = problems.length;
  let inline = false;
  if (typeof db !== 'string' || !db.trim()) problems.push(`${named}: db must be a database name`);
  if (typeof login !== 'string' || !login.trim()) problems.push(`${named}: login must be the user's login`);
  for (const k of Object.keys(item)) {
    if (INLINE_SECRET_FIELDS.has(k.toLowerCase())) {
      inline = true;
      problems.push(
        `${named}: ${k}: secrets never sit in this file: give the API key with api_key_file or api_key_env`,
      );
    } else if (!ENTRY_FIELDS.has(k))
      problems.push(
        `${named}: ${k}: unknown field (expected db, login, password_hash, api_key_file or api_key_env)`,
      );
  }

  let hash: PasswordHash | undefined;
  const hashText = item['password_hash'];
  if (typeof hashText !== 'string' || !hashText)
    problems.push(
      `${named}: password_hash is missing (copy it from res_users.password, or make one with odoo-rpc-bridge hash)`,
    );
  else {
    try {
      hash = parsePasswordHash(hashText);
    } catch (e) {
      if (!(e instanceof HashFormatError)) throw e;
      problems.push(`${named}: password_hash: ${e.message}`);
    }
  }

  const file = item['api_key_file'];
  const env = item['api_key_env'];
  let apiKey: ApiKeySource | undefined;
  if (file !== undefined && env !== undefined)
    problems.push(`${named}: give api_key_file or api_key_env, not both`);
  else if (file !== undefined) {
    if (typeof file !== 'string' || !file) problems.push(`${named}: api_key_file must be a file path`);
    else apiKey = { file };
  } else if (env !== undefined) {
    if (typeof env !== 'string' || !ENV_NAME.test(env))
      problems.push(`${named}: api_key_env must be an environment variable name`);
    else apiKey = { env };
  } else if (!inline)
    problems.push(
      `${named}: the API key is missing: give api_key_file (e.g. a mounted secret) or api_key_env`,
    );

  if (problems.length > before || hash === undefined || apiKey === undefined) return undefined;
  return {
    db: db as string,
    login: login as string,
    hash,
    hashText: hashText as string,
    apiKey,
    where: named,
  };
}

/** How an entry's key source reads in messages: `api_key_file /run/secrets/x`, `api_key_env NAME`. */
export function describeKeySource(source: ApiKeySource): string {
  return 'file' in source ? `api_key_file ${source.file}` : `api_key_env ${source.env}`;
}
