import type { SMTPServer } from 'smtp-server';
import type { Config } from './config/index.js';
import type { ImapDeps } from './imap/index.js';
import type { Spool, SpoolEntry } from './inbound/journal/spool.js';
import type { Logger } from './logger.js';
import { startProcessing, type Processing, type ProcessingRole } from './processing.js';
import { checkRedis } from './queue/index.js';
import { closeSmtp, createSmtpIntake, listenSmtp } from './smtp/smtp-intake.js';

/** The parts of Postdesk one process can run. `npm start` runs them all. */
export type AppRole = 'smtp' | ProcessingRole;

export const ALL_ROLES: readonly AppRole[] = ['smtp', 'imap', 'inbound', 'worker'];

/** A Postdesk process with every part in one thread, as tests use it. */
export interface App extends Processing {
  config: Config;
  logger: Logger;
  smtp: { server: SMTPServer; port: number } | null;
}

/** Options for tests and benchmarks. */
export interface AppOptions {
  imap?: Pick<ImapDeps, 'ca' | 'timing' | 'batchSize'>;
}

/**
 * Start the roles asked for in this thread, against an already migrated database.
 * Start-up fails with RedisUnavailableError when Redis does not reply, because every
 * role queues notifications. `npm start` uses startThreadedApp instead, which keeps
 * the database work off the SMTP server's event loop.
 */
export async function startApp(config: Config, logger: Logger, roles: readonly AppRole[] = ALL_ROLES, options: AppOptions = {}): Promise<App> {
  await checkRedis(config.redisUrl);
  const processing = await startProcessing(config, logger, processingRoles(roles), options.imap);
  const smtp = roles.includes('smtp') ? await startSmtp(config, logger, processing.journal.spool, (entry) => processing.register(entry)) : null;

  return {
    ...processing,
    config,
    logger,
    smtp,
    async stop() {
      if (smtp) await closeSmtp(smtp.server);
      await processing.stop();
    },
  };
}

/** Select the roles that work on the database. */
export function processingRoles(roles: readonly AppRole[]): ProcessingRole[] {
  return roles.filter((role): role is ProcessingRole => role !== 'smtp');
}

/** Start the SMTP server; `onJournaled` gets each entry after its 250. */
export async function startSmtp(config: Config, logger: Logger, spool: Spool, onJournaled: (entry: SpoolEntry) => void): Promise<{ server: SMTPServer; port: number }> {
  const server = createSmtpIntake({ config, spool, logger, onJournaled });
  const port = await listenSmtp(server, config.smtp.host, config.smtp.port);
  logger.info({ host: config.smtp.host, port, addresses: config.mail.addresses.map((entry) => entry.address) }, 'smtp listening');
  return { server, port };
}
