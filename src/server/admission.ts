/**
 * What the bridge holds at once, bounded: the calls in flight (legacy calls and forwarded
 * requests, BRIDGE_MAX_CALLS_IN_FLIGHT, and at most BRIDGE_MAX_CALLS_PER_CLIENT of them from one
 * client address) and the bytes they hold in memory (BRIDGE_MAX_INFLIGHT_BYTES: request bodies,
 * and large answers until the client has read them). Past a limit a new call is refused at once
 * with a retryable answer, instead of the process growing until the pod is killed with every
 * call in flight, or one client taking every place.
 *
 * A call takes its place with `enter` and gives it back with `leave`; its body's bytes are
 * reserved as they are read (`reserve`) and given back when the call ends (`release`); an answer
 * waiting to be read is counted (`hold`) however full the budget: then new calls wait for it. All
 * in one thread, so a check and its update are never separated by another call's.
 */
import { serviceUnavailable, type OdooFault } from '../errors.ts';

export interface AdmissionLimits {
  maxCalls: number;
  maxCallsPerClient: number;
  maxBytes: number;
}

/** Why a call was refused, for metrics and the fault. */
export type Refusal = 'calls' | 'client' | 'bytes';

export class Admission {
  readonly limits: AdmissionLimits;
  calls = 0;
  bytes = 0;
  /** Calls in flight per client address (only those with one at least). */
  private readonly perClient = new Map<string, number>();
  /** Told of each refusal (metrics). */
  onRefused: ((why: Refusal) => void) | undefined;

  constructor(limits: AdmissionLimits) {
    this.limits = limits;
  }

  /**
   * Takes a place for a call from `client`; the refusal (counted) when the bridge already holds
   * its most calls, or its most from that client.
   */
  enter(client: string | undefined): Refusal | undefined {
    if (this.calls >= this.limits.maxCalls) {
      this.onRefused?.('calls');
      return 'calls';
    }
    if (client !== undefined) {
      const n = this.perClient.get(client) ?? 0;
      if (n >= this.limits.maxCallsPerClient) {
        this.onRefused?.('client');
        return 'client';
      }
      this.perClient.set(client, n + 1);
    }
    this.calls++;
    return undefined;
  }

  leave(client: string | undefined): void {
    this.calls--;
    if (client === undefined) return;
    const n = (this.perClient.get(client) ?? 1) - 1;
    if (n > 0) this.perClient.set(client, n);
    else this.perClient.delete(client);
  }

  /** Counts `n` bytes held (an answer waiting to be read), over the budget if need be. */
  hold(n: number): void {
    this.bytes += n;
  }

  /** Reserves `n` more bytes of request body; false (counted, nothing reserved) past the budget. */
  reserve(n: number): boolean {
    if (this.bytes + n > this.limits.maxBytes) {
      this.onRefused?.('bytes');
      return false;
    }
    this.bytes += n;
    return true;
  }

  release(n: number): void {
    this.bytes -= n;
  }
}

/** Thrown where a call cannot be admitted; the routes answer {@link overloadedFault}. */
export class Overloaded extends Error {
  readonly why: Refusal;
  constructor(why: Refusal) {
    super(
      why === 'calls'
        ? 'too many calls in flight'
        : why === 'client'
          ? "too many of this client's calls in flight"
          : 'in-flight bytes over budget',
    );
    this.why = why;
  }
}

/** Seconds a refused client is told to wait (`Retry-After`). */
export const RETRY_AFTER_SECONDS = 1;

/**
 * The fault a legacy client gets when the bridge is over a limit: a 503 in werkzeug's words (what
 * an overloaded Odoo behind a proxy answers), saying which setting and that a retry will do.
 */
export function overloadedFault(why: Refusal): OdooFault {
  const what =
    why === 'calls'
      ? 'as many calls as it may (BRIDGE_MAX_CALLS_IN_FLIGHT)'
      : why === 'client'
        ? "as many of this client's calls as it may (BRIDGE_MAX_CALLS_PER_CLIENT)"
        : 'as many bytes of calls as it may (BRIDGE_MAX_INFLIGHT_BYTES)';
  return serviceUnavailable(`odoo-rpc-bridge is holding ${what}; retry in ${RETRY_AFTER_SECONDS} s`);
}
