/**
 * Closing a connection the bridge has finished with while its client may still be sending: the
 * bridge ends its side (its answer, then FIN) and keeps reading for a moment, so that a client
 * still sending gets to read the answer (closing with unread data resets the connection, and the
 * client's system may throw the answer away with it). The server's sockets stay half-open, so
 * without a limit a client that never ends its side would keep the socket.
 */
import type { Duplex } from 'node:stream';

/** How long a connection the bridge has ended stays open for its client to end it. */
export const LINGER_MS = 5000;

/** `socket`, whose bridge side has ended: destroyed when the client ends its side, or after LINGER_MS. */
export function closeAfterLinger(socket: Duplex): void {
  const timer = setTimeout(() => socket.destroy(), LINGER_MS).unref();
  socket.once('close', () => clearTimeout(timer));
  socket.once('end', () => socket.destroy());
}
