/**
 * Who is calling: the address that throttling, logs and the inventory name a client by.
 *
 * By default it is the socket's peer. Behind an ingress or load balancer every peer is the proxy,
 * so one attacker's failures would throttle every client of that proxy. With
 * BRIDGE_TRUSTED_PROXIES set, a request whose peer is a trusted proxy is named by the address
 * that proxy saw: the rightmost hop of `X-Forwarded-For` (else of `Forwarded: for=`) that is not
 * itself trusted, as express's `trust proxy` does. Hops to the left of it were written by the
 * client and are never believed.
 *
 * The headers are read backwards with `lastIndexOf` (no regular expression), at most
 * {@link MAX_HOPS} hops and {@link MAX_HEADER_CHARS} characters from the right.
 */
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/** Hops read from the right of a forwarding header, at most. */
export const MAX_HOPS = 32;
/** Characters read from the right of a forwarding header, at most. */
export const MAX_HEADER_CHARS = 4096;

/** Named ranges, as express's `trust proxy` names them. */
const NAMED: Readonly<Record<string, readonly string[]>> = {
  loopback: ['127.0.0.0/8', '::1/128'],
  linklocal: ['169.254.0.0/16', 'fe80::/10'],
  uniquelocal: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
};

/** A parsed BRIDGE_TRUSTED_PROXIES. */
export interface TrustedProxies {
  /** What was configured, for the start-up log line. */
  readonly ranges: readonly string[];
  readonly list: BlockList;
}

/**
 * Parses `10.0.0.0/8, 192.168.1.7, fd00::/8, loopback`. Throws an Error whose message names the
 * entry that is not an address, a CIDR range or one of the names.
 */
export function parseTrustedProxies(value: string): TrustedProxies {
  const list = new BlockList();
  const ranges: string[] = [];
  for (const raw of value.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const named = NAMED[entry.toLowerCase()];
    for (const cidr of named ?? [entry]) {
      const slash = cidr.indexOf('/');
      const address = slash < 0 ? cidr : cidr.slice(0, slash);
      const family = isIP(address);
      const bits = family === 4 ? 32 : 128;
      const prefixText = slash < 0 ? String(bits) : cidr.slice(slash + 1);
      const prefix = Number(prefixText);
      if (family === 0 || !/^\d{1,3}$/.test(prefixText) || prefix > bits)
        throw new Error(
          `${JSON.stringify(entry)} is not an IP address, a CIDR range (10.0.0.0/8) or loopback/linklocal/uniquelocal`,
        );
      list.addSubnet(address, prefix, family === 4 ? 'ipv4' : 'ipv6');
    }
    ranges.push(entry);
  }
  return { ranges, list };
}

/** `::ffff:10.1.2.3` (a dual-stack socket's IPv4 peer) as `10.1.2.3`; anything else as is. */
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** Whether the peer `address` is one of the trusted proxies (none when unset). */
export function isTrustedPeer(trusted: TrustedProxies | undefined, address: string): boolean {
  return trusted !== undefined && isTrusted(trusted.list, plainAddress(address));
}

function isTrusted(trusted: BlockList, address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return trusted.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** The client's address for `req` (undefined only when the socket has none: it is gone). */
export function clientAddressOf(
  req: IncomingMessage,
  trusted: TrustedProxies | undefined,
): string | undefined {
  // The socket is detached from the request once its answer is out.
  const peer = (req.socket as typeof req.socket | null)?.remoteAddress;
  if (trusted === undefined || peer === undefined) return peer;
  let client = plainAddress(peer);
  if (!isTrusted(trusted.list, client)) return client;
  const xff = req.headers['x-forwarded-for'];
  const forwarded = req.headers['forwarded'];
  const header = typeof xff === 'string' ? xff : typeof forwarded === 'string' ? forwarded : undefined;
  if (header === undefined) return client;
  const hops = header.length > MAX_HEADER_CHARS ? header.slice(-MAX_HEADER_CHARS) : header;
  let end = hops.length;
  for (let n = 0; n < MAX_HOPS && end > 0; n++) {
    const comma = hops.lastIndexOf(',', end - 1);
    const element = hops.slice(comma + 1, end);
    end = comma < 0 ? 0 : comma;
    const hop = typeof xff === 'string' ? hopAddress(element) : forwardedElementFor(element);
    // An entry that is not an address ends the walk: the last one read is all that is known.
    if (hop === undefined) return client;
    client = hop;
    if (!isTrusted(trusted.list, hop)) return hop;
  }
  return client;
}

/**
 * The `X-Forwarded-For` to send Odoo, whose proxy mode takes its last hop as the client: from a
 * trusted proxy, the chain as received up to the client it names (the trusted hops after it left
 * out); from anyone else, the chain as received with the peer appended.
 */
export function forwardedFor(req: IncomingMessage, trusted: TrustedProxies | undefined): string {
  const peer = (req.socket as typeof req.socket | null)?.remoteAddress ?? '';
  const xff = req.headers['x-forwarded-for'];
  const received = typeof xff === 'string' ? xff : undefined;
  if (!isTrustedPeer(trusted, peer)) return received ? `${received}, ${peer}` : peer;
  const client = clientAddressOf(req, trusted) ?? peer;
  if (received === undefined) return client;
  // The received chain, cut after the rightmost hop that is the client.
  const hops = received.length > MAX_HEADER_CHARS ? received.slice(-MAX_HEADER_CHARS) : received;
  let end = hops.length;
  for (let n = 0; n < MAX_HOPS && end > 0; n++) {
    const comma = hops.lastIndexOf(',', end - 1);
    if (hopAddress(hops.slice(comma + 1, end)) === client) return hops.slice(0, end).trim();
    end = comma < 0 ? 0 : comma;
  }
  return client;
}

/** One X-Forwarded-For entry as an address: `10.0.0.1`, `10.0.0.1:5000`, `[2001:db8::1]:443`, `2001:db8::1`. */
function hopAddress(entry: string): string | undefined {
  let s = entry.trim();
  if (s.startsWith('"') && s.endsWith('"') && s.length >= 2) s = s.slice(1, -1);
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    s = close < 0 ? '' : s.slice(1, close);
  } else if (s.indexOf(':') > 0 && s.indexOf(':') === s.lastIndexOf(':')) {
    s = s.slice(0, s.indexOf(':')); // an IPv4 address with a port
  }
  return isIP(s) === 0 ? undefined : plainAddress(s);
}

/** The `for=` address of one `Forwarded` element (`for=192.0.2.1;proto=https`). */
function forwardedElementFor(element: string): string | undefined {
  for (const pair of element.split(';', 8)) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).trim().toLowerCase() !== 'for') continue;
    return hopAddress(pair.slice(eq + 1));
  }
  return undefined;
}
