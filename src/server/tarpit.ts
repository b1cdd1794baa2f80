/**
 * Where the connections of a client that floods after being throttled go (auth/throttle.ts
 * `shed`): held open, unread, for a while, then closed. Closing them at once only starts a
 * reconnect storm (each new connection costs the bridge an accept and an HTTP parser); held,
 * they cost the bridge nothing and keep the flooder's connections busy doing nothing.
 *
 * Bounded: at most `max` held at once, the oldest closed first; each closed after `holdMs`.
 */
import type { Socket } from 'node:net';

export class Tarpit {
  private readonly held = new Set<Socket>();
  private readonly max: number;
  private readonly holdMs: number;

  constructor(max = 4096, holdMs = 30_000) {
    this.max = max;
    this.holdMs = holdMs;
  }

  hold(socket: Socket): void {
    socket.pause();
    socket.on('error', () => socket.destroy());
    socket.setTimeout(this.holdMs, () => socket.destroy());
    socket.once('close', () => this.held.delete(socket));
    this.held.add(socket);
    if (this.held.size > this.max) {
      const oldest = this.held.values().next().value;
      oldest?.destroy();
    }
  }

  get size(): number {
    return this.held.size;
  }

  close(): void {
    for (const socket of this.held) socket.destroy();
    this.held.clear();
  }
}
