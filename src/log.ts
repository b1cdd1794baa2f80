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

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { app: 'odoo-rpc-bridge' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}
