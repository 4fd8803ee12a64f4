import type { SMTPServer } from 'smtp-server';
import type { Config } from './config/index.js';
import { openDatabase, type PrismaClient } from './db/client.js';
import { startImap, type ImapDeps, type ImapService } from './imap/index.js';
import { Journal } from './inbound/journal/journal.js';
import { InboundProcessor } from './inbound/processor.js';
import type { Logger } from './logger.js';
import { createOutboxSink } from './outbound/outbox-sink.js';
import { seedDefaultRules } from './outbound/rules/defaults.js';
import { checkRedis, createNotificationQueue, enqueueOutbound, startNotificationWorker, type NotificationQueue, type NotificationWorker } from './queue/index.js';
import { closeSmtp, createSmtpIntake, listenSmtp } from './smtp/smtp-intake.js';
import { ChangeRunner } from './tasks/change.js';

/** The parts of Postdesk one process can run. `npm start` runs them all. */
export type AppRole = 'smtp' | 'imap' | 'inbound' | 'worker';

export const ALL_ROLES: readonly AppRole[] = ['smtp', 'imap', 'inbound', 'worker'];

/** A running Postdesk process. */
export interface App {
  config: Config;
  logger: Logger;
  prisma: PrismaClient;
  journal: Journal;
  runner: ChangeRunner;
  queue: NotificationQueue;
  processor: InboundProcessor | null;
  smtp: { server: SMTPServer; port: number } | null;
  imap: ImapService | null;
  worker: NotificationWorker | null;
  /** Resolves when every accepted message is registered and processed. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/** Options for tests and benchmarks. */
export interface AppOptions {
  imap?: Pick<ImapDeps, 'ca' | 'timing' | 'batchSize'>;
}

/**
 * Build and start the roles asked for against an already migrated database. Every
 * role writes outbox rows for the changes it makes, so every role needs Redis to
 * queue them; start-up fails with RedisUnavailableError when it does not answer.
 * Shutdown stops intake first, then processing and delivery, then the connections.
 */
export async function startApp(config: Config, logger: Logger, roles: readonly AppRole[] = ALL_ROLES, options: AppOptions = {}): Promise<App> {
  await checkRedis(config.redisUrl);
  const prisma = await openDatabase(config.databaseUrl);
  await seedDefaultRules(prisma);

  const journal = new Journal(prisma, config.dataDir, logger);
  await journal.init();
  const queue = createNotificationQueue(config, { logger });
  const runner = new ChangeRunner(prisma, logger);
  runner.addSink(createOutboxSink({ config, logger, enqueue: (ids) => enqueueOutbound(queue, ids, prisma) }));

  const worker = roles.includes('worker') ? await startNotificationWorker({ prisma, config, logger, runner }) : null;
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

  const imap = roles.includes('imap') ? await startImap({ prisma, config, journal, logger, onJournaled: (journalId) => processor?.enqueue(journalId), ...options.imap }) : null;

  return {
    config,
    logger,
    prisma,
    journal,
    runner,
    queue,
    processor,
    smtp,
    imap,
    worker,
    async idle() {
      while (registrations.size > 0) await Promise.all(registrations);
      await processor?.idle();
    },
    async stop() {
      if (smtp) await closeSmtp(smtp.server);
      if (imap) await imap.stop();
      await Promise.all(registrations);
      if (processor) await processor.stop();
      if (worker) await worker.close();
      await queue.close();
      await prisma.$disconnect();
    },
  };
}
