import { Queue, type QueueOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { Config } from '../config/index.js';
import type { PrismaClient } from '../db/client.js';
import type { Logger } from '../logger.js';
import { getOutboxWriter } from '../outbound/delivery/outbox-writer.js';
import { DELIVER_OUTBOUND_JOB, NOTIFICATIONS_QUEUE, type DeliverOutboundJob, type JobName } from './names.js';
import { createErrorLog } from './error-log.js';

/** The queue of `deliver-outbound` jobs; each job's id is its OutboundMessage id. */
export type NotificationQueue = Queue<DeliverOutboundJob, string, JobName>;

/** Retry policy of delivery jobs. */
export interface NotificationQueueOptions {
  /** Runs of a job at most, the first included; defaults to 10. */
  attempts?: number;
  /** First retry delay in milliseconds, doubled on each retry; defaults to 30 000. */
  backoffMs?: number;
  /** Receives the queue's connection errors, at most one a minute. */
  logger?: Logger;
}

/** Rows added to Redis per round trip. */
const BATCH_SIZE = 500;

/**
 * A BullMQ queue on a Redis connection of its own that does not buffer commands while
 * Redis is away. BullMQ's close() sends QUIT on such a connection and fails during an
 * outage, so the queue is given the connection as a shared one and drops it itself.
 */
class NotificationQueueImpl extends Queue<DeliverOutboundJob, string, JobName> {
  constructor(
    private readonly client: Redis,
    options: Omit<QueueOptions, 'connection'>,
  ) {
    super(NOTIFICATIONS_QUEUE, { ...options, connection: client });
  }

  override async close(): Promise<void> {
    await super.close();
    this.client.disconnect();
  }
}

/**
 * Create the notifications queue. With the defaults a temporary failure is retried 9
 * times over about four hours, the delay doubling from 30 s to about 2 h. Each delay is
 * shortened by up to 20 % at random, so that retries after an outage do not all arrive
 * at once. Finished jobs are removed from Redis: the OutboundMessage row is the record,
 * and a removed job frees its id for a later, deliberate re-send.
 *
 * The queue's connection does not buffer commands while Redis is away, so enqueueing
 * fails at once instead of stalling the change that called it. The rows stay pending
 * until the worker's sweep queues them.
 */
export function createNotificationQueue(config: Config, options: NotificationQueueOptions = {}): NotificationQueue {
  // maxRetriesPerRequest 0: a command written just before Redis went away fails when
  // the connection drops, rather than waiting for Redis to come back.
  const client = new Redis(config.redisUrl, { maxRetriesPerRequest: 0, enableOfflineQueue: false });
  // While the queue is open, BullMQ passes these errors on as its 'error' event. This
  // listener keeps ioredis from printing the ones that arrive after close().
  client.on('error', () => undefined);

  const queue = new NotificationQueueImpl(client, {
    prefix: config.queuePrefix,
    defaultJobOptions: {
      attempts: options.attempts ?? 10,
      backoff: { type: 'exponential', delay: options.backoffMs ?? 30_000, jitter: 0.2 },
      removeOnComplete: true,
      removeOnFail: true,
    },
  });
  if (options.logger) queue.on('error', createErrorLog(options.logger.child({ component: 'notification-queue' }), 'notification queue connection error'));
  return queue;
}

/**
 * Add one job per row id. A job whose id is already waiting, delayed or running is not
 * added twice. When `prisma` is given, rows still pending are marked queued.
 */
export async function enqueueOutbound(queue: NotificationQueue, ids: readonly string[], prisma?: PrismaClient): Promise<void> {
  for (let start = 0; start < ids.length; start += BATCH_SIZE) {
    const batch = ids.slice(start, start + BATCH_SIZE);
    await queue.addBulk(batch.map((id) => ({ name: DELIVER_OUTBOUND_JOB, data: { outboundId: id }, opts: { jobId: id } })));
    if (prisma) await getOutboxWriter(prisma).markQueued(batch);
  }
}

/** Selection of the open rows that a sweep puts on the queue. */
export interface PendingSweepOptions {
  /** Skip rows younger than this, which their own change is still queueing; defaults to 0. */
  olderThanMs?: number;
  /**
   * Also re-add rows marked queued, whose jobs Redis may have lost (a flushed or restored
   * Redis). Jobs that still exist are not duplicated. Defaults to true.
   */
  includeQueued?: boolean;
}

/**
 * Queue the rows that were committed but never reached the queue, such as after a crash
 * between the commit and the enqueue. Returns how many rows were passed to the queue.
 */
export async function enqueuePendingOutbound(prisma: PrismaClient, queue: NotificationQueue, options: PendingSweepOptions = {}): Promise<number> {
  const statuses: ('pending' | 'queued')[] = options.includeQueued === false ? ['pending'] : ['pending', 'queued'];
  const createdBefore = new Date(Date.now() - (options.olderThanMs ?? 0));

  let total = 0;
  let lastId = '';
  for (;;) {
    const rows = await prisma.outboundMessage.findMany({
      where: { status: { in: statuses }, createdAt: { lte: createdBefore }, id: { gt: lastId } },
      select: { id: true },
      orderBy: { id: 'asc' },
      take: BATCH_SIZE,
    });
    if (rows.length === 0) return total;

    const ids = rows.map((row) => row.id);
    await enqueueOutbound(queue, ids, prisma);
    total += ids.length;
    lastId = ids[ids.length - 1]!;
  }
}
