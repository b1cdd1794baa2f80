/**
 * The long texts of a large legacy request (a base64 attachment in a `create` or `write`), kept as
 * the bytes they came in instead of becoming JS strings. Making a 28 MB string of a request costs
 * a whole copy in memory mapped afresh, then another to encode it back for JSON-2 (about 60 ms each
 * on a 2-core machine); kept as views of the request's chunks, the text costs nothing until the
 * JSON-2 body copies it (BENCHMARKS.md, "Large payloads").
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
 */
import { randomBytes } from 'node:crypto';
import { isUtf8Chunks } from '../utf8-bytes.ts';
import { LargeText, type Value } from '../values.ts';
import { firstControl, indexOrEnd } from './byte-search.ts';

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
const CLOSERS = [Buffer.from('</string>'), Buffer.from('</value>')];

/** An XML-RPC body's long texts cut out; undefined when it has none. `max`: the longest text the decoder would accept. */
export function cutXmlTexts(
  chunks: readonly Buffer[],
  max: number,
  min = LARGE_TEXT_BYTES,
): CutBody | undefined {
  const runs: Run[] = [];
  scanRuns(chunks, XML_STOPS, min, (run) => {
    if (run.bytes > max) return;
    for (let k = 0; k < OPENERS.length; k++) {
      const opener = OPENERS[k] as Buffer;
      const closer = CLOSERS[k] as Buffer;
      if (endsWith(chunks, run.from, opener) && startsWith(chunks, run.to, closer)) {
        if (isUtf8Chunks(slice(chunks, run.from, run.to))) runs.push(run);
        return;
      }
    }
  });
  return runs.length === 0 ? undefined : cut(chunks, runs);
}

/** A JSON-RPC body's long strings cut out (each a whole string without escapes); undefined when it has none. */
export function cutJsonTexts(chunks: readonly Buffer[], min = LARGE_TEXT_BYTES): CutBody | undefined {
  const runs: Run[] = [];
  // Whether the bytes are inside a string, where the string being read began, and which byte a
  // backslash escapes. Stop bytes are met in order, so this follows the JSON exactly.
  let inString = false;
  let stringStart = -1;
  let escapedAt = -1;
  scanRuns(
    chunks,
    JSON_STOPS,
    min,
    (run) => {
      if (
        inString &&
        run.from.offset === stringStart &&
        byteAt(chunks, run.to) === 0x22 &&
        isUtf8Chunks(slice(chunks, run.from, run.to))
      )
        runs.push(run);
    },
    (stop, at) => {
      if (at.offset === escapedAt) return; // `\"` or `\\`: an escaped character, not a stop
      if (stop === 0x5c && inString) escapedAt = at.offset + 1;
      else if (stop === 0x22) {
        inString = !inString;
        stringStart = at.offset + 1;
      }
    },
  );
  return runs.length === 0 ? undefined : cut(chunks, runs);
}

/**
 * Puts the texts back in the decoded values, in place: true when every placeholder was found,
 * once, as a whole string value (else the caller decodes the whole body instead).
 */
export function putTextsBack(values: Value[], texts: ReadonlyMap<string, LargeText>): boolean {
  let found = 0;
  const walk = (v: Value): Value => {
    if (typeof v === 'string') {
      const text = v.length < 64 ? texts.get(v) : undefined;
      if (text === undefined) return v;
      found++;
      return text;
    }
    if (Array.isArray(v)) for (let i = 0; i < v.length; i++) v[i] = walk(v[i] as Value);
    else if (v instanceof Map) for (const [k, item] of v) v.set(k, walk(item));
    return v;
  };
  for (let i = 0; i < values.length; i++) values[i] = walk(values[i] as Value);
  return found === texts.size;
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
 * Calls `onRun` for each run of at least `min` bytes holding no stop byte and no control
 * character, and `onStop` for each stop byte (or control character) met, in order. Runs may span
 * chunks. The stop bytes are found with `indexOf`, the control characters four bytes at a time.
 */
function scanRuns(
  chunks: readonly Buffer[],
  stops: readonly number[],
  min: number,
  onRun: (run: Run) => void,
  onStop?: (stop: number, at: Place) => void,
): void {
  let from: Place = { chunk: 0, index: 0, offset: 0 };
  let offset = 0;
  for (let c = 0; c < chunks.length; c++) {
    const chunk = chunks[c] as Buffer;
    const next = stops.map(() => -1);
    let i = 0;
    while (i < chunk.length) {
      let end = chunk.length;
      for (let k = 0; k < stops.length; k++) {
        if ((next[k] as number) < i) next[k] = indexOrEnd(chunk, stops[k] as number, i);
        end = Math.min(end, next[k] as number);
      }
      end = firstControl(chunk, i, end);
      if (end === chunk.length) break; // the run goes on in the next chunk
      const to = { chunk: c, index: end, offset: offset + end };
      if (to.offset - from.offset >= min) onRun({ from, to, bytes: to.offset - from.offset });
      onStop?.(chunk[end] as number, to);
      from = { chunk: c, index: end + 1, offset: offset + end + 1 };
      i = end + 1;
    }
    offset += chunk.length;
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
    out.push(...slice(chunks, at, run.from));
    const placeholder = `LARGE-TEXT-${NONCE}-${k}`;
    out.push(Buffer.from(placeholder, 'latin1'));
    const bytes = slice(chunks, run.from, run.to);
    texts.set(placeholder, new LargeText({ chunks: bytes, length: run.bytes }));
    at = run.to;
  }
  out.push(...slice(chunks, at, { chunk: chunks.length, index: 0, offset: -1 }));
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
