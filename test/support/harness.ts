/**
 * Starts the real bridge on a random port in front of the fake Odoo, with its log lines kept in
 * memory so tests can read (and grep) them.
 */
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { startBridge, type RunningBridge } from '../../src/bridge.ts';
import { loadConfig, parseConfigFile, type BridgeConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { CAPTURES_DIR } from './captures.ts';
import { CAPTURED_KEYS, startFakeOdoo, type FakeOdoo, type FakeOdooOptions } from './fake-odoo.ts';

export interface Stack {
  bridge: RunningBridge;
  odoo: FakeOdoo;
  /** Every log line the bridge wrote, as text. */
  logs: string[];
  close(): Promise<void>;
}

export const KEYS = {
  labAdmin: CAPTURED_KEYS[0]?.key ?? '',
  labDemo: CAPTURED_KEYS[1]?.key ?? '',
  lab2Admin: CAPTURED_KEYS[2]?.key ?? '',
};

/** Keys by "<db>/<login>" and "<db>/<uid>", for clients replaying the captures. */
export const KEY_MAP: Record<string, string> = Object.fromEntries(
  CAPTURED_KEYS.flatMap((k) => [
    [`${k.db}/${k.login}`, k.key],
    [`${k.db}/${k.uid}`, k.key],
  ]),
);

export { CAPTURES_DIR };

/** Every log line written anywhere in the test process, for the "no secret in logs" check. */
export const ALL_LOGS: string[] = [];

/**
 * The bridge's own defaults (loadConfig, so that every setting is there and none is repeated
 * here), with what a test run needs instead: a free port on loopback, short timeouts, no polling.
 */
export function testConfig(odooUrl: string, over: Partial<BridgeConfig> = {}): BridgeConfig {
  return {
    ...loadConfig({ ODOO_URL: odooUrl }, []),
    odooUrl,
    listen: { host: '127.0.0.1', port: 0 },
    connectTimeoutMs: 2000,
    upstreamTimeoutMs: 5000,
    dbTimeoutMs: 20_000,
    signatureCacheSize: 100,
    signatureCacheTtlMs: 60_000,
    credentialsPollMs: 0,
    shutdownGraceMs: 5000,
    file: parseConfigFile({}, 'test'),
    ...over,
  };
}

export async function startStack(
  opts: {
    config?: Partial<BridgeConfig>;
    fake?: FakeOdooOptions;
    odooUrl?: string;
    env?: NodeJS.ProcessEnv;
  } = {},
): Promise<Stack> {
  const odoo = await startFakeOdoo(opts.fake);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      const line = chunk.toString();
      logs.push(line);
      ALL_LOGS.push(line);
      done();
    },
  });
  const config = testConfig(opts.odooUrl ?? odoo.url, opts.config);
  const bridge = await startBridge(config, createLogger(config.logLevel, sink), opts.env ?? {});
  return {
    bridge,
    odoo,
    logs,
    async close() {
      await bridge.close();
      await odoo.close();
    },
  };
}

/** `http://127.0.0.1:<port>` where nothing listens (an upstream that is down). */
export async function closedPortUrl(): Promise<string> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return `http://127.0.0.1:${port}`;
}
