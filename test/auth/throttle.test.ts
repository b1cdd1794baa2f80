/**
 * Throttling of failed verifications: per account and per client, over a sliding window.
 */
import { describe, expect, it } from 'vitest';
import { Throttle } from '../../src/auth/throttle.ts';

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('Throttle', () => {
  it('refuses an account after its limit, says when to retry, and lets it in after the window', () => {
    const c = clock();
    const th = new Throttle({ maxPerAccount: 3, maxPerClient: 100, windowMs: 60_000, now: c.now });
    for (let i = 1; i <= 3; i++) {
      expect(th.blocked('A', '10.0.0.1')).toBeUndefined();
      expect(th.failed('A', '10.0.0.1').account).toBe(i);
      c.advance(1000);
    }
    // The first failure was 3 s ago: 57 s to go.
    expect(th.blocked('A', '10.0.0.1')).toEqual({ by: 'account', retryInSeconds: 57 });
    expect(th.blocked('A', '10.0.0.2')).toEqual({ by: 'account', retryInSeconds: 57 });
    expect(th.blocked('B', '10.0.0.1')).toBeUndefined();
    c.advance(56_500);
    expect(th.blocked('A', undefined)?.retryInSeconds).toBe(1);
    c.advance(500);
    expect(th.blocked('A', undefined)).toBeUndefined();
  });

  it('refuses a client that spreads its failures over many accounts', () => {
    const c = clock();
    const th = new Throttle({ maxPerAccount: 3, maxPerClient: 5, windowMs: 10_000, now: c.now });
    for (let i = 0; i < 5; i++) th.failed(`acct${i}`, '10.0.0.9');
    expect(th.blocked('fresh', '10.0.0.9')).toEqual({ by: 'client', retryInSeconds: 10 });
    expect(th.blocked('fresh', '10.0.0.8')).toBeUndefined();
  });

  it('clears the account on success, not the client', () => {
    const c = clock();
    const th = new Throttle({ maxPerAccount: 2, maxPerClient: 3, windowMs: 10_000, now: c.now });
    th.failed('A', 'x');
    th.failed('A', 'x');
    th.succeeded('A');
    expect(th.counts('A', 'x')).toEqual({ account: 0, client: 2 });
    th.failed('B', 'x');
    expect(th.blocked('A', 'x')?.by).toBe('client');
  });

  it('forgets failures older than the window (sliding)', () => {
    const c = clock();
    const th = new Throttle({ maxPerAccount: 2, maxPerClient: 100, windowMs: 10_000, now: c.now });
    th.failed('A', undefined);
    c.advance(9_000);
    th.failed('A', undefined);
    expect(th.blocked('A', undefined)?.retryInSeconds).toBe(1);
    c.advance(1_000);
    expect(th.blocked('A', undefined)).toBeUndefined();
    expect(th.counts('A', undefined).account).toBe(1);
  });

  /*
   * Attack: 40 parallel guesses from one address, each for another login, all admitted before the
   * first one failed (the limit counted finished failures only).
   * Now: verifications in flight count against both limits; the rest wait, then are refused.
   */
  it('counts verifications in flight against both limits: the rest wait, then are refused or admitted', async () => {
    const c = clock();
    const th = new Throttle({ maxPerAccount: 5, maxPerClient: 3, windowMs: 10_000, now: c.now });
    const admitted: number[] = [];
    const outcomes = Array.from({ length: 8 }, (_, i) =>
      th.acquire(`acct${i}`, 'x').then((b) => {
        if (b === undefined) admitted.push(i);
        return b;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(admitted).toEqual([0, 1, 2]);
    // The other five wait for those three to be decided.
    expect(th.waitingCount).toBe(5);
    // The three admitted fail: the waiting ones are refused on those failures.
    for (const i of [0, 1, 2]) {
      th.failed(`acct${i}`, 'x');
      th.release(`acct${i}`, 'x');
    }
    for (const i of [3, 4, 5, 6, 7]) expect(await outcomes[i]).toEqual({ by: 'client', retryInSeconds: 10 });
    expect(admitted).toEqual([0, 1, 2]);
  });

  it('admits the waiting attempts of a burst of good logins once the first succeed', async () => {
    const th = new Throttle({ maxPerAccount: 5, maxPerClient: 2, windowMs: 10_000 });
    const admitted: number[] = [];
    const all = Array.from({ length: 6 }, (_, i) =>
      th.acquire(`user${i}`, 'integration').then((b) => {
        if (b === undefined) admitted.push(i);
        return b;
      }),
    );
    for (let round = 0; admitted.length < 6 && round < 10; round++) {
      await new Promise((r) => setImmediate(r));
      // Whoever was admitted logs in fine and is done.
      for (const i of admitted.splice(0)) {
        th.succeeded(`user${i}`);
        th.release(`user${i}`, 'integration');
        admitted.push(-1);
      }
    }
    for (const p of all) expect(await p).toBeUndefined();
  });

  it('remembers a bounded number of accounts', () => {
    const th = new Throttle({ maxPerAccount: 1, maxPerClient: 1_000_000, windowMs: 60_000, maxTracked: 100 });
    for (let i = 0; i < 1000; i++) th.failed(`a${i}`, undefined);
    expect(th.blocked('a999', undefined)).toBeDefined();
    expect(th.blocked('a0', undefined)).toBeUndefined();
  });

  it('forgets the account that failed least recently first', () => {
    let now = 1_000_000;
    const th = new Throttle({
      maxPerAccount: 2,
      maxPerClient: 1_000_000,
      windowMs: 60_000,
      maxTracked: 3,
      now: () => now,
    });
    for (const a of ['a', 'b', 'c']) th.failed(a, undefined);
    now += 1;
    th.failed('a', undefined); // a is now the most recent, b the least
    th.failed('d', undefined); // one too many: b goes
    expect(th.counts('a', undefined).account).toBe(2);
    expect(th.counts('b', undefined).account).toBe(0);
    expect(th.counts('c', undefined).account).toBe(1);
    expect(th.counts('d', undefined).account).toBe(1);
    expect(th.blocked('a', undefined)?.by).toBe('account');
  });
});
