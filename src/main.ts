import { ALL_ROLES, type AppRole } from './app.js';
import { ConfigError, loadConfig, readProcessEnvironment } from './config/index.js';
import { migrateIfNeeded } from './db/migrate.js';
import { createLogger } from './logger.js';
import { startThreadedApp } from './threaded-app.js';

// Entry point of `npm start`: read the configuration, bring the database schema up
// to date, start every role (or those named as arguments), stop cleanly on a signal.

/** Start-up errors that name a setting or a service to fix, printed as one line. */
const OPERATOR_ERRORS: Record<string, number> = { RedisUnavailableError: 69, RelayUrlError: 78, MailboxSettingsError: 78 };

const env = readProcessEnvironment();
let config;
try {
  config = loadConfig(env);
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
  app = await startThreadedApp(config, env, logger, roles);
} catch (error) {
  const exitCode = OPERATOR_ERRORS[(error as Error).name];
  if (exitCode === undefined) throw error;
  process.stderr.write(`postdesk: ${(error as Error).message}\n`);
  process.exit(exitCode);
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
