/**
 * The bridge's logger: pino JSON lines. The bridge never logs call parameters (they carry
 * passwords and keys); redaction also covers the header and field names a secret could hide in,
 * should one ever be logged by mistake.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

export const REDACTED_PATHS = [
  'password',
  'apiKey',
  'api_key',
  'key',
  'docsKey',
  'params',
  'authorization',
  'password_hash',
  'passwordHash',
  '*.password',
  '*.password_hash',
  '*.passwordHash',
  '*.apiKey',
  '*.api_key',
  '*.key',
  '*.docsKey',
  '*.params',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
];

/** The top-level keys among REDACTED_PATHS: a line whose keys are none of these needs no redaction. */
export const REDACTED_KEYS: ReadonlySet<string> = new Set(REDACTED_PATHS.filter((p) => !p.includes('.')));

/** A line's fields for `writeFlatLine`: primitive values only (undefined ones are left out). */
export type FlatFields = Record<string, string | number | boolean | undefined>;

/**
 * Writes `fields` and `msg` as an info line of `log`, exactly as `log.info(fields, msg)` would
 * (level, time, the logger's bindings, the fields, the message; the same keys in the same order),
 * but serialized by one `JSON.stringify`. For the one line per legacy call
 * (server/call-context.ts): pino's serializer builds a string per key and per value and applies
 * the redaction paths to every key, about 3 KB of garbage and a few µs per line, a tenth of a
 * small call's garbage. So the caller must only pass fields that need no redaction: its keys are
 * fixed and none is in REDACTED_KEYS. test/server/flat-line.test.ts compares the line with pino's.
 */
export function writeFlatLine(log: Logger, fields: FlatFields, msg: string): void {
  if (!log.isLevelEnabled('info')) return;
  const p = log as unknown as PinoInternals;
  const json = JSON.stringify(fields);
  const s = pino.symbols;
  p[s.streamSym].write(
    p[s.lsCacheSym][30] +
      p[s.timeSym]() +
      p[s.chindingsSym] +
      (json.length > 2 ? ',' + json.slice(1, -1) : '') +
      `,${JSON.stringify(p[s.messageKeySym])}:${JSON.stringify(msg)}` +
      p[s.endSym],
  );
}

/**
 * What `writeFlatLine` reads of a pino logger, through the symbols pino exports (`pino.symbols`):
 * the level's prefix (`{"level":30`), the time field, the bindings (`,"pid":...`), the line's end.
 */
interface PinoInternals {
  [pino.symbols.streamSym]: DestinationStream;
  [pino.symbols.lsCacheSym]: Record<number, string>;
  [pino.symbols.timeSym]: () => string;
  [pino.symbols.chindingsSym]: string;
  [pino.symbols.messageKeySym]: string;
  [pino.symbols.endSym]: string;
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { app: 'odoo-rpc-bridge' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return pino(options, destination ?? stdoutInBatches());
}

/**
 * Standard output, written in batches: lines are held until 4 KiB are waiting or 250 ms have
 * passed, so that a busy bridge makes one write for a dozen calls rather than one per call (a
 * write costs more than the line). The lines are held in an array and joined once per batch
 * (sonic-boom's own batching, `minLength`, appends each line to a string and measures it again,
 * copying the whole batch for every line). Each batch is written synchronously, as pino's
 * destination does by default and as Node writes to a pipe or file on Linux: so whatever is held
 * when the process exits (process.exit after SIGTERM, an uncaught error) is written before it
 * does, in order, where an asynchronous write still in flight at exit could be lost.
 */
function stdoutInBatches(): DestinationStream {
  return new LineBatches(pino.destination({ dest: 1, sync: true }));
}

interface Flushable {
  write(chunk: string): unknown;
  flushSync(): void;
}

const BATCHERS = new Set<LineBatches>();
let exitHookInstalled = false;

export class LineBatches implements DestinationStream {
  private pending: string[] = [];
  private size = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly out: Flushable;
  private readonly minLength: number;
  private readonly periodMs: number;

  constructor(out: Flushable, minLength = 4096, periodMs = 250) {
    this.out = out;
    this.minLength = minLength;
    this.periodMs = periodMs;
    BATCHERS.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', () => {
        for (const b of BATCHERS) b.flushOnExit();
      });
    }
  }

  write(line: string): void {
    this.pending.push(line);
    this.size += line.length;
    if (this.size >= this.minLength) this.flush();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), this.periodMs);
      this.timer.unref();
    }
  }

  /** Hands the held lines to the output as one string; `done` (pino's `logger.flush(cb)`) after. */
  flush(done?: (err?: Error) => void): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length > 0) {
      const chunk = this.pending.length === 1 ? (this.pending[0] as string) : this.pending.join('');
      this.pending = [];
      this.size = 0;
      try {
        this.out.write(chunk);
      } catch (e) {
        if (!done) throw e;
        done(e instanceof Error ? e : new Error(String(e)));
        return;
      }
    }
    done?.();
  }

  /** Writes everything held, here and in the output, before returning (pino calls it after a fatal line). */
  flushSync(): void {
    this.flush();
    this.out.flushSync();
  }

  private flushOnExit(): void {
    try {
      this.flushSync();
    } catch {
      // The output is closed or broken (EPIPE): nothing more can be written.
    }
  }
}
