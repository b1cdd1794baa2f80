/**
 * The credential map: the checked `credentials` entries of the BRIDGE_CONFIG file with their API
 * keys read (from the files or environment variables they name). One `CredentialMap` is an
 * immutable snapshot; a reload builds a new one (credential-source.ts), so a call holds on to the
 * snapshot it started with.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  describeKeySource,
  type ApiKeySource,
  type AuthMode,
  type AuthSettings,
  type CredentialSpec,
} from './credential-config.ts';
import type { PasswordHash } from './password-hash.ts';

export interface Credential {
  /** `JSON.stringify([db, login])`: unambiguous, whatever the names contain. */
  readonly id: string;
  readonly db: string;
  readonly login: string;
  readonly hash: PasswordHash;
  readonly hashText: string;
  /** Undefined when the key could not be read: the entry then authenticates nobody. */
  readonly apiKey: string | undefined;
  readonly keySource: ApiKeySource;
  readonly where: string;
}

export const credentialId = (db: string, login: string): string => JSON.stringify([db, login]);

/** A key as Odoo hands it out: printable ASCII without spaces. Files may end with a newline. */
const KEY_SHAPE = /^[\x21-\x7e]{16,512}$/;

export type KeyRead = { ok: true; key: string } | { ok: false; problem: string };

/** Reads an entry's API key; the problem never contains the key or any part of the file. */
export function readApiKey(source: ApiKeySource, env: NodeJS.ProcessEnv): KeyRead {
  let text: string | undefined;
  if ('file' in source) {
    try {
      text = readFileSync(source.file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT'
          ? 'does not exist'
          : code === 'EACCES'
            ? 'is not readable by the bridge'
            : `cannot be read (${code ?? 'error'})`;
      return { ok: false, problem: `${describeKeySource(source)}: the file ${why}` };
    }
  } else {
    text = env[source.env];
    if (text === undefined || text === '')
      return { ok: false, problem: `${describeKeySource(source)}: the variable is not set` };
  }
  const key = text.trim();
  if (!key) return { ok: false, problem: `${describeKeySource(source)}: empty` };
  if (!KEY_SHAPE.test(key))
    return {
      ok: false,
      problem: `${describeKeySource(source)}: does not hold one API key (16 to 512 printable characters, no spaces)`,
    };
  return { ok: true, key };
}

export class CredentialMap {
  readonly mode: AuthMode;
  /** Changes when an entry's db, login or hash changes (not its key): verified passwords stay valid otherwise. */
  readonly passwordFingerprint: string;
  private readonly byId: ReadonlyMap<string, Credential>;
  private readonly byDb: ReadonlyMap<string, readonly Credential[]>;

  constructor(mode: AuthMode, credentials: readonly Credential[]) {
    this.mode = mode;
    this.byId = new Map(credentials.map((c) => [c.id, c]));
    const byDb = new Map<string, Credential[]>();
    for (const c of credentials) byDb.set(c.db, [...(byDb.get(c.db) ?? []), c]);
    this.byDb = byDb;
    this.passwordFingerprint = createHash('sha256')
      .update(JSON.stringify([mode, credentials.map((c) => [c.db, c.login, c.hashText])]))
      .digest('base64');
  }

  static empty(mode: AuthMode = 'passthrough'): CredentialMap {
    return new CredentialMap(mode, []);
  }

  get(id: string): Credential | undefined {
    return this.byId.get(id);
  }

  find(db: string, login: string): Credential | undefined {
    return this.byId.get(credentialId(db, login));
  }

  inDb(db: string): readonly Credential[] {
    return this.byDb.get(db) ?? [];
  }

  all(): Credential[] {
    return [...this.byId.values()];
  }

  get size(): number {
    return this.byId.size;
  }
}

export interface BuiltMap {
  map: CredentialMap;
  /** Keys that could not be read (the entry keeps `previous`'s key when it had one). */
  problems: string[];
}

/**
 * Builds a map from checked settings, reading every key. When `previous` is given (a reload), an
 * entry whose key cannot be read now keeps the key it had, so that a key file caught half-written
 * does not lock an integration out.
 */
export function buildCredentialMap(
  settings: AuthSettings,
  env: NodeJS.ProcessEnv,
  previous?: CredentialMap,
): BuiltMap {
  const problems: string[] = [];
  const credentials = settings.credentials.map((spec: CredentialSpec): Credential => {
    const id = credentialId(spec.db, spec.login);
    const read = readApiKey(spec.apiKey, env);
    let apiKey: string | undefined;
    if (read.ok) apiKey = read.key;
    else {
      const kept = previous?.get(id)?.apiKey;
      problems.push(`${spec.where}: ${read.problem}${kept ? '; keeping the key read before' : ''}`);
      apiKey = kept;
    }
    return {
      id,
      db: spec.db,
      login: spec.login,
      hash: spec.hash,
      hashText: spec.hashText,
      apiKey,
      keySource: spec.apiKey,
      where: spec.where,
    };
  });
  return { map: new CredentialMap(settings.mode, credentials), problems };
}
