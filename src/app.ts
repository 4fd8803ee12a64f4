import type { SMTPServer } from 'smtp-server';
import type { Config } from './config/index.js';
import { openDatabase, type PrismaClient } from './db/client.js';
import { Journal } from './inbound/journal/journal.js';
import { InboundProcessor } from './inbound/processor.js';
import type { Logger } from './logger.js';
import { closeSmtp, createSmtpIntake, listenSmtp } from './smtp/smtp-intake.js';
import { ChangeRunner } from './tasks/change.js';

/** The parts of Postdesk one process can run. `npm start` runs them all. */
export type AppRole = 'smtp' | 'inbound';

export const ALL_ROLES: readonly AppRole[] = ['smtp', 'inbound'];

/** A running Postdesk process. */
export interface App {
  config: Config;
  logger: Logger;
  prisma: PrismaClient;
  journal: Journal;
  runner: ChangeRunner;
  processor: InboundProcessor | null;
  smtp: { server: SMTPServer; port: number } | null;
  /** Resolves when every accepted message is registered and processed. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Build and start the roles asked for against an already migrated database. Intake
 * stops first on shutdown, then processing, then the database.
 */
export async function startApp(config: Config, logger: Logger, roles: readonly AppRole[] = ALL_ROLES): Promise<App> {
  const prisma = await openDatabase(config.databaseUrl);
  const journal = new Journal(prisma, config.dataDir, logger);
  await journal.init();
  const runner = new ChangeRunner(prisma, logger);

  const processor = roles.includes('inbound') ? new InboundProcessor({ prisma, journal, runner, config, logger }) : null;
  if (processor) await processor.start();
  else await journal.recover();

  const registrations = new Set<Promise<void>>();
  let smtp: App['smtp'] = null;
  if (roles.includes('smtp')) {
    const server = createSmtpIntake({
      config,
      journal,
      logger,
      onJournaled(entry) {
        const registration = journal.register(entry).then(
          () => processor?.enqueue(entry.id),
          (error: unknown) => logger.error({ err: error, journalId: entry.id }, 'journal registration failed; the spool keeps the message for the next start'),
        );
        registrations.add(registration);
        void registration.finally(() => registrations.delete(registration));
      },
    });
    const port = await listenSmtp(server, config.smtp.host, config.smtp.port);
    smtp = { server, port };
    logger.info({ host: config.smtp.host, port, addresses: config.mail.addresses.map((entry) => entry.address) }, 'smtp listening');
  }

  return {
    config,
    logger,
    prisma,
    journal,
    runner,
    processor,
    smtp,
    async idle() {
      while (registrations.size > 0) await Promise.all(registrations);
      await processor?.idle();
    },
    async stop() {
      if (smtp) await closeSmtp(smtp.server);
      await Promise.all(registrations);
      if (processor) await processor.stop();
      await prisma.$disconnect();
    },
  };
}
