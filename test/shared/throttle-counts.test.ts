/**
 * The throttle's shared counts (src/shared/throttle-counts.ts) against a real Debian redis-server:
 * two `Throttle`s on one Redis stand for two replicas.
 *
 * Threats: a guesser spreading attempts over replicas (each replica's failures must count on the
 * others, in parallel too); a replica that dies mid-verification (its reservation must not block
 * the account for ever); Redis going away (the throttle must keep deciding, on its own counts);
 * a login or an address readable in Redis (only keyed digests may be there).
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Throttle } from '../../src/auth/throttle.ts';
import { createLogger } from '../../src/log.ts';
import { SharedState } from '../../src/shared/redis.ts';
import { RedisThrottleCounts } from '../../src/shared/throttle-counts.ts';
import { skipWithoutRedis, startRedis, type TestRedis } from '../support/redis-server.ts';

const LIMITS = { maxPerAccount: 3, maxPerClient: 100, windowMs: 60_000 };
let redis: TestRedis;
const opened: SharedState[] = [];
const logs: string[] = [];

function sharedState(prefix: string, secret?: string): SharedState {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const state = new SharedState({ url: redis.url, prefix, secret, log: createLogger('info', sink) });
  opened.push(state);
  return state;
}

async function ready(...states: SharedState[]): Promise<void> {
  for (let i = 0; i < 100 && !states.every((s) => s.ready); i++) await new Promise((r) => setTimeout(r, 20));
  expect(states.every((s) => s.ready)).toBe(true);
}

/** Two replicas' throttles on one Redis (a fresh prefix each test: no state carried over). */
async function replicas(prefix: string, opts: { pendingTtlMs?: number; windowMs?: number } = {}) {
  const states = [sharedState(prefix), sharedState(prefix)];
  await ready(...states);
  const limits = { ...LIMITS, ...(opts.windowMs ? { windowMs: opts.windowMs } : {}) };
  return states.map(
    (s) => new Throttle({ ...limits, shared: new RedisThrottleCounts(s, { ...limits, ...opts }) }),
  ) as [Throttle, Throttle];
}

/** One verification that fails, as the authenticator runs it. */
async function failOnce(t: Throttle, account: string, client: string) {
  const blocked = await t.acquire(account, client);
  if (blocked) return blocked;
  await new Promise((r) => setTimeout(r, 5)); // the verification
  t.release(account, client);
  t.failed(account, client);
  return undefined;
}

describe.skipIf(skipWithoutRedis)('shared throttling counts (real redis-server)', () => {
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const s of opened) await s.close();
    await redis?.close();
  });

  it("one replica's failures block the account on the other", async () => {
    const [a, b] = await replicas('t1:');
    for (let i = 0; i < 3; i++) expect(await failOnce(a, 'acct', '10.0.0.1')).toBeUndefined();
    await new Promise((r) => setTimeout(r, 50)); // the last failure reaches Redis
    const blocked = await b.acquire('acct', '10.0.0.2');
    expect(blocked).toMatchObject({ by: 'account' });
    expect(blocked?.retryInSeconds).toBeGreaterThanOrEqual(59);
    // And the other replica now refuses it without asking Redis (a cached failure's path).
    expect(b.blocked('acct', '10.0.0.3')).toMatchObject({ by: 'account' });
  });

  it('40 parallel attempts over two replicas: exactly the limit verified', async () => {
    const [a, b] = await replicas('t2:');
    const outcomes = await Promise.all(
      Array.from({ length: 40 }, (_, i) => failOnce(i % 2 ? a : b, 'acct', `10.0.1.${i}`)),
    );
    expect(outcomes.filter((o) => o === undefined)).toHaveLength(3);
  });

  it('a success on one replica clears the account on every replica', async () => {
    const [a, b] = await replicas('t3:');
    for (let i = 0; i < 2; i++) await failOnce(a, 'acct', '10.0.2.1');
    b.succeeded('acct');
    await new Promise((r) => setTimeout(r, 50));
    // Two more failures fit again (without the clear, the second would be refused).
    expect(await failOnce(a, 'acct', '10.0.2.1')).toBeUndefined();
    await new Promise((r) => setTimeout(r, 50));
    expect(await failOnce(b, 'acct', '10.0.2.1')).toBeUndefined();
  });

  it("a dead replica's reservations end after their ttl, and the failures after the window", async () => {
    const [a, b] = await replicas('t4:', { pendingTtlMs: 300, windowMs: 600 });
    // Replica a admits three verifications and dies before deciding them.
    for (let i = 0; i < 3; i++) expect(await a.acquire('acct', '10.0.3.1')).toBeUndefined();
    const started = Date.now();
    expect(await b.acquire('acct', '10.0.3.2')).toBeUndefined(); // waited for them to expire
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    b.release('acct', '10.0.3.2');
    // Failures leave the window.
    for (let i = 0; i < 3; i++) await failOnce(b, 'other', '10.0.3.3');
    await new Promise((r) => setTimeout(r, 50));
    expect(await a.acquire('other', '10.0.3.4')).toMatchObject({ by: 'account' });
    await new Promise((r) => setTimeout(r, 650));
    expect(await a.acquire('other', '10.0.3.4')).toBeUndefined();
  });

  it('holds no login or address, only keyed digests', async () => {
    const [a] = await replicas('t5:');
    await failOnce(a, 'lab\u0000someone@example.com', '192.0.2.77');
    await new Promise((r) => setTimeout(r, 50));
    const raw = (await opened[0]?.redis.keys('t5:*')) ?? [];
    expect(raw.length).toBeGreaterThan(0);
    for (const key of raw) {
      expect(key).toMatch(/^t5:throttle:(account|client):[A-Za-z0-9_-]{43}:[fp]$/);
      expect(key).not.toContain('someone');
      expect(key).not.toContain('192.0.2.77');
    }
  });

  it('Redis away: each replica decides on its own counts, counted as a fallback, logged once', async () => {
    const [a] = await replicas('t6:');
    const state = opened[opened.length - 2] as SharedState;
    let fallbacks = 0;
    state.onFallback = () => fallbacks++;
    await redis.kill();
    try {
      for (let i = 0; i < 100 && state.ready; i++) await new Promise((r) => setTimeout(r, 20));
      const outcomes = await Promise.all(Array.from({ length: 6 }, () => failOnce(a, 'acct', '10.0.4.1')));
      expect(outcomes.filter((o) => o === undefined)).toHaveLength(3); // this replica's own limit
      expect(fallbacks).toBeGreaterThan(0);
      expect(logs.join('').split('Redis unreachable').length - 1).toBeLessThanOrEqual(opened.length);
      expect(logs.join('')).not.toContain(redis.url);
    } finally {
      await redis.start();
    }
    await ready(state);
    expect(logs.join('')).toContain('Redis is back');
  });

  it('Redis that hangs (open connection, no answers): taken as away within seconds, no reservation left behind', async () => {
    const [a, b] = await replicas('t7:');
    const state = opened[opened.length - 2] as SharedState;
    redis.pause();
    try {
      // Three correct logins' verifications admitted while Redis hangs: their reservations may
      // reach Redis later; they must not lock the account once it answers again.
      const started = Date.now();
      for (let i = 0; i < 3; i++) {
        expect(await a.acquire('acct', '10.0.5.1')).toBeUndefined();
        a.release('acct', '10.0.5.1');
        a.succeeded('acct');
      }
      for (let i = 0; i < 100 && state.ready; i++) await new Promise((r) => setTimeout(r, 50));
      expect(state.ready).toBe(false);
      expect(Date.now() - started).toBeLessThan(6000);
      // Away: decided at once on this replica's counts, no wait on Redis.
      const t = Date.now();
      expect(await a.acquire('acct', '10.0.5.1')).toBeUndefined();
      a.release('acct', '10.0.5.1');
      expect(Date.now() - t).toBeLessThan(200);
    } finally {
      redis.resume();
    }
    await ready(state);
    await new Promise((r) => setTimeout(r, 300));
    // The other replica admits the account's verifications: nothing orphaned fills its room.
    for (let i = 0; i < 3; i++) {
      expect(await a.acquire('acct', '10.0.5.9')).toBeUndefined(); // flushes the orphans first
      a.release('acct', '10.0.5.9');
    }
    await new Promise((r) => setTimeout(r, 100));
    const t = Date.now();
    for (let i = 0; i < 3; i++) expect(await b.acquire('acct', `10.0.5.${20 + i}`)).toBeUndefined();
    expect(Date.now() - t).toBeLessThan(500);
  }, 30_000);

  it('a replica whose secret differs from the others says so (its counts would be apart)', async () => {
    const a = sharedState('t8:', 'the-first-replicas-secret-123');
    new RedisThrottleCounts(a, LIMITS);
    await ready(a);
    await new Promise((r) => setTimeout(r, 100));
    const before = logs.join('').split('do not share one secret').length;
    const b = sharedState('t8:', 'another-secret-altogether-456');
    new RedisThrottleCounts(b, LIMITS);
    await ready(b);
    await new Promise((r) => setTimeout(r, 100));
    expect(logs.join('').split('do not share one secret').length).toBe(before + 1);
    expect(logs.join('')).not.toContain('another-secret-altogether-456');
  });
});
