/**
 * The long texts of a large legacy request (a base64 attachment in a `create` or `write`), kept as
 * the bytes they came in instead of becoming JS strings. Making a 28 MB string of a request costs
 * a whole copy in memory mapped afresh, then another to encode it back for JSON-2 (about 60 ms each
 * on a 2-core machine); kept as views of the request's chunks, the text costs nothing: the JSON-2
 * body sends those very chunks (BENCHMARKS.md, "Large payloads"). Only an object call's arguments
 * keep their texts so ({@link confineLargeTexts}); the bridge reads everything else as strings.
 *
 * Before the body is decoded, each text of at least {@link LARGE_TEXT_BYTES} whose bytes need no
 * work in XML or JSON (no markup, no `&`, no `"` or `\`, no control character) is cut out and a
 * placeholder put in its place: the decoders then read a small document, exactly as they would read
 * the whole one. The placeholders are then replaced with {@link LargeText} values. Where a text was
 * cut from a place that is not a string value (a comment, a CDATA section, a key), its placeholder
 * is not found as a value: the caller then decodes the whole body as it came, so that what a
 * request means never depends on this shortcut.
 *
 * - XML-RPC: a run between `<string>` and `</string>`, or `<value>` and `</value>`; `0xEF` (the
 *   first byte of U+FFFE and U+FFFF, which XML refuses) ends a run too.
 * - JSON-RPC: a whole string (from its opening quote to its closing one) without escapes.
 *
 * The runs are found by sampling (see `Body`), so a request without one costs next to nothing.
 */
import { randomBytes } from 'node:crypto';
import { isUtf8Chunks } from '../utf8-bytes.ts';
import { LargeText, type Value } from '../values.ts';
import { firstControl } from './byte-search.ts';

/** The shortest text kept as bytes: anything shorter is cheaper as a string. */
export const LARGE_TEXT_BYTES = 1024 * 1024;

/** A body with its long texts replaced by placeholders, and the texts by placeholder. */
export interface CutBody {
  readonly chunks: Buffer[];
  readonly texts: Map<string, LargeText>;
}

/** Per process: a client cannot write a placeholder without guessing it. */
const NONCE = randomBytes(8).toString('hex');

const XML_STOPS = [0x3c /* < */, 0x3e /* > */, 0x26 /* & */, 0x22 /* " */, 0x5c /* \ */, 0xef];
const JSON_STOPS = [0x22, 0x5c];

const OPENERS = [Buffer.from('<string>'), Buffer.from('<value>')];
const QUOTE = Buffer.from('"');
const CLOSERS = [Buffer.from('</string>'), Buffer.from('</value>')];

/** An XML-RPC body's long texts cut out; undefined when it has none. `max`: the longest text the decoder would accept. */
export function cutXmlTexts(
  chunks: readonly Buffer[],
  max: number,
  min = LARGE_TEXT_BYTES,
): CutBody | undefined {
  const body = new Body(chunks);
  const runs = body.longRuns(XML_STOPS, min).filter((run) => {
    if (run.bytes > max) return false;
    for (let k = 0; k < OPENERS.length; k++)
      if (
        endsWith(chunks, run.from, OPENERS[k] as Buffer) &&
        startsWith(chunks, run.to, CLOSERS[k] as Buffer)
      )
        return isUtf8Chunks(slice(chunks, run.from, run.to));
    return false;
  });
  return runs.length === 0 ? undefined : cut(chunks, runs);
}

/**
 * A JSON-RPC body's long strings cut out; undefined when it has none. A run between two quotes
 * without a backslash is taken for a whole string: where it is not one (the quotes close one
 * string and open the next, or one is escaped), the placeholder is not read back as a whole
 * string value, and the caller decodes the whole body instead.
 */
export function cutJsonTexts(chunks: readonly Buffer[], min = LARGE_TEXT_BYTES): CutBody | undefined {
  const body = new Body(chunks);
  const runs = body
    .longRuns(JSON_STOPS, min)
    .filter(
      (run) =>
        byteAt(chunks, run.to) === 0x22 &&
        endsWith(chunks, run.from, QUOTE) &&
        isUtf8Chunks(slice(chunks, run.from, run.to)),
    );
  return runs.length === 0 ? undefined : cut(chunks, runs);
}

/**
 * Puts the texts back in the decoded values, in place: true when every placeholder was found,
 * once, as a whole string value (else the caller decodes the whole body instead).
 */
export function putTextsBack(values: Value[], texts: ReadonlyMap<string, LargeText>): boolean {
  const found = new Set<string>();
  let twice = false;
  const walk = (v: Value): Value => {
    if (typeof v === 'string') {
      const text = v.length < 64 ? texts.get(v) : undefined;
      if (text === undefined) return v;
      if (found.has(v)) twice = true;
      found.add(v);
      return text;
    }
    if (Array.isArray(v)) for (let i = 0; i < v.length; i++) v[i] = walk(v[i] as Value);
    else if (v instanceof Map) for (const [k, item] of v) v.set(k, walk(item));
    return v;
  };
  for (let i = 0; i < values.length; i++) values[i] = walk(values[i] as Value);
  return !twice && found.size === texts.size;
}

/**
 * Keeps LargeText only where the bridge passes values on to Odoo as they are: the arguments of an
 * object call (`execute` / `execute_kw`, from the sixth parameter on). Anywhere else (a model or
 * method name, another service's parameters) a long text becomes a string again, so that the
 * bridge's own checks and faults see exactly what they would have seen.
 */
export function confineLargeTexts(service: string, method: string, params: Value[]): void {
  const objectCall = service === 'object' && (method === 'execute_kw' || method === 'execute');
  const keepFrom = objectCall ? 5 : params.length;
  for (let i = 0; i < Math.min(keepFrom, params.length); i++)
    params[i] = withoutLargeTexts(params[i] as Value);
}

/** The value with every LargeText decoded into a string (in place for lists and structs). */
export function withoutLargeTexts(v: Value): Value {
  if (v instanceof LargeText) return v.text();
  if (Array.isArray(v)) for (let i = 0; i < v.length; i++) v[i] = withoutLargeTexts(v[i] as Value);
  else if (v instanceof Map) for (const [k, item] of v) v.set(k, withoutLargeTexts(item));
  return v;
}

/** A place in a chunk list: its chunk, the index in it, and the offset in the whole body. */
interface Place {
  chunk: number;
  index: number;
  offset: number;
}

/** A run of bytes that need no work: from `from` up to (not including) `to`. */
interface Run {
  from: Place;
  to: Place;
  bytes: number;
}

/**
 * A body in chunks, searched for long runs of bytes that need no work. A run of at least `min`
 * bytes holds one of the offsets `min/2`, `min`, `3·min/2`…: only there is the body looked at,
 * the run grown both ways to the nearest stop byte (`indexOf`, `lastIndexOf`) or control
 * character. A body without such a run costs a few searches per `min/2` bytes, whatever it holds.
 */
class Body {
  private readonly chunks: readonly Buffer[];
  /** Each chunk's offset in the body, and the body's length last. */
  private readonly starts: number[] = [];

  constructor(chunks: readonly Buffer[]) {
    this.chunks = chunks;
    let offset = 0;
    for (const chunk of chunks) {
      this.starts.push(offset);
      offset += chunk.length;
    }
    this.starts.push(offset);
  }

  longRuns(stops: readonly number[], min: number): Run[] {
    const runs: Run[] = [];
    const length = this.starts[this.starts.length - 1] as number;
    const step = Math.max(1, Math.floor(min / 2));
    for (let p = step; p < length; p += step) {
      const end = this.nextStop(p, stops);
      if (end === p) continue;
      const start = this.previousStop(p, stops) + 1;
      if (end - start >= min) {
        runs.push({ from: this.place(start), to: this.place(end), bytes: end - start });
        while (p + step < end) p += step;
      }
    }
    return runs;
  }

  /** The offset of the first stop byte or control character at or after `offset` (the body's length if none). */
  private nextStop(offset: number, stops: readonly number[]): number {
    let { chunk: c, index: i } = this.place(offset);
    for (; c < this.chunks.length; c++, i = 0) {
      const chunk = this.chunks[c] as Buffer;
      let end = chunk.length;
      for (const stop of stops) {
        const k = chunk.indexOf(stop, i);
        if (k >= 0 && k < end) end = k;
      }
      end = firstControl(chunk, i, end);
      if (end < chunk.length) return (this.starts[c] as number) + end;
    }
    return this.starts[this.chunks.length] as number;
  }

  /** The offset of the last stop byte or control character before `offset` (-1 if none). */
  private previousStop(offset: number, stops: readonly number[]): number {
    let { chunk: c, index: i } = this.place(offset);
    for (; c >= 0; c--) {
      const chunk = this.chunks[c] as Buffer;
      if (i < 0) i = chunk.length;
      let last = -1;
      if (i > 0) for (const stop of stops) last = Math.max(last, chunk.lastIndexOf(stop, i - 1));
      for (let k = firstControl(chunk, last + 1, i); k < i; k = firstControl(chunk, k + 1, i)) last = k;
      if (last >= 0) return (this.starts[c] as number) + last;
      i = -1;
    }
    return -1;
  }

  /** Where offset `offset` is: its chunk and the index in it (the chunk after the last for the end). */
  private place(offset: number): Place {
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { chunk: lo, index: offset - (this.starts[lo] as number), offset };
  }
}

function byteAt(chunks: readonly Buffer[], at: Place): number | undefined {
  return chunks[at.chunk]?.[at.index];
}

/** Whether the bytes just before `at` are `tail` (they may span chunks). */
function endsWith(chunks: readonly Buffer[], at: Place, tail: Buffer): boolean {
  let c = at.chunk;
  let i = at.index;
  for (let k = tail.length - 1; k >= 0; k--) {
    while (i === 0) {
      if (--c < 0) return false;
      i = (chunks[c] as Buffer).length;
    }
    if ((chunks[c] as Buffer)[--i] !== tail[k]) return false;
  }
  return true;
}

/** Whether the bytes from `at` on are `head` (they may span chunks). */
function startsWith(chunks: readonly Buffer[], at: Place, head: Buffer): boolean {
  let c = at.chunk;
  let i = at.index;
  for (let k = 0; k < head.length; k++) {
    while (c < chunks.length && i === (chunks[c] as Buffer).length) {
      c++;
      i = 0;
    }
    if (c === chunks.length || (chunks[c] as Buffer)[i++] !== head[k]) return false;
  }
  return true;
}

/** The chunks with each run replaced by a placeholder, and the runs as texts (views, no copy). */
function cut(chunks: readonly Buffer[], runs: readonly Run[]): CutBody {
  const out: Buffer[] = [];
  const texts = new Map<string, LargeText>();
  let at: Place = { chunk: 0, index: 0, offset: 0 };
  for (const [k, run] of runs.entries()) {
    for (const piece of slice(chunks, at, run.from)) out.push(piece);
    const placeholder = `LARGE-TEXT-${NONCE}-${k}`;
    out.push(Buffer.from(placeholder, 'latin1'));
    const bytes = slice(chunks, run.from, run.to);
    texts.set(placeholder, new LargeText({ chunks: bytes, length: run.bytes }));
    at = run.to;
  }
  for (const piece of slice(chunks, at, { chunk: chunks.length, index: 0, offset: -1 })) out.push(piece);
  return { chunks: out, texts };
}

/** Views of the bytes from `a` up to `b` (no empty view). */
function slice(chunks: readonly Buffer[], a: Place, b: Place): Buffer[] {
  const out: Buffer[] = [];
  for (let c = a.chunk; c <= b.chunk && c < chunks.length; c++) {
    const chunk = chunks[c] as Buffer;
    const start = c === a.chunk ? a.index : 0;
    const end = c === b.chunk ? b.index : chunk.length;
    if (end > start) out.push(start === 0 && end === chunk.length ? chunk : chunk.subarray(start, end));
  }
  return out;
}
