/**
 * Reading a legacy request's body without holding what nobody vouched for:
 *
 * - `readPrefix` reads at most {@link PREFIX_BYTES} (plus the chunk that crossed it). A body that
 *   ends within it, which is every ordinary call, is the whole body: read in one go, as before.
 * - A longer body is read on (`more`) only once its sender is known: the caller has decoded the
 *   credentials from the prefix and verified them. Otherwise the rest is read and dropped
 *   (`drain`), never held, or the connection is closed past a limit.
 *
 * Every byte held is reserved in the in-flight budget (admission.ts) and given back by `release`
 * when the call ends. A body that stops arriving for BRIDGE_BODY_IDLE_TIMEOUT_MS is cut: the
 * pending read fails with {@link BodyStalled}; so is a prefix not complete within that time, and
 * a dropped rest not done within four times it, however slowly they trickle.
 */
import type { IncomingMessage } from 'node:http';
import type { Admission } from './admission.ts';
import { Overloaded } from './admission.ts';
import type { IdleWatch, Watched } from './idle-watch.ts';
import { requestEntityTooLarge, type OdooFault } from '../errors.ts';

/**
 * The most of a body read before its sender is known. A legacy call's credentials are its first
 * parameters, a few hundred bytes in; 64 KiB leaves room for any preamble a client writes.
 */
export const PREFIX_BYTES = 64 * 1024;

const NO_CHUNKS: Buffer[] = [];

/** The rest of a refused request is dropped within this many BRIDGE_BODY_IDLE_TIMEOUT_MS. */
const DRAIN_TIMEOUTS = 4;

/**
 * A body over BRIDGE_MAX_BODY_BYTES (`body`), or one that alone would hold more than the whole
 * in-flight budget (`budget`, BRIDGE_MAX_INFLIGHT_BYTES): refused, not to be retried as it is.
 */
export class BodyTooLarge extends Error {
  readonly limit: 'body' | 'budget';
  constructor(limit: 'body' | 'budget' = 'body') {
    super(
      limit === 'body'
        ? 'request body over BRIDGE_MAX_BODY_BYTES'
        : 'request body over BRIDGE_MAX_INFLIGHT_BYTES',
    );
    this.limit = limit;
  }
}

/** What Odoo answers (as a fault) when werkzeug refuses a body over its limit, naming the bridge's setting. */
export function bodyTooLargeFault(
  e: BodyTooLarge,
  limits: { maxBodyBytes: number; maxInflightBytes: number },
): OdooFault {
  const why =
    e.limit === 'body'
      ? `the bridge accepts at most ${limits.maxBodyBytes} bytes: BRIDGE_MAX_BODY_BYTES`
      : `a call holds about five times its size in memory, and the bridge holds at most ${limits.maxInflightBytes} bytes of calls at once: BRIDGE_MAX_INFLIGHT_BYTES, with the container's memory to match`;
  return requestEntityTooLarge(
    `413 Request Entity Too Large: The data value transmitted exceeds the capacity limit. (${why})`,
  );
}

/** The body stopped arriving: the connection is closed after the answer. */
export class BodyStalled extends Error {
  constructor(ms: number) {
    super(`the request body stalled for ${Math.round(ms / 1000)} s (BRIDGE_BODY_IDLE_TIMEOUT_MS)`);
  }
}

/** What a body is read within (the bridge's parts have it all: no object is made per call). */
export interface BodyLimits {
  config: { readonly maxBodyBytes: number };
  admission: Admission;
  idle: IdleWatch;
}

export class IncomingBody implements Watched {
  /** IdleWatch's count of milliseconds without data (see idle-watch.ts). */
  ticks = 0;
  prevWatched: Watched | undefined = undefined;
  nextWatched: Watched | undefined = undefined;
  private readonly req: IncomingMessage;
  private readonly o: BodyLimits;
  /** Bytes reserved in the budget for this body (held in memory, or claimed ahead by `rest`). */
  private held = 0;
  /** Bytes of this body held so far (at most `held`). */
  private holding = 0;
  /** Bytes read so far, held or dropped. */
  read = 0;
  /** Set once the request's last byte was read. */
  ended = false;
  /** Chunks read ahead while pulling (`next`); none for a body read whole by `prefix`. */
  private queue: Buffer[] = NO_CHUNKS;
  private failed: Error | undefined;
  private wake: (() => void) | undefined;
  /** While `prefix` reads: fails it. */
  private failPrefix: ((e: Error) => void) | undefined;
  private pulling = false;

  constructor(req: IncomingMessage, o: BodyLimits) {
    this.req = req;
    this.o = o;
  }

  /**
   * The body's first bytes: all of it when it ends within `limit` bytes (`ended` is then true),
   * else the chunks read until past `limit`. Rejects with BodyTooLarge (declared or read past
   * BRIDGE_MAX_BODY_BYTES), Overloaded (over the in-flight budget), BodyStalled, or the socket's error.
   */
  prefix(limit: number = PREFIX_BYTES): Promise<Buffer> {
    const req = this.req;
    const declared = Number(req.headers['content-length']);
    if (req.headers['content-length'] !== undefined && declared > this.o.config.maxBodyBytes)
      return Promise.reject(new BodyTooLarge());
    return new Promise((resolve, reject) => {
      let chunks = new ChunkList();
      const done = (e?: Error): void => {
        req.off('data', onData);
        req.off('end', onEnd);
        req.off('error', onError);
        req.off('aborted', onAborted);
        this.failPrefix = undefined;
        this.unwatch();
        if (e) reject(e);
      };
      const onData = (chunk: Buffer): void => {
        // Not `touch`ed: the first bytes must all arrive within the timeout, however they trickle
        // (a byte every few seconds would otherwise hold a place for as long as the sender likes).
        this.read += chunk.length;
        if (this.read > this.o.config.maxBodyBytes) return done(new BodyTooLarge());
        const refused = this.hold(chunk.length);
        if (refused) return done(refused);
        chunks.push(chunk);
        if (chunks.size > limit) {
          // A large body: nothing more is read until the caller knows who sent it.
          req.pause();
          done();
          resolve(chunks.joined());
          chunks = new ChunkList();
        }
      };
      const onEnd = (): void => {
        this.ended = true;
        done();
        resolve(chunks.joined());
        chunks = new ChunkList();
      };
      const onError = (e: Error): void => done(e);
      const onAborted = (): void => done(new Error('client aborted the request'));
      // A stall fails the pending read (see `fail`).
      this.failPrefix = done;
      this.watch();
      req.on('data', onData);
      req.once('end', onEnd);
      req.once('error', onError);
      req.once('aborted', onAborted);
    });
  }

  /**
   * The next chunk after the prefix, or undefined at the end; held (reserved, counted against
   * BRIDGE_MAX_BODY_BYTES) unless `drop`. Only for bodies whose sender is known, or to drop.
   */
  async next(drop = false): Promise<Buffer | undefined> {
    if (!this.pulling) this.startPulling();
    for (;;) {
      const chunk = this.queue.shift();
      if (chunk !== undefined) {
        if (this.queue.length === 0 && this.req.isPaused() && !this.ended) this.req.resume();
        this.read += chunk.length;
        if (!drop) {
          if (this.read > this.o.config.maxBodyBytes) throw new BodyTooLarge();
          const refused = this.hold(chunk.length);
          if (refused) throw refused;
        }
        return chunk;
      }
      if (this.failed) throw this.failed;
      if (this.ended) return undefined;
      // Waiting for the client: this is where a stall is timed.
      this.watch();
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.unwatch();
    }
  }

  /**
   * `prefix` followed by the rest of the body, held, in chunks: the whole body of a verified call. A
   * declared length is reserved in the budget at once, before reading on: large calls arriving
   * together are then each served or refused whole, instead of each getting part of the budget
   * and all of them failing half-way.
   */
  async rest(prefix: Buffer): Promise<Buffer[]> {
    const declared = Number(this.req.headers['content-length']);
    if (
      this.req.headers['content-length'] !== undefined &&
      Number.isSafeInteger(declared) &&
      declared > this.held
    ) {
      if (declared > this.o.admission.limits.maxBytes) throw new BodyTooLarge('budget');
      if (!this.o.admission.reserve(declared - this.held)) throw new Overloaded('bytes');
      this.held = declared;
    }
    // Kept as the chunks they came in (small ones copied together): joined, a large body would be
    // copied whole once more.
    const chunks = new ChunkList();
    chunks.push(prefix);
    for (let c = await this.next(); c !== undefined; c = await this.next()) chunks.push(c);
    return chunks.done();
  }

  /**
   * Reads and drops the rest of the body, up to `maxBytes` more, so that a client that sends its
   * whole request before reading the answer gets to read it; `onChunk` sees each chunk (the
   * JSON-RPC id). False when more than `maxBytes` were left (the connection must then be closed).
   */
  async drain(maxBytes: number, onChunk?: (chunk: Buffer) => void): Promise<boolean> {
    if (this.ended) return true;
    const start = this.read;
    // However the rest trickles, it is dropped within DRAIN_TIMEOUTS idle timeouts, or cut.
    const deadline = setTimeout(
      () => this.fail(new BodyStalled(DRAIN_TIMEOUTS * this.o.idle.timeoutMs)),
      DRAIN_TIMEOUTS * this.o.idle.timeoutMs,
    );
    try {
      for (let c = await this.next(true); c !== undefined; c = await this.next(true)) {
        onChunk?.(c);
        if (this.read - start > maxBytes) return false;
      }
      return true;
    } catch {
      return false; // stalled or broken off: nothing more will come
    } finally {
      clearTimeout(deadline);
    }
  }

  /** The chunks after the prefix as an async iterable, held (db.restore's splitter counts them itself). */
  chunks(prefix: Buffer, maxBytes = Number.POSITIVE_INFINITY): AsyncIterable<Buffer> {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const body = this;
    return {
      async *[Symbol.asyncIterator]() {
        if (prefix.length > 0) yield prefix;
        if (body.ended) return;
        for (let c = await body.next(true); c !== undefined; c = await body.next(true)) {
          if (body.read > maxBytes) throw new BodyTooLarge();
          yield c;
        }
      },
    };
  }

  /** Why reading the body failed (too large, stalled, the client gone), if it did. */
  get failure(): Error | undefined {
    return this.failed;
  }

  /** Gives back the bytes held and stops watching for a stall: the call is over. */
  release(): void {
    if (this.held > 0) this.o.admission.release(this.held);
    this.held = 0;
    this.holding = 0;
    this.unwatch();
  }

  /** Holds `n` more bytes; the error to fail with when they cannot be. */
  private hold(n: number): Error | undefined {
    // Within what was claimed ahead (`rest`): already reserved.
    if (this.holding + n <= this.held) {
      this.holding += n;
      return undefined;
    }
    const more = this.holding + n - this.held;
    if (this.holding + n > this.o.admission.limits.maxBytes) return new BodyTooLarge('budget');
    if (!this.o.admission.reserve(more)) return new Overloaded('bytes');
    this.held += more;
    this.holding += n;
    return undefined;
  }

  private watch(): void {
    this.o.idle.watch(this);
  }

  private unwatch(): void {
    this.o.idle.forget(this);
  }

  /** The body stalled (IdleWatch). */
  onIdle(): void {
    this.fail(new BodyStalled(this.o.idle.timeoutMs));
  }

  private fail(e: Error): void {
    this.failed ??= e;
    const failPrefix = this.failPrefix;
    this.failPrefix = undefined;
    failPrefix?.(e);
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Pulls chunks one at a time: at most one waits, the socket is paused past that. */
  private startPulling(): void {
    this.pulling = true;
    this.queue = [];
    const req = this.req;
    const poke = (): void => {
      const w = this.wake;
      this.wake = undefined;
      w?.();
    };
    req.on('data', (chunk: Buffer) => {
      this.queue.push(chunk);
      req.pause();
      poke();
    });
    req.once('end', () => {
      this.ended = true;
      poke();
    });
    req.once('error', (e: Error) => this.fail(e));
    req.once('close', () => {
      if (!this.ended) this.fail(new Error('the request was aborted'));
    });
    req.resume();
  }
}

/** Chunks under this size are copied together as they arrive (see {@link ChunkList}). */
const SMALL_CHUNK = 16 * 1024;
/** The buffers they are copied into: below glibc's mmap threshold, so from malloc's heap. */
const GATHER_BYTES = 64 * 1024;

/**
 * A body's chunks as they arrive, the small ones copied together. Node hands over each piece of a
 * chunked request body as a chunk of its own, however small: a client sending one byte per piece
 * would otherwise have every byte cost a Buffer (about 200 bytes of memory, and the work on each
 * chunk later). Gathered, a body holds at most one chunk per 8 KiB, and no more than twice its
 * bytes.
 */
class ChunkList {
  private readonly chunks: Buffer[] = [];
  size = 0;
  private gather: Buffer | undefined;
  private used = 0;

  push(chunk: Buffer): void {
    this.size += chunk.length;
    if (chunk.length >= SMALL_CHUNK) {
      this.flush();
      this.chunks.push(chunk);
      return;
    }
    if (this.gather !== undefined && this.used + chunk.length > this.gather.length) this.flush();
    this.gather ??= Buffer.allocUnsafeSlow(GATHER_BYTES);
    chunk.copy(this.gather, this.used);
    this.used += chunk.length;
  }

  /** The chunks, in order. */
  done(): Buffer[] {
    this.flush();
    return this.chunks;
  }

  /** The bytes as one buffer. */
  joined(): Buffer {
    const chunks = this.done();
    return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, this.size);
  }

  /** Sets the gathered bytes aside: the buffer itself when at least half full, else a copy of them. */
  private flush(): void {
    const g = this.gather;
    if (g === undefined || this.used === 0) return;
    if (this.used * 2 >= g.length) {
      this.chunks.push(g.subarray(0, this.used));
      this.gather = undefined;
    } else this.chunks.push(Buffer.from(g.subarray(0, this.used)));
    this.used = 0;
  }
}
