import { ConfigError, loadProcessConfig } from '../config/index.js';
import { migrateIfNeeded } from '../db/migrate.js';
import { createLogger } from '../logger.js';
import { runCli } from './run-cli.js';

// Entry point of the `postdesk` administration command.

// Output piped into `head` closes early; that ends the command, it is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});

try {
  const config = loadProcessConfig();
  // Log lines go to stderr at warn and above, so that command output stays clean.
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, process.stderr);
  await migrateIfNeeded(config.databaseUrl);
  process.exitCode = await runCli(process.argv.slice(2), config, logger, (line) => process.stdout.write(`${line}\n`), (line) => process.stderr.write(`${line}\n`));
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`postdesk: ${error.message}\n`);
  process.exitCode = 78;
}
