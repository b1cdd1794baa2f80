/**
 * Reading a legacy request whose one parameter is too large to hold (`db.restore`'s backup, as
 * base64): the request is split into the call around that parameter, decoded by the ordinary
 * decoders, and the parameter's text, handed on as it arrives.
 *
 * The splitters (xmlrpc/stream-call.ts, jsonrpc-stream.ts) read the request up to the start of
 * the parameter. If the call is not one to stream, or its shape is not the plain one they know,
 * they hand back the whole body for the ordinary path instead (`{ kind: 'whole' }`). Otherwise
 * the call is decoded twice with the parameter replaced by {@link STREAMED_PLACEHOLDER}: once as
 * far as the parameter (closing the open elements), to know who is calling before any data is
 * forwarded, and once whole, at the end, which checks the rest of the request exactly as the
 * ordinary decoder would.
 */
import { isAscii } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/** Stands for the streamed parameter in the decoded call. Plain ASCII, safe in XML and JSON. */
export const STREAMED_PLACEHOLDER = `odoo-rpc-bridge-streamed-parameter-${randomBytes(12).toString('hex')}`;

export interface SplitOptions {
  /** Most bytes of the request outside the streamed parameter (BRIDGE_MAX_BODY_BYTES). */
  maxBytes: number;
  /** Most bytes of a request whose parameter is streamed; 0: no limit. */
  maxStreamedBytes: number;
  /** The error to throw past a limit. */
  tooLarge(which: 'body' | 'streamed'): Error;
}

/** A call with one parameter streamed. `T` is what the ordinary decoder returns. */
export interface StreamedCall<T> {
  readonly kind: 'streamed';
  /** The call as far as the streamed parameter, which reads as the placeholder. */
  readonly head: T;
  /** The parameter's text (escapes and references resolved), piece by piece. Iterate once. */
  readonly text: AsyncIterable<string>;
  /** Reads the rest of the request and decodes the whole call, the parameter reading as the placeholder. */
  finish(): Promise<T>;
  /** Bytes of the request read so far. */
  bytesRead(): number;
  /**
   * Reads what is left of the request and drops it (after a call refused before its end);
   * false when more than `maxBytes` were left, and some still are.
   */
  discard(maxBytes: number): Promise<boolean>;
}

export type SplitCall<T> = { readonly kind: 'whole'; readonly body: Buffer } | StreamedCall<T>;

/** What a splitter's reader makes of one chunk of the streamed parameter. */
export interface ParameterPiece {
  /** The parameter's text in this chunk (escapes and references resolved); may hold empty strings. */
  texts: string[];
  /** Set once the parameter ends: the request's bytes after it, from its closing quote or tag on. */
  rest?: Buffer;
}

/** Reads the streamed parameter's text chunk by chunk, up to its end (jsonrpc-stream.ts, xmlrpc/stream-call.ts). */
export interface ParameterReader {
  feed(chunk: Buffer): ParameterPiece;
}

/** A splitter's scan of the request up to the streamed parameter; re-run with the grown buffer after 'more'. */
export interface HeadScan<F> {
  run(pre: Buffer): 'more' | 'whole' | F;
}

/**
 * Reads the request until `scanner` finds the streamed parameter. 'whole', or the end of the
 * request, hands back the whole body for the ordinary path. `pre` is everything read so far;
 * `input` reads on from there.
 */
export async function scanToParameter<F extends object>(
  source: AsyncIterable<Uint8Array | string>,
  o: SplitOptions,
  scanner: HeadScan<F>,
): Promise<{ kind: 'whole'; body: Buffer } | { kind: 'found'; found: F; pre: Buffer; input: RequestBytes }> {
  const input = new RequestBytes(source, o);
  let pre: Buffer = Buffer.alloc(0);
  for (;;) {
    const r = scanner.run(pre);
    if (r === 'whole') return { kind: 'whole', body: await input.rest(pre) };
    if (r !== 'more') return { kind: 'found', found: r, pre, input };
    // Read on by at least SCAN_STEP (or a quarter of what is held) before joining and scanning
    // again: one byte at a time would join and rescan the whole start for each byte (quadratic).
    const chunks = [pre];
    let size = pre.length;
    const want = size + Math.max(SCAN_STEP, size >> 2);
    let ended = false;
    while (size < want) {
      const chunk = await input.next();
      if (chunk === undefined) {
        ended = true;
        break;
      }
      chunks.push(chunk);
      size += chunk.length;
    }
    pre = chunks.length === 1 ? pre : Buffer.concat(chunks, size);
    if (ended) {
      const last = scanner.run(pre);
      if (last !== 'more' && last !== 'whole') return { kind: 'found', found: last, pre, input };
      return { kind: 'whole', body: pre };
    }
  }
}

/** Bytes read between two scans of a request's start, at least (see scanToParameter). */
const SCAN_STEP = 16 * 1024;

/** What differs between the protocols once the streamed parameter is found. */
export interface StreamedCallParts<T> {
  input: RequestBytes;
  /** The call decoded as far as the parameter (see {@link StreamedCall.head}). */
  head: T;
  /** The request up to the parameter's text, then the placeholder as it stands in the request. */
  headBytes: Buffer;
  placeholder: Buffer;
  /** The bytes already read past `headBytes`: the start of the parameter's text. */
  first: Buffer;
  reader: ParameterReader;
  /** What the protocol calls it, for the misuse errors: JSON-RPC 'argument', XML-RPC 'parameter'. */
  noun: string;
  /** The protocol's error when the request ends inside the parameter. */
  truncated(): Error;
  /**
   * Decodes the whole request, the parameter reading as the placeholder, and checks that it is
   * still the call the head said (same method, the placeholder in the same place).
   */
  decodeWhole(body: Buffer): T;
}

/**
 * The streamed call both splitters hand back: `text` feeds the request to the reader until the
 * parameter ends, keeping what follows in a {@link Tail}; `finish` skips the parameter if it was
 * not read, collects the rest and decodes the whole request with the placeholder in its place.
 */
export function streamedCall<T>(p: StreamedCallParts<T>): StreamedCall<T> {
  const { input, headBytes, placeholder, reader } = p;
  p.input.streaming = true;
  const tail = new Tail(headBytes.length + placeholder.length, input.options);
  let first: Buffer | undefined = p.first;
  let textDone = false;
  let iterated = false;

  async function* text(): AsyncGenerator<string> {
    if (iterated) throw new Error(`the streamed ${p.noun} can be read once`);
    iterated = true;
    for (;;) {
      const chunk = first ?? (await input.next());
      first = undefined;
      if (chunk === undefined) throw p.truncated();
      const r = reader.feed(chunk);
      for (const t of r.texts) if (t.length > 0) yield t;
      if (r.rest !== undefined) {
        tail.push(r.rest);
        textDone = true;
        return;
      }
    }
  }

  return {
    kind: 'streamed',
    head: p.head,
    text: { [Symbol.asyncIterator]: text },
    async finish() {
      if (!textDone) {
        if (iterated) throw new Error(`finish() called while the streamed ${p.noun} is being read`);
        for await (const _ of text()) {
          // the parameter is not wanted: skip it
        }
      }
      for (let c = await input.next(); c !== undefined; c = await input.next()) tail.push(c);
      return p.decodeWhole(Buffer.concat([headBytes, placeholder, ...tail.bytes()]));
    },
    bytesRead: () => input.read,
    discard: (maxBytes) => input.discard(maxBytes),
  };
}

/** The request's bytes, counted and capped. */
export class RequestBytes {
  private readonly it: AsyncIterator<Uint8Array | string>;
  /** The limits it applies; a {@link Tail} after the parameter applies them too. */
  readonly options: SplitOptions;
  read = 0;
  /** Set once the parameter streams: the streamed-request limit applies from then on. */
  streaming = false;

  constructor(source: AsyncIterable<Uint8Array | string>, o: SplitOptions) {
    this.it = source instanceof Readable ? chunksOf(source) : source[Symbol.asyncIterator]();
    this.options = o;
  }

  /** The next chunk, or undefined at the end. */
  async next(): Promise<Buffer | undefined> {
    const r = await this.it.next();
    if (r.done === true) return undefined;
    const v = r.value;
    const chunk =
      typeof v === 'string'
        ? Buffer.from(v)
        : Buffer.isBuffer(v)
          ? v
          : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    this.read += chunk.length;
    if (this.streaming) {
      if (this.options.maxStreamedBytes > 0 && this.read > this.options.maxStreamedBytes)
        throw this.options.tooLarge('streamed');
    } else if (this.read > this.options.maxBytes) throw this.options.tooLarge('body');
    return chunk;
  }

  /** Reads and drops the rest, past any limit; false when more than `maxBytes` are left. */
  async discard(maxBytes: number): Promise<boolean> {
    let dropped = 0;
    try {
      for (;;) {
        const r = await this.it.next();
        if (r.done === true) return true;
        dropped += typeof r.value === 'string' ? Buffer.byteLength(r.value) : r.value.byteLength;
        if (dropped > maxBytes) return false;
      }
    } catch {
      return true; // the request broke off: nothing is left to read
    }
  }

  /** `head` followed by everything left: the ordinary path's body. */
  async rest(head: Buffer): Promise<Buffer> {
    const chunks = [head];
    let size = head.length;
    for (let c = await this.next(); c !== undefined; c = await this.next()) {
      chunks.push(c);
      size += c.length;
    }
    return Buffer.concat(chunks, size);
  }
}

/**
 * A Readable's chunks one by one, as they came off the socket. (A Readable's own async iterator
 * hands over everything buffered as one new Buffer, copying a whole backup once more.) At most
 * a few chunks wait: past that the stream is paused.
 */
function chunksOf(stream: Readable): AsyncIterator<Buffer> {
  const queue: Buffer[] = [];
  let ended = false;
  let failed: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const poke = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  stream.on('data', (chunk: Buffer | string) => {
    queue.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    if (queue.length >= 2) stream.pause();
    poke();
  });
  stream.once('end', () => {
    ended = true;
    poke();
  });
  stream.once('error', (error: unknown) => {
    failed ??= { error };
    poke();
  });
  stream.once('close', () => {
    if (!ended) failed ??= { error: new Error('the request was aborted') };
    poke();
  });
  return {
    async next(): Promise<IteratorResult<Buffer>> {
      for (;;) {
        const chunk = queue.shift();
        if (chunk !== undefined) {
          if (queue.length < 1 && stream.isPaused() && !ended) stream.resume();
          return { value: chunk, done: false };
        }
        if (failed) throw failed.error;
        if (ended) return { value: undefined, done: true };
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}

/** Bytes kept after the streamed parameter, capped like a request body. */
export class Tail {
  private readonly chunks: Buffer[] = [];
  private size: number;
  private readonly o: SplitOptions;

  constructor(headLength: number, o: SplitOptions) {
    this.size = headLength;
    this.o = o;
  }

  push(b: Buffer): void {
    this.size += b.length;
    if (this.size > this.o.maxBytes) throw this.o.tooLarge('body');
    this.chunks.push(b);
  }

  bytes(): Buffer[] {
    return this.chunks;
  }
}

/**
 * Whether `buf` holds a byte below 0x20 (other than TAB, LF and CR when `xmlWhitespace`): what
 * XML and JSON refuse raw in text. Read a 32-bit word at a time ("has a byte less than 0x20"),
 * since this runs over every byte of a streamed backup.
 */
export function hasControlByte(buf: Uint8Array, xmlWhitespace: boolean): boolean {
  const n = buf.length;
  const bad = (c: number): boolean =>
    c < 0x20 && !(xmlWhitespace && (c === 0x09 || c === 0x0a || c === 0x0d));
  let k = 0;
  while (k < n && ((buf.byteOffset + k) & 3) !== 0) if (bad(buf[k++] as number)) return true;
  const words = (n - k) >>> 2;
  if (words > 0) {
    const u = new Uint32Array(buf.buffer, buf.byteOffset + k, words);
    for (let w = 0; w < words; w++) {
      const x = u[w] as number;
      if (((x - 0x20202020) & ~x & 0x80808080) !== 0) {
        const at = k + w * 4;
        for (let j = at; j < at + 4; j++) if (bad(buf[j] as number)) return true;
      }
    }
    k += words * 4;
  }
  while (k < n) if (bad(buf[k++] as number)) return true;
  return false;
}

/**
 * UTF-8 bytes to text, piece by piece: ASCII pieces (a backup's base64) are copied as Latin-1,
 * which is much cheaper; others go through a StringDecoder, which keeps a character cut between
 * pieces and turns invalid sequences into U+FFFD.
 */
export class Utf8Text {
  private readonly decoder = new StringDecoder('utf8');
  private holding = false;

  write(bytes: Buffer): string {
    if (isAscii(bytes)) {
      // A character left incomplete before ASCII is invalid: end() says so (U+FFFD), as write() would.
      const before = this.flush();
      const text = bytes.toString('latin1');
      return before.length > 0 ? before + text : text;
    }
    this.holding = true;
    return this.decoder.write(bytes);
  }

  flush(): string {
    if (!this.holding) return '';
    this.holding = false;
    return this.decoder.end();
  }
}

export function startsWithAt(buf: Buffer, at: number, s: string): boolean {
  if (buf.length - at < s.length) return false;
  for (let k = 0; k < s.length; k++) if (buf[at + k] !== s.charCodeAt(k)) return false;
  return true;
}
