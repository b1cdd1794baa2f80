/**
 * What the bridge holds at once, bounded: the calls in flight (legacy calls and forwarded
 * requests, BRIDGE_MAX_CALLS_IN_FLIGHT) and the request bytes they hold in memory
 * (BRIDGE_MAX_INFLIGHT_BYTES). Past either limit a new call is refused at once with a retryable
 * answer, instead of the process growing until the pod is killed with every call in flight.
 *
 * A call takes its place with `enter` and gives it back with `leave`; its body's bytes are
 * reserved as they are read (`reserve`) and given back when the call ends (`release`). All in
 * one thread, so a check and its update are never separated by another call's.
 */
import { serviceUnavailable, type OdooFault } from '../errors.ts';

export interface AdmissionLimits {
  maxCalls: number;
  maxBytes: number;
}

/** Why a call was refused, for metrics and the fault. */
export type Refusal = 'calls' | 'bytes';

export class Admission {
  readonly limits: AdmissionLimits;
  calls = 0;
  bytes = 0;
  /** Told of each refusal (metrics). */
  onRefused: ((why: Refusal) => void) | undefined;

  constructor(limits: AdmissionLimits) {
    this.limits = limits;
  }

  /** Takes a place for a call; false (counted) when the bridge already holds its most calls. */
  enter(): boolean {
    if (this.calls >= this.limits.maxCalls) {
      this.onRefused?.('calls');
      return false;
    }
    this.calls++;
    return true;
  }

  leave(): void {
    this.calls--;
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
    super(why === 'calls' ? 'too many calls in flight' : 'in-flight request bytes over budget');
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
  const setting = why === 'calls' ? 'BRIDGE_MAX_CALLS_IN_FLIGHT' : 'BRIDGE_MAX_INFLIGHT_BYTES';
  return serviceUnavailable(
    `odoo-rpc-bridge is holding as many calls as it may (${setting}); retry in ${RETRY_AFTER_SECONDS} s`,
  );
}
