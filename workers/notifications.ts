import { ConfigError, loadProcessConfig } from '../src/config/index.js';
import { openDatabase } from '../src/db/client.js';
import { migrateIfNeeded } from '../src/db/migrate.js';
import { createLogger } from '../src/logger.js';
import { RelayUrlError } from '../src/config/relay-url.js';
import { createOutboxSink } from '../src/outbound/outbox-sink.js';
import { checkRedis, createNotificationQueue, enqueueOutbound, RedisUnavailableError, startNotificationWorker } from '../src/queue/index.js';
import { ChangeRunner } from '../src/tasks/change.js';

// Entry point of `npm run worker`: deliver the notification outbox on its own, next to
// processes that run the other roles against the same database and Redis.

let config;
try {
  config = loadProcessConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`postdesk worker: ${error.message}\n`);
  process.exit(78);
}

const logger = createLogger(config.logLevel);
await exitOnStartError(checkRedis(config.redisUrl));
await migrateIfNeeded(config.databaseUrl);
const prisma = await openDatabase(config.databaseUrl);

// Failures recorded through the runner emit delivery.failed, whose notices the outbox sink writes.
const queue = createNotificationQueue(config, { logger });
const runner = new ChangeRunner(prisma, logger);
runner.addSink(createOutboxSink({ config, logger, enqueue: (ids) => enqueueOutbound(queue, ids, prisma) }));
const worker = await exitOnStartError(startNotificationWorker({ prisma, config, logger, runner }));

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'notification worker stopping');
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}

/** Print the one-line reason and exit for the start-up errors an operator fixes by hand. */
async function exitOnStartError<T>(starting: Promise<T>): Promise<T> {
  try {
    return await starting;
  } catch (error) {
    if (!(error instanceof RedisUnavailableError) && !(error instanceof RelayUrlError)) throw error;
    process.stderr.write(`postdesk worker: ${error.message}\n`);
    process.exit(error instanceof RedisUnavailableError ? 69 : 78);
  }
}

async function stop(): Promise<void> {
  await worker.close();
  await queue.close();
  await prisma.$disconnect();
}
