#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=131072 node --max-semi-space-size=8 --heap-growing-percent=100
/**
 * Entry point: `ODOO_URL=http://odoo:8069 npm start`. Reads the settings (a bad one stops
 * start-up with one line naming it), serves, reloads the credential map on SIGHUP, and shuts
 * down cleanly on SIGTERM/SIGINT. Subcommands: `hash` (a password hash for the credential map)
 * and `check-config [file]`.
 */
import { startBridge } from './bridge.ts';
import { runCheckConfig } from './cli/check-config.ts';
import { runHash } from './cli/hash.ts';
import { ConfigError, helpText, loadConfig } from './config.ts';
import { createLogger } from './log.ts';

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'hash') {
    process.exitCode = await runHash(argv.slice(1), process);
    return;
  }
  if (argv[0] === 'check-config') {
    process.exitCode = runCheckConfig(argv.slice(1), process.env, process.stdout, process.stderr);
    return;
  }
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(helpText());
    return;
  }
  let config;
  try {
    config = loadConfig(process.env, argv);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`odoo-rpc-bridge: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const log = createLogger(config.logLevel);
  let bridge;
  try {
    bridge = await startBridge(config, log);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`odoo-rpc-bridge: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const { mode, size } = bridge.parts.credentials.current;
  log.info(
    {
      url: bridge.url,
      ...(bridge.adminUrl ? { adminUrl: bridge.adminUrl } : {}),
      odoo: config.odooUrl,
      dbHeader: config.dbHeader,
      auth: mode,
      credentials: size,
      ...(config.trustedProxies ? { trustedProxies: config.trustedProxies.ranges.join(',') } : {}),
    },
    'odoo-rpc-bridge listening',
  );
  if (mode === 'passthrough' && config.file.auth.credentials.length > 0)
    log.warn(
      { credentials: config.file.auth.credentials.length },
      'auth.mode is passthrough: the credentials listed are not used',
    );

  const stop = (signal: string): void => {
    log.info({ signal, graceMs: config.shutdownGraceMs }, 'shutting down');
    bridge.close().then(
      (clean) => {
        log.info({ clean }, 'stopped');
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  // Key rotation: re-read BRIDGE_CONFIG and the API key files (calls in flight are not affected).
  const credentials = bridge.parts.credentials;
  process.on('SIGHUP', () => void credentials.reload('SIGHUP'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`odoo-rpc-bridge: ${(e as Error).message}\n`);
  process.exit(1);
});
