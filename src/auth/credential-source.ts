/**
 * Where the live credential map comes from, and how it follows rotation: the BRIDGE_CONFIG file
 * and every key file it names are polled (stat: mtime, ctime, size, inode; a Kubernetes secret
 * volume swaps a symlink, which changes the inode) and re-read when one changes, or on `reload()`
 * (SIGHUP). A new map replaces the old one in one assignment: calls in flight keep the snapshot
 * they started with, nothing is dropped.
 *
 * A reload that fails (file unreadable, invalid) keeps the current map and logs why; a key file
 * that cannot be read keeps that entry's previous key. At start-up both are errors (ConfigError).
 * The rest of a valid file (signature overrides, shims) goes to `onConfigFile`'s listeners, in the
 * same step as the new map.
 */
import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import { ConfigError, readConfigFile, type ConfigFile } from '../config.ts';
import { PASSTHROUGH_ONLY, type AuthSettings } from './credential-config.ts';
import { buildCredentialMap, CredentialMap } from './credential-map.ts';

export interface CredentialSourceOptions {
  /** The BRIDGE_CONFIG path, when there is one (re-read on change). */
  path: string | undefined;
  /** The settings read from it at start-up. */
  settings: AuthSettings;
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** How often to look for changes; 0: only on reload(). */
  pollMs: number;
}

export class CredentialSource {
  private map: CredentialMap;
  private readonly opts: CredentialSourceOptions;
  private readonly listeners: Array<(map: CredentialMap, previous: CredentialMap) => void> = [];
  private readonly fileListeners: Array<(file: ConfigFile) => void> = [];
  private timer: NodeJS.Timeout | undefined;
  private lastStamp: string | undefined;
  private running: Promise<void> = Promise.resolve();
  private polling = false;
  /** Reloads that produced a new map, for tests. */
  reloads = 0;

  /** Reads every key now; throws ConfigError naming the entry whose key cannot be read. */
  constructor(opts: CredentialSourceOptions) {
    this.opts = opts;
    const built = buildCredentialMap(opts.settings, opts.env);
    if (built.problems.length > 0) throw new ConfigError(built.problems[0]);
    this.map = built.map;
    if (opts.path && opts.pollMs > 0) {
      void this.stamp().then((s) => (this.lastStamp = s));
      this.timer = setInterval(() => void this.poll(), opts.pollMs);
      this.timer.unref();
    }
  }

  static passthrough(log: Logger): CredentialSource {
    return new CredentialSource({ path: undefined, settings: PASSTHROUGH_ONLY, env: {}, log, pollMs: 0 });
  }

  get current(): CredentialMap {
    return this.map;
  }

  /** Called with each new map (after a reload), just before calls see it. */
  onChange(fn: (map: CredentialMap, previous: CredentialMap) => void): void {
    this.listeners.push(fn);
  }

  /** Called with the whole config file each time a valid one is read again, with the new map. */
  onConfigFile(fn: (file: ConfigFile) => void): void {
    this.fileListeners.push(fn);
  }

  /** Re-reads the file and the keys now (SIGHUP). Reloads never overlap. */
  reload(reason: string): Promise<void> {
    this.running = this.running
      .then(() => this.load(reason))
      .catch((e: unknown) => this.opts.log.error({ reason, err: e }, 'credentials not reloaded'));
    return this.running;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      await this.pollOnce();
    } finally {
      this.polling = false;
    }
  }

  private async pollOnce(): Promise<void> {
    const now = await this.stamp();
    if (this.lastStamp === undefined || now === this.lastStamp) {
      this.lastStamp = now;
      return;
    }
    this.lastStamp = now;
    await this.reload('file changed');
  }

  /** What the files look like now; any change means a reload. */
  private async stamp(): Promise<string> {
    const paths = [
      this.opts.path ?? '',
      ...this.map.all().flatMap((c) => ('file' in c.keySource ? [c.keySource.file] : [])),
    ];
    const parts = await Promise.all(
      paths.map(async (p) => {
        try {
          const s = await stat(p);
          return `${s.mtimeMs}/${s.ctimeMs}/${s.size}/${s.ino}`;
        } catch (e) {
          return (e as NodeJS.ErrnoException).code ?? 'error';
        }
      }),
    );
    return JSON.stringify([paths, parts]);
  }

  private async load(reason: string): Promise<void> {
    const { path, log, env } = this.opts;
    let settings = this.opts.settings;
    let file: ConfigFile | undefined;
    if (path) {
      try {
        file = readConfigFile(path);
        settings = file.auth;
      } catch (e) {
        const message = e instanceof ConfigError ? e.message : (e as Error).message;
        log.error(
          { reason, problem: message },
          'credentials not reloaded: the config file is invalid; keeping the current ones',
        );
        return;
      }
    }
    const previous = this.map;
    const built = buildCredentialMap(settings, env, previous);
    for (const problem of built.problems) log.error({ reason, problem }, 'API key not reloaded');
    // Listeners and the swap run in one synchronous step: no call sees one without the other.
    for (const fn of this.listeners) fn(built.map, previous);
    if (file) for (const fn of this.fileListeners) fn(file);
    this.map = built.map;
    this.reloads++;
    this.lastStamp = await this.stamp();
    log.info({ reason, mode: built.map.mode, credentials: built.map.size }, 'credentials reloaded');
  }
}
