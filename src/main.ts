/**
 * Entry point: `ODOO_URL=http://odoo:8069 npm start`. Reads the settings (a bad one stops
 * start-up with one line naming it), serves, and shuts down cleanly on SIGTERM/SIGINT.
 */
import { startBridge } from './bridge.ts';
import { ConfigError, helpText, loadConfig } from './config.ts';
import { createLogger } from './log.ts';

async function main(argv: string[]): Promise<void> {
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
  const bridge = await startBridge(config, log);
  log.info({ url: bridge.url, odoo: config.odooUrl, dbHeader: config.dbHeader }, 'odoo-rpc-bridge listening');

  const stop = (signal: string): void => {
    log.info({ signal }, 'shutting down');
    bridge.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`odoo-rpc-bridge: ${(e as Error).message}\n`);
  process.exit(1);
});
