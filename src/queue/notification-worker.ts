import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Config } from '../config/index.js';
import type { PrismaClient } from '../db/client.js';
import type { Logger } from '../logger.js';
import { deliverOutbound, type DeliveryDeps } from '../outbound/delivery/deliver.js';
import { createMailTransport } from '../outbound/delivery/transport.js';
import type { MailTransport, RenderOutbound } from '../outbound/delivery/types.js';
import { renderOutbound } from '../outbound/render.js';
import type { ChangeRunner } from '../tasks/change.js';
import { createErrorLog } from './error-log.js';
import { NOTIFICATIONS_QUEUE, type DeliverOutboundJob, type JobName } from './names.js';
import { createNotificationQueue, enqueuePendingOutbound, type NotificationQueue, type NotificationQueueOptions } from './notification-queue.js';
import { bullConnectionOptions, checkRedis } from './redis.js';

/** Dependencies of the notification worker; the optional ones replace defaults in tests. */
export interface NotificationWorkerDeps {
  prisma: PrismaClient;
  config: Config;
  logger: Logger;
  /**
   * The process's change runner, with the outbox sink registered. Permanent failures are
   * then recorded through it and emit `delivery.failed`; without it only the task
   * history records them.
   */
  runner?: ChangeRunner;
  /** Defaults to renderOutbound from src/outbound/render.ts. */
  render?: RenderOutbound;
  /** Defaults to the transport config.outbound names. */
  transport?: MailTransport;
  /**
   * Jobs run in parallel; defaults to 50. Each job spends most of its time waiting for
   * the relay and for its batched database write, so a low value leaves the process
   * idle. It also bounds how far parallel jobs can overshoot a send limit.
   */
  concurrency?: number;
  /** Retry policy for the jobs the start-up sweep adds. */
  queueOptions?: NotificationQueueOptions;
  /** How often rows left pending are queued again; defaults to 60 000 ms. */
  sweepIntervalMs?: number;
}

const DEFAULT_CONCURRENCY = 50;

/** A running notification worker. */
export interface NotificationWorker {
  /** Finish the jobs in progress, then stop the worker, its queue and its transport. */
  close(): Promise<void>;
}

/** Thrown to have BullMQ retry a job after its backoff delay. */
export class TemporaryDeliveryError extends Error {
  readonly code = 'DELIVERY_TEMPORARY';

  constructor(reason: string) {
    super(reason);
    this.name = 'TemporaryDeliveryError';
  }
}

/**
 * Start the worker that delivers outbox rows. Checks Redis first (RedisUnavailableError
 * names the URL and the fix), queues every row left open by an earlier process, and then
 * sweeps rows left pending for over a minute (their change failed to enqueue them) at
 * `sweepIntervalMs`.
 */
export async function startNotificationWorker(deps: NotificationWorkerDeps): Promise<NotificationWorker> {
  const { prisma, config } = deps;
  const logger = deps.logger.child({ component: 'notification-worker' });
  await checkRedis(config.redisUrl);

  const delivery: DeliveryDeps = {
    prisma,
    config,
    logger: deps.logger,
    transport: deps.transport ?? createMailTransport(config, deps.logger),
    render: deps.render ?? renderOutbound,
    inFlight: new Set(),
    ...(deps.runner ? { runner: deps.runner } : {}),
  };
  const queue = createNotificationQueue(config, { ...deps.queueOptions, logger: deps.logger });

  const worker = new Worker<DeliverOutboundJob, string, JobName>(NOTIFICATIONS_QUEUE, (job) => processJob(delivery, job), {
    connection: bullConnectionOptions(config.redisUrl),
    prefix: config.queuePrefix,
    concurrency: deps.concurrency ?? DEFAULT_CONCURRENCY,
  });
  worker.on('error', createErrorLog(logger, 'notification worker error'));
  worker.on('failed', (job, error) => {
    // deliverOutbound has logged the failures it returns; anything else is unexpected here.
    const expected = error instanceof TemporaryDeliveryError || error instanceof UnrecoverableError;
    if (!expected) logger.error({ jobId: job?.id, attemptsMade: job?.attemptsMade, err: error }, 'delivery job failed with an unexpected error');
  });

  const closeParts = async () => {
    await closeWithin(CLOSE_TIMEOUT_MS, () => worker.close(), () => worker.disconnect(), logger);
    await closeWithin(CLOSE_TIMEOUT_MS, () => queue.close(), () => queue.disconnect(), logger);
    await delivery.transport.close();
  };
  let sweep: NodeJS.Timeout;
  try {
    await worker.waitUntilReady();
    const recovered = await enqueuePendingOutbound(prisma, queue);
    if (recovered > 0) logger.info({ rows: recovered }, 'queued outbox rows left open by an earlier run');
    sweep = startSweep(prisma, queue, logger, deps.sweepIntervalMs ?? 60_000);
  } catch (error) {
    await closeParts();
    throw error;
  }
  logger.info({ concurrency: deps.concurrency ?? DEFAULT_CONCURRENCY, transport: delivery.transport.kind }, 'notification worker started');

  return {
    async close() {
      clearInterval(sweep);
      await closeParts();
      logger.info('notification worker stopped');
    },
  };
}

/** Queue, every `intervalMs`, the rows pending for longer than that: their change failed to queue them. */
function startSweep(prisma: PrismaClient, queue: NotificationQueue, logger: Logger, intervalMs: number): NodeJS.Timeout {
  const sweep = setInterval(() => {
    enqueuePendingOutbound(prisma, queue, { olderThanMs: intervalMs, includeQueued: false }).then(
      (count) => {
        if (count > 0) logger.warn({ rows: count }, 'queued outbox rows that their change left pending');
      },
      (error: unknown) => logger.warn({ err: error }, 'outbox sweep failed; the next sweep tries again'),
    );
  }, intervalMs);
  sweep.unref();
  return sweep;
}

/** Map a delivery outcome to what BullMQ expects: a value, a retryable error, or UnrecoverableError. */
async function processJob(delivery: DeliveryDeps, job: Job<DeliverOutboundJob, string, JobName>): Promise<string> {
  const final = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  const outcome = await deliverOutbound(delivery, job.data.outboundId, { final });

  if (outcome.status === 'retry') throw new TemporaryDeliveryError(outcome.reason);
  if (outcome.status === 'failed') throw new UnrecoverableError(outcome.reason);
  return outcome.status;
}

/** How long a graceful close of the worker or the queue may take before it is forced. */
const CLOSE_TIMEOUT_MS = 2_000;

/**
 * Close gracefully, or disconnect after `timeoutMs` and stop waiting after as long
 * again. While Redis is away, BullMQ's close can wait for its blocking connection
 * indefinitely (seen with bullmq 6.7.6), and a shutdown must not hang on it. Jobs cut
 * short run again after the restart.
 */
async function closeWithin(timeoutMs: number, close: () => Promise<void>, disconnect: () => Promise<void>, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  const closing = close().then(() => 'closed' as const);
  try {
    if ((await Promise.race([closing, timedOut])) === 'closed') return;
  } finally {
    clearTimeout(timer);
  }

  logger.warn({ timeoutMs }, 'queue connection did not close in time; disconnecting');
  closing.catch((error: unknown) => logger.warn({ err: error }, 'queue close failed after disconnect'));
  // The disconnect can wait on the same dead connection, so it gets a bound too.
  const disconnecting = disconnect().catch((error: unknown) => logger.warn({ err: error }, 'queue disconnect failed'));
  await Promise.race([disconnecting, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())]);
}
