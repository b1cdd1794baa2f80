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

const UNREDACTED = new WeakMap<Logger, Logger>();

/**
 * `log` without redaction, for the one line per legacy call (server/call-context.ts), whose keys
 * are fixed and whose values are strings and numbers: redaction cannot change that line, and
 * pino's redaction (wildcard paths, applied to every key of every line) costs more than the rest
 * of writing it. Same destination, level and bindings as `log`; made once per logger.
 */
export function unredacted(log: Logger): Logger {
  let plain = UNREDACTED.get(log);
  if (!plain) {
    plain = log.child({}, { redact: [] });
    UNREDACTED.set(log, plain);
  }
  return plain;
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
 * Standard output, written asynchronously in batches: lines are held until 4 KiB are waiting or
 * 250 ms have passed, so that a busy bridge makes one write for a dozen calls rather than one per
 * call (a write costs more than the line). Whatever is held when the process exits (process.exit
 * after SIGTERM, an uncaught error) is written synchronously by pino's exit handler.
 */
function stdoutInBatches(): DestinationStream {
  return pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 250 });
}
