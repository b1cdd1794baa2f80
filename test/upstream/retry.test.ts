/** The retry rules of src/upstream/retry.ts: what may be sent again, the backoff, the budget. */
import { describe, expect, it } from 'vitest';
import {
  backoffMs,
  isReadOnly,
  RetryBudget,
  retryReason,
  type AttemptFailure,
} from '../../src/upstream/retry.ts';

describe('retryReason', () => {
  const preSend: AttemptFailure = { kind: 'refused', preSend: true };
  const connectTimeout: AttemptFailure = { kind: 'timeout', preSend: true };
  const reset: AttemptFailure = { kind: 'reset', preSend: false };
  const timeout: AttemptFailure = { kind: 'timeout', preSend: false };

  it('retries any method when the request never left the bridge', () => {
    expect(retryReason(preSend, false)).toBe('connect');
    expect(retryReason(preSend, true)).toBe('connect');
    expect(retryReason(connectTimeout, false)).toBe('connect');
  });

  it('retries a cut-off read, never a cut-off write', () => {
    expect(retryReason(reset, true)).toBe('reset');
    expect(retryReason(reset, false)).toBeUndefined();
  });

  it('never retries timeouts, garbage, oversized or other failures after sending', () => {
    for (const kind of ['timeout', 'garbage', 'too_large', 'other', 'status', 'refused'] as const) {
      expect(retryReason({ kind, preSend: false }, true)).toBeUndefined();
    }
    expect(retryReason(timeout, true)).toBeUndefined();
  });

  it("retries a read a proxy answered 502/503/504 with a page, not Odoo's own JSON errors", () => {
    for (const status of [502, 503, 504]) {
      expect(retryReason({ status, contentType: 'text/html; charset=utf-8' }, true)).toBe('status');
      expect(retryReason({ status, contentType: 'text/html' }, false)).toBeUndefined();
      expect(retryReason({ status, contentType: 'application/json' }, true)).toBeUndefined();
    }
    expect(retryReason({ status: 500, contentType: 'text/html' }, true)).toBeUndefined();
  });
});

describe('isReadOnly', () => {
  it('knows the read methods and the GET endpoints; everything else is a write', () => {
    for (const m of ['read', 'search_read', 'search_count', 'fields_get', 'web_search_read', 'has_access'])
      expect(isReadOnly('json2', m)).toBe(true);
    for (const m of ['create', 'write', 'unlink', 'action_confirm', 'button_validate', 'my_custom', 'copy'])
      expect(isReadOnly('json2', m)).toBe(false);
    expect(isReadOnly('json2', undefined)).toBe(false);
    expect(isReadOnly('version', undefined)).toBe(true);
    expect(isReadOnly('doc', undefined)).toBe(true);
  });
});

describe('backoffMs', () => {
  it('jitters ±50 % and doubles per retry', () => {
    expect(backoffMs(1, 100, () => 0)).toBe(50);
    expect(backoffMs(1, 100, () => 0.999999)).toBe(150);
    expect(backoffMs(2, 100, () => 0.5)).toBe(200);
    expect(backoffMs(3, 100, () => 0.5)).toBe(400);
  });
});

describe('RetryBudget', () => {
  it('allows ratio × recent requests plus the floor, then refuses', () => {
    let now = 0;
    const b = new RetryBudget({ ratio: 0.1, perSecond: 0, now: () => now });
    expect(b.tryRetry()).toBe(false);
    for (let i = 0; i < 25; i++) b.request();
    expect(b.tryRetry()).toBe(true);
    expect(b.tryRetry()).toBe(true);
    expect(b.tryRetry()).toBe(false); // 25 × 0.1 = 2.5 retries
    now += 5_000;
    for (let i = 0; i < 10; i++) b.request();
    expect(b.tryRetry()).toBe(true); // 35 × 0.1 = 3.5
    expect(b.tryRetry()).toBe(false);
  });

  it('forgets requests and retries older than the 10 s window', () => {
    let now = 0;
    const b = new RetryBudget({ ratio: 1, perSecond: 0, now: () => now });
    b.request();
    expect(b.tryRetry()).toBe(true);
    expect(b.tryRetry()).toBe(false);
    now += 11_000;
    expect(b.tryRetry()).toBe(false); // the request aged out too
    b.request();
    expect(b.tryRetry()).toBe(true);
  });

  it('gives a quiet bridge the per-second floor', () => {
    let now = 0;
    const b = new RetryBudget({ ratio: 0, perSecond: 0.2, now: () => now });
    expect(b.tryRetry()).toBe(true);
    expect(b.tryRetry()).toBe(true);
    expect(b.tryRetry()).toBe(false); // 0.2 × 10 s = 2
    now += 10_500;
    expect(b.tryRetry()).toBe(true);
  });

  it('bounds retries during an outage to a tenth of the load plus the floor', () => {
    let now = 0;
    const b = new RetryBudget({ ratio: 0.1, perSecond: 1, now: () => now });
    let retries = 0;
    for (let i = 0; i < 10_000; i++) {
      now += 6; // ~167 requests/s for 60 s, all failing
      b.request();
      if (b.tryRetry()) retries++;
    }
    const expected = 10_000 * 0.1 + 60 * 1;
    expect(retries).toBeLessThanOrEqual(expected * 1.15);
    expect(retries).toBeGreaterThan(expected * 0.8);
  });
});
