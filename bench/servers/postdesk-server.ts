import { mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { ALL_ROLES, startApp, type AppRole } from '../../src/app.js';
import { openDatabase, type PrismaClient } from '../../src/db/client.js';
import { Journal } from '../../src/inbound/journal/journal.js';
import { createLogger } from '../../src/logger.js';
import { closeSmtp, createSmtpIntake, listenSmtp } from '../../src/smtp/smtp-intake.js';
import { startThreadedApp } from '../../src/threaded-app.js';
import { createTestConfig, deleteRedisKeys } from '../../test/helpers/app.js';
import { runServerChild, StepTimings, type BenchServer } from '../lib/server-child.js';
import type { ProcessingCounts } from '../lib/server-protocol.js';

// Postdesk under the SMTP intake bench. It runs on a fresh data folder with a
// migrated SQLite database and the real journal (fsync on every commit), with a
// queue prefix of its own in the local Redis. createTestConfig makes both and
// cleans them up.
// Arguments: the mode, and the log level (default info; pino writes to stdout,
// which the bench sends to a file). The mode is `all` (every role, as `npm start`
// runs them, with the database work in a second thread), a comma-separated list of
// startApp roles run in one thread, or `intake-only`. That
// last one is Postdesk's SMTP intake and spool write with nothing after the 250
// (no database row, no processing), which shows what the journal's fsyncs cost.

const mode = process.argv[2] ?? 'all';
const logLevel = process.argv[3] ?? 'info';
// The folder that receives the data folder at the end; without it the data folder is removed.
const trashDir = process.argv[4];
const LARGE_MESSAGE_BYTES = 1_000_000;
const timings = new StepTimings();

await runServerChild(async () => {
  const test = await createTestConfig({ LOG_LEVEL: logLevel });
  const { config, env } = test;
  const cleanup = () => retire(test);
  const logger = createLogger(config.logLevel);
  if (mode === 'intake-only') return startIntakeOnly();
  return mode === 'all' ? startThreaded() : startPostdesk();

  async function startThreaded(): Promise<BenchServer> {
    const app = await startThreadedApp(config, env, logger, ALL_ROLES);
    // A connection of its own for counting; the processing thread has another.
    const prisma = await openDatabase(config.databaseUrl);
    return {
      port: app.smtp!.port,
      countProcessing: () => countProcessing(prisma),
      async stop() {
        await app.stop();
        await prisma.$disconnect();
        await cleanup();
      },
    };
  }

  async function startIntakeOnly(): Promise<BenchServer> {
    const prisma = await openDatabase(config.databaseUrl);
    const journal = new Journal(prisma, config.dataDir, logger);
    await journal.init();
    timeSpoolWrites(journal);
    const server = createSmtpIntake({ config, spool: journal.spool, logger, onJournaled: () => undefined });
    const port = await listenSmtp(server, '127.0.0.1', 0);
    return {
      port,
      async stop() {
        await closeSmtp(server);
        await prisma.$disconnect();
        await cleanup();
      },
    };
  }

  async function startPostdesk(): Promise<BenchServer> {
    const roles = mode.split(',') as AppRole[];
    const app = await startApp(config, logger, roles);
    if (!app.smtp) throw new Error(`mode ${mode} has no smtp role; the bench sends mail over SMTP`);

    // Time the steps of the accept path and of processing by wrapping the instance
    // methods. This works because the SMTP intake and the processor look the
    // methods up on every call.
    timeSpoolWrites(app.journal);
    app.journal.registerAll = timings.wrap('journal registration batch (after 250)', app.journal.registerAll.bind(app.journal));
    if (app.processor) app.processor.processEntry = timings.wrap('process entry', app.processor.processEntry.bind(app.processor));

    return {
      port: app.smtp.port,
      countProcessing: () => countProcessing(app.prisma),
      async stop() {
        await app.stop();
        await cleanup();
      },
    };
  }
}, timings);

/** Delete the server's queue keys and move its data folder to the trash folder (or remove it). */
async function retire(test: Awaited<ReturnType<typeof createTestConfig>>): Promise<void> {
  if (!trashDir) return test.cleanup();
  await deleteRedisKeys(test.config.redisUrl, `${test.config.queuePrefix}:*`);
  await mkdir(trashDir, { recursive: true });
  await rename(test.dataDir, path.join(trashDir, path.basename(test.dataDir)));
}

function timeSpoolWrites(journal: Journal): void {
  const spool = journal.spool;
  spool.writeStream = timings.wrap('spool write (accept path)', spool.writeStream.bind(spool));
}

async function countProcessing(prisma: PrismaClient): Promise<ProcessingCounts> {
  const groups = await prisma.inboundMessage.groupBy({ by: ['status'], _count: { _all: true } });
  const byStatus: Record<string, number> = {};
  for (const group of groups) byStatus[group.status] = group._count._all;
  const large = await prisma.inboundMessage.count({ where: { size: { gt: LARGE_MESSAGE_BYTES } } });
  const pendingLarge = await prisma.inboundMessage.count({ where: { status: 'pending', size: { gt: LARGE_MESSAGE_BYTES } } });
  const total = Object.values(byStatus).reduce((sum, count) => sum + count, 0);
  return { total, pending: byStatus.pending ?? 0, byStatus, large, pendingLarge };
}
