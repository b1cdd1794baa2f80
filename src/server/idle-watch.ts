/**
 * Cuts request bodies that stop arriving (BRIDGE_BODY_IDLE_TIMEOUT_MS): a sender that opens a
 * request and then trickles nothing would otherwise hold its place and its bytes for as long as
 * it likes. One timer for all requests sweeps the watched bodies; a chunk only resets a counter.
 *
 * The watched bodies are a list threaded through the bodies themselves (`prevWatched`,
 * `nextWatched`): watching and forgetting, which every call does, are a few field writes, where a
 * Set's were a hashed insert and delete (measured: a few percent of a small call's CPU).
 */

/**
 * A watched body (or answer): `ticks` ms without progress so far; `onIdle` once they reach the
 * timeout. `progressed`, when given, is asked at each sweep (an answer's bytes written).
 */
export interface Watched {
  ticks: number;
  onIdle(): void;
  progressed?(): boolean;
  /** The list's links, IdleWatch's own. */
  prevWatched: Watched | undefined;
  nextWatched: Watched | undefined;
}

export class IdleWatch {
  readonly timeoutMs: number;
  private readonly sweepMs: number;
  /** The first watched body; undefined when none is. */
  private head: Watched | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs;
    // A stall is noticed within a quarter of the timeout (a second at most) after it is due.
    this.sweepMs = Math.max(10, Math.min(1000, Math.floor(timeoutMs / 4)));
  }

  /** Watches `w` from now: only while the bridge waits for data (not while it holds off reading). */
  watch(w: Watched): void {
    w.ticks = 0;
    if (w.prevWatched !== undefined || this.head === w) return; // already watched
    w.nextWatched = this.head;
    if (this.head) this.head.prevWatched = w;
    this.head = w;
    this.timer ??= setInterval(() => this.sweep(), this.sweepMs).unref();
  }

  forget(w: Watched): void {
    if (w.prevWatched === undefined && this.head !== w) return; // not watched
    if (w.prevWatched) w.prevWatched.nextWatched = w.nextWatched;
    else this.head = w.nextWatched;
    if (w.nextWatched) w.nextWatched.prevWatched = w.prevWatched;
    w.prevWatched = undefined;
    w.nextWatched = undefined;
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    while (this.head) this.forget(this.head);
  }

  private sweep(): void {
    for (let w = this.head; w;) {
      const next = w.nextWatched;
      if (w.progressed?.() === true) w.ticks = 0;
      else w.ticks += this.sweepMs;
      if (w.ticks >= this.timeoutMs) {
        this.forget(w);
        w.onIdle();
      }
      w = next;
    }
  }
}
