/**
 * Attack: an unauthenticated JSON-RPC db.restore whose first string never closes, sent a byte at a
 * time after its first 64 KiB: each byte joined and rescanned the whole start (12 s of CPU for
 * one request under 128 KiB). Now the start is scanned again only after 16 KiB more: linear.
 */
import { describe, expect, it } from 'vitest';
import { restoreLimits, splitJsonRpcRestore, splitXmlRpcRestore } from '../../src/server/db-streams.ts';
import { loadConfig } from '../../src/config.ts';
import type { BridgeParts } from '../../src/server/parts.ts';

const limits = restoreLimits({ config: loadConfig({ ODOO_URL: 'http://odoo:8069' }, []) } as BridgeParts);

async function* dripping(head: string, bytes: number): AsyncGenerator<Buffer> {
  yield Buffer.from(head + 'A'.repeat(64 * 1024 + 1 - head.length));
  for (let i = 0; i < bytes; i++) yield Buffer.from('A');
}

/** Milliseconds to refuse it (the complexity guard: a quadratic scan took 12,000). */
async function timeToRefuse(split: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await expect(split()).rejects.toThrow(/Request Entity Too Large/);
  return performance.now() - t;
}

describe('a db.restore whose start trickles in a byte at a time', () => {
  it('JSON-RPC: refused past its start, in linear time', async () => {
    const head = '{"jsonrpc":"2.0","method":"call","params":{"service":"db","method":"restore","args":["';
    const ms = await timeToRefuse(() =>
      splitJsonRpcRestore(dripping(head, 70_000), limits, 'application/json', () => undefined),
    );
    expect(ms).toBeLessThan(3000);
  });

  it('XML-RPC: refused past its start, in linear time', async () => {
    const head =
      "<?xml version='1.0'?><methodCall><methodName>restore</methodName><params><param><value><string>";
    const ms = await timeToRefuse(() => splitXmlRpcRestore(dripping(head, 70_000), limits));
    expect(ms).toBeLessThan(3000);
  });
});
