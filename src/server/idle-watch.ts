/**
 * Cuts request bodies that stop arriving (BRIDGE_BODY_IDLE_TIMEOUT_MS): a sender that opens a
 * request and then trickles nothing would otherwise hold its place and its bytes for as long as
 * it likes. One timer for all requests sweeps the watched bodies; a chunk only resets a counter,
 * so the cost per call is an entry in a set.
 */

/** A watched body: `ticks` ms without data so far. */
export interface Watched {
  ticks: number;
  readonly onIdle: () => void;
}

export class IdleWatch {
  readonly timeoutMs: number;
  private readonly sweepMs: number;
  private readonly watched = new Set<Watched>();
  private timer: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs;
    // A stall is noticed within a quarter of the timeout (a second at most) after it is due.
    this.sweepMs = Math.max(10, Math.min(1000, Math.floor(timeoutMs / 4)));
  }

  /** A body to watch; `onIdle` runs if, while watched, no `touch` comes for the timeout. */
  entry(onIdle: () => void): Watched {
    return { ticks: 0, onIdle };
  }

  /** Watches `w` from now: only while the bridge waits for data (not while it holds off reading). */
  watch(w: Watched): void {
    w.ticks = 0;
    this.watched.add(w);
    this.timer ??= setInterval(() => this.sweep(), this.sweepMs).unref();
  }

  /** Data arrived. */
  touch(w: Watched): void {
    w.ticks = 0;
  }

  forget(w: Watched): void {
    this.watched.delete(w);
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.watched.clear();
  }

  private sweep(): void {
    for (const w of this.watched) {
      w.ticks += this.sweepMs;
      if (w.ticks >= this.timeoutMs) {
        this.watched.delete(w);
        w.onIdle();
      }
    }
  }
}
