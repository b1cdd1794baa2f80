/**
 * The short soak (the long one is `npm run soak -- --minutes 10`, same code: bench/soak-driver.ts):
 * 22 s of mixed XML-RPC and JSON-RPC calls with an upstream fault of a rotating kind every
 * 1.8 s. Memory stays flat, connections return to their baseline, no write is sent twice, and
 * every fault a client saw is explained by an injected one.
 */
import { describe, expect, it } from 'vitest';
import { runSoak, SHORT_SOAK, summarize } from '../../bench/soak-driver.ts';

describe('short soak', () => {
  it(
    'survives periodic upstream faults without leaks or unexplained errors',
    { timeout: 120_000 },
    async () => {
      const r = await runSoak(SHORT_SOAK);
      const summary = summarize(r);
      expect(r.problems, summary).toEqual([]);
      expect(r.unexpected, summary).toEqual([]);
      expect(r.duplicateCreates).toBe(0);
      expect(r.ok).toBeGreaterThan(100);
      expect(r.calls - r.ok).toBeGreaterThan(0); // the faults reached the clients
      expect(Object.keys(r.injected)).toHaveLength(10);
      expect(r.retries['connect']).toBeGreaterThan(0); // refused calls were sent again
      expect(r.sockets.bridgeConnectionsEnd).toBe(0);
      expect(r.sockets.end).toBeLessThanOrEqual(r.sockets.baseline + 4);
    },
  );
});
