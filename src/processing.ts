import type { Config } from './config/index.js';
import { openDatabase, type PrismaClient } from './db/client.js';
import { startImap, type ImapDeps, type ImapService } from './imap/index.js';
import { Journal, REGISTRATION_BATCH_SIZE, type SpoolEntry } from './inbound/journal/journal.js';
import { IntakePressure } from './inbound/intake-pressure.js';
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
  const pressure = new IntakePressure();
  const processor = roles.includes('inbound') ? new InboundProcessor({ prisma, journal, runner, config, logger, pressure }) : null;
  if (processor) await processor.start();
  else await journal.recover();
  const imap = roles.includes('imap') ? await startImap({ prisma, config, journal, logger, onJournaled: (journalId) => processor?.enqueue(journalId), ...imapOptions }) : null;

  // Registrations run one batch after another: the database takes one writer at a
  // time anyway, and entries that arrive during one batch's commit share the next.
  const waiting: SpoolEntry[] = [];
  let registering: Promise<void> | null = null;
  let stopping = false;
  const registerWaiting = async () => {
    while (waiting.length > 0) {
      // During a burst registration waits, like processing, until the intake is quiet
      // or a full batch has gathered: fewer transactions and syncs compete with it.
      await pressure.waitUntilQuiet(() => stopping || waiting.length >= REGISTRATION_BATCH_SIZE);
      const batch = waiting.splice(0, REGISTRATION_BATCH_SIZE);
      try {
        await journal.registerAll(batch);
        for (const entry of batch) processor?.enqueue(entry.id);
      } catch (error) {
        logger.error({ err: error, journalIds: batch.map((entry) => entry.id) }, 'journal registration failed; the spool keeps the messages for the next start');
      }
    }
    registering = null;
  };
  return {
    prisma,
    journal,
    runner,
    queue,
    processor,
    imap,
    worker,
    register(entry) {
      pressure.noteArrival();
      waiting.push(entry);
      registering ??= registerWaiting();
    },
    async idle() {
      while (registering) await registering;
      await processor?.idle();
    },
    async stop() {
      stopping = true;
      if (imap) await imap.stop();
      while (registering) await registering;
      if (processor) await processor.stop();
      if (worker) await worker.close();
      await queue.close();
      await prisma.$disconnect();
    },
  };
}
