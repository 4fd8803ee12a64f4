import { startApp, ALL_ROLES, type AppRole } from './app.js';
import { ConfigError, loadProcessConfig } from './config/index.js';
import { migrateIfNeeded } from './db/migrate.js';
import { createLogger } from './logger.js';
import { RelayUrlError } from './outbound/delivery/relay-options.js';
import { RedisUnavailableError } from './queue/index.js';

// Entry point of `npm start`: read the configuration, bring the database schema up
// to date, start every role (or those named as arguments), stop cleanly on a signal.

let config;
try {
  config = loadProcessConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`postdesk: ${error.message}\n`);
  process.exit(78);
}

const logger = createLogger(config.logLevel);
const roles = parseRoles(process.argv.slice(2));

await migrateIfNeeded(config.databaseUrl);
let app;
try {
  app = await startApp(config, logger, roles);
} catch (error) {
  // Both name the setting or service to fix; anything else is a bug and crashes loudly.
  if (!(error instanceof RedisUnavailableError) && !(error instanceof RelayUrlError)) throw error;
  process.stderr.write(`postdesk: ${error.message}\n`);
  process.exit(error instanceof RedisUnavailableError ? 69 : 78);
}
logger.info({ roles, dataDir: config.dataDir }, 'postdesk started');

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'postdesk stopping');
    app.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}

function parseRoles(args: string[]): AppRole[] {
  if (args.length === 0) return [...ALL_ROLES];
  const unknown = args.filter((arg) => !ALL_ROLES.includes(arg as AppRole));
  if (unknown.length > 0) {
    process.stderr.write(`postdesk: unknown role ${unknown.join(', ')}; roles: ${ALL_ROLES.join(', ')}\n`);
    process.exit(64);
  }
  return args as AppRole[];
}
