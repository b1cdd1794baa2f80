/**
 * Answers a client does not read: a large legacy answer or a forwarded one sits in the bridge's
 * memory (and holds its call's place) until the client has read it. One whose client makes no
 * progress reading it for BRIDGE_BODY_IDLE_TIMEOUT_MS has its connection destroyed, which gives
 * both back. Watched by the same sweep as stalled bodies (idle-watch.ts).
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { IdleWatch, Watched } from './idle-watch.ts';

class Answer implements Watched {
  ticks = 0;
  prevWatched: Watched | undefined = undefined;
  nextWatched: Watched | undefined = undefined;
  private waiting = Number.POSITIVE_INFINITY;
  private readonly res: ServerResponse;

  constructor(res: ServerResponse) {
    this.res = res;
  }

  /**
   * Whether the client read some of what waits for it since the last sweep, or nothing waits
   * (an answer still coming from Odoo is Odoo's to time out). What waits is what the socket holds
   * and what libuv has not yet written to the system (its handle's `writeQueueSize`; where that
   * cannot be read, the answer is taken as progressing).
   */
  progressed(): boolean {
    const socket = this.res.socket as (Socket & { _handle?: { writeQueueSize?: number } }) | null;
    const queued = socket?._handle?.writeQueueSize;
    if (!socket || queued === undefined) return true;
    const waiting = socket.writableLength + queued;
    const progressed = waiting === 0 || waiting < this.waiting;
    this.waiting = waiting;
    return progressed;
  }

  onIdle(): void {
    this.res.destroy();
  }
}

/** Watches `res` until it is sent or its connection closes. */
export function watchAnswer(res: ServerResponse, idle: IdleWatch): void {
  const answer = new Answer(res);
  idle.watch(answer);
  res.once('close', () => idle.forget(answer));
}
