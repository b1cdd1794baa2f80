/**
 * Which Odoo serves a database: the upstreams of BRIDGE_CONFIG (src/upstream/upstream-settings.ts)
 * in order, the first whose patterns match the database winning; calls that name no database go to
 * the first. Each upstream has its own connection pools, signature cache and version
 * (`UpstreamParts`, built by bridge.ts).
 *
 * Live cutover: `update` takes the settings of a reloaded config. An upstream whose settings did
 * not change keeps its parts (pools, caches); a changed or new one is built afresh; one no longer
 * listed is closed once the calls in flight on it are done (its pools finish what they carry).
 * Calls read their upstream once, when they are routed: those that start after `update` take
 * the new routes, those in flight finish where they started.
 */
import { matchesAny } from '../db-patterns.ts';
import type { UpstreamMode, UpstreamSettings } from './upstream-settings.ts';

/** What an upstream needs to serve calls; built by bridge.ts, closed when the upstream leaves. */
export interface UpstreamParts<P> {
  parts: P;
  close(): Promise<void>;
}

export class Upstream<P> {
  private current: UpstreamSettings;
  readonly parts: P;
  readonly close: () => Promise<void>;
  /** Its patterns include `*`: every database (no matching on a call's path). */
  private everything: boolean;
  /** Calls routed to it and not yet over (`hold` / `release`). */
  private inFlight = 0;
  /** Set once it left the config: closes it when the last call is over. */
  private onIdle: (() => void) | undefined;

  constructor(settings: UpstreamSettings, built: UpstreamParts<P>) {
    this.current = settings;
    this.parts = built.parts;
    this.close = built.close;
    this.everything = settings.databases.includes('*');
  }

  get settings(): UpstreamSettings {
    return this.current;
  }

  /** A reload kept it: same server and parts (and calls in flight), new databases or shadow. */
  reconfigure(settings: UpstreamSettings): void {
    this.current = settings;
    this.everything = settings.databases.includes('*');
  }

  get name(): string {
    return this.settings.name;
  }

  get mode(): UpstreamMode {
    return this.settings.mode;
  }

  serves(db: string): boolean {
    return this.everything || matchesAny(this.settings.databases, db);
  }

  /** A call is routed here (it uses its parts until `release`). */
  hold(): void {
    this.inFlight++;
  }

  release(): void {
    this.inFlight--;
    if (this.inFlight <= 0) this.onIdle?.();
  }

  /**
   * It left the config: closed once no call routed to it is over, or after `graceMs` at most
   * (a call whose end was never reported must not keep a pool open for ever).
   */
  retire(graceMs: number): Promise<void> {
    if (this.inFlight <= 0) return this.close();
    return new Promise((resolve, reject) => {
      let closed = false;
      const done = () => {
        if (closed) return;
        closed = true;
        clearTimeout(timer);
        this.onIdle = undefined;
        this.close().then(resolve, reject);
      };
      const timer = setTimeout(done, graceMs);
      timer.unref();
      this.onIdle = done;
    });
  }
}

export class Routes<P> {
  private list: Upstream<P>[];
  private readonly build: (s: UpstreamSettings) => UpstreamParts<P>;
  /** Told of each upstream closed after it left the config (logs). */
  onRetired: ((name: string) => void) | undefined;

  constructor(settings: readonly UpstreamSettings[], build: (s: UpstreamSettings) => UpstreamParts<P>) {
    if (settings.length === 0) throw new Error('at least one upstream');
    this.build = build;
    this.list = settings.map((s) => new Upstream(s, build(s)));
  }

  /** The upstream of calls that name no database (common.version, db.list, ...). */
  get first(): Upstream<P> {
    return this.list[0] as Upstream<P>;
  }

  all(): readonly Upstream<P>[] {
    return this.list;
  }

  /** The upstream that serves `db`, or undefined: no upstream lists it. */
  for(db: string): Upstream<P> | undefined {
    return firstServing(this.list, db);
  }

  /**
   * The routes of a reloaded config (see the module comment); answers what changed, by name. An
   * upstream that left is closed once its calls are over, or after `graceMs`. Throws (the running
   * routes kept, what it built closed) when an upstream cannot be built.
   */
  update(
    settings: readonly UpstreamSettings[],
    graceMs: number,
  ): { kept: string[]; built: string[]; retired: string[] } {
    if (settings.length === 0) throw new Error('at least one upstream');
    const before = new Map(this.list.map((u) => [u.name, u]));
    const kept: string[] = [];
    const built: Upstream<P>[] = [];
    let next: Upstream<P>[];
    try {
      next = settings.map((s) => {
        const old = before.get(s.name);
        if (old && sameServer(old.settings, s)) {
          kept.push(s.name);
          return old;
        }
        const u = new Upstream(s, this.build(s));
        built.push(u);
        return u;
      });
    } catch (e) {
      for (const u of built) void u.close().catch(() => undefined);
      throw e;
    }
    for (const name of kept) before.delete(name);
    // Kept ones take their new databases and shadow fraction only now, all at once.
    settings.forEach((s, i) => {
      if (kept.includes(s.name)) next[i]?.reconfigure(s);
    });
    this.list = next;
    const retired = [...before.values()];
    for (const u of retired)
      void u.retire(graceMs).then(
        () => this.onRetired?.(u.name),
        () => this.onRetired?.(u.name),
      );
    return { kept, built: built.map((u) => u.name), retired: retired.map((u) => u.name) };
  }

  async close(): Promise<void> {
    await Promise.all(this.list.map((u) => u.close()));
  }
}

/** Which of `upstreams` serves `db`: the first whose patterns match (also for a list read once). */
export function firstServing<U extends { serves(db: string): boolean }>(
  upstreams: readonly U[],
  db: string,
): U | undefined {
  return upstreams.find((u) => u.serves(db));
}

/** Whether two settings describe the same server and way of talking to it (its parts reusable). */
function sameServer(a: UpstreamSettings, b: UpstreamSettings): boolean {
  return (
    a.url === b.url &&
    a.mode === b.mode &&
    a.dbHeader === b.dbHeader &&
    a.timeoutMs === b.timeoutMs &&
    a.docsKeyEnv === b.docsKeyEnv &&
    a.serviceKeyEnv === b.serviceKeyEnv
  );
}
