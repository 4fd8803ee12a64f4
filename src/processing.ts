import type { Config } from './config/index.js';
import { openDatabase, type PrismaClient } from './db/client.js';
import { startImap, type ImapDeps, type ImapService } from './imap/index.js';
import { Journal, type SpoolEntry } from './inbound/journal/journal.js';
import { InboundProcessor } from './inbound/processor.js';
import type { Logger } from './logger.js';
import { createOutboxSink } from './outbound/outbox-sink.js';
import { seedDefaultRules } from './outbound/rules/defaults.js';
import { createNotificationQueue, enqueueOutbound, startNotificationWorker, type NotificationQueue, type NotificationWorker } from './queue/index.js';
import { ChangeRunner } from './tasks/change.js';

/** The roles that work on the database: everything but the SMTP server. */
export type ProcessingRole = 'imap' | 'inbound' | 'worker';

/** The database side of a Postdesk process: processing, IMAP and notifications. */
export interface Processing {
  prisma: PrismaClient;
  journal: Journal;
  runner: ChangeRunner;
  queue: NotificationQueue;
  processor: InboundProcessor | null;
  imap: ImapService | null;
  worker: NotificationWorker | null;
  /** Register an entry the SMTP server journaled, and queue it for processing. */
  register(entry: SpoolEntry): void;
  /** Resolves when every registration and the processing queue are done. */
  idle(): Promise<void>;
  /** Stop IMAP first, then processing and delivery, then the connections. */
  stop(): Promise<void>;
}

/**
 * Start the roles that work on the database. Every change writes outbox rows through
 * the runner's sink, whatever the role, so the notification queue always exists.
 */
export async function startProcessing(config: Config, logger: Logger, roles: readonly ProcessingRole[], imapOptions: Pick<ImapDeps, 'ca' | 'timing' | 'batchSize'> = {}): Promise<Processing> {
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
  const imap = roles.includes('imap') ? await startImap({ prisma, config, journal, logger, onJournaled: (journalId) => processor?.enqueue(journalId), ...imapOptions }) : null;

  // Registrations run one after another: the database takes one writer at a time
  // anyway, and a burst of thousands at once held all their queries in memory.
  const registrations = new Set<Promise<void>>();
  let lastRegistration: Promise<void> = Promise.resolve();
  return {
    prisma,
    journal,
    runner,
    queue,
    processor,
    imap,
    worker,
    register(entry) {
      const registration = lastRegistration.then(() => journal.register(entry)).then(
        () => processor?.enqueue(entry.id),
        (error: unknown) => logger.error({ err: error, journalId: entry.id }, 'journal registration failed; the spool keeps the message for the next start'),
      );
      lastRegistration = registration;
      registrations.add(registration);
      void registration.finally(() => registrations.delete(registration));
    },
    async idle() {
      while (registrations.size > 0) await Promise.all(registrations);
      await processor?.idle();
    },
    async stop() {
      if (imap) await imap.stop();
      await Promise.all(registrations);
      if (processor) await processor.stop();
      if (worker) await worker.close();
      await queue.close();
      await prisma.$disconnect();
    },
  };
}
