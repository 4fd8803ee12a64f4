import type { PrismaClient } from '../../db/client.js';
import { Prisma } from '../../db/generated/client.js';

/** Requests of one kind taken into one transaction at most. */
const MAX_BATCH = 500;

/** Row ids in one statement at most, well below SQLite's limit of 32 766 parameters. */
const MAX_IDS_PER_STATEMENT = 500;

/**
 * Delay in milliseconds between the first request of a batch and its write. A commit
 * blocks the event loop while SQLite syncs, so no request arrives during a write. The
 * batch is made of the requests that arrive within this delay. With 10 ms the worker
 * reached half the rate of a plain SMTP client in bench/outbound.ts.
 */
const BATCH_DELAY_MS = 10;

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

interface SentRequest extends Waiter<void> {
  id: string;
}

interface QueuedRequest extends Waiter<void> {
  ids: readonly string[];
}

/**
 * Writes the status updates of many concurrent deliveries together, one transaction for
 * the requests made within BATCH_DELAY_MS of each other. SQLite runs with
 * synchronous=FULL, so each commit waits for the disk; one commit per batch instead of
 * one per mail is what lets the worker keep up with a plain SMTP client. A request
 * waits for at most the delay, the write in progress, and its own write.
 *
 * Each batch runs in an interactive transaction, which waits for any other transaction
 * on the connection to finish. With the better-sqlite3 adapter (6.19) a bare statement
 * does not wait: it runs inside whatever transaction is open at that moment, and is
 * rolled back with it.
 *
 * The SQL is written for both SQLite and PostgreSQL: quoted identifiers, and status
 * values as literals, because PostgreSQL compares its enum type with a literal but not
 * with a text parameter.
 */
export class OutboxWriter {
  private sent: SentRequest[] = [];
  private queued: QueuedRequest[] = [];
  /** Set while a batch waits for its delay. */
  private timer: NodeJS.Timeout | null = null;
  /** True from the first request of a batch until the last write of the drain. */
  private running = false;

  constructor(private readonly prisma: PrismaClient) {}

  /** Record that the relay accepted the mail: status sent, the time, one more attempt, no error. */
  markSent(id: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.sent.push({ id, resolve, reject });
      this.schedule(BATCH_DELAY_MS);
    });
  }

  /**
   * Mark rows that are still pending as queued, with the time. This is written without
   * the batch delay, because the change that queued the rows waits for it.
   */
  markQueued(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.queued.push({ ids, resolve, reject });
      this.schedule(0);
    });
  }

  /** Start a drain after `delayMs`, or sooner if one is already waiting longer. */
  private schedule(delayMs: number): void {
    // While a write runs, the drain loop takes the request when the write ends.
    if (this.running && this.timer === null) return;
    if (this.timer !== null) {
      if (delayMs > 0) return;
      clearTimeout(this.timer);
    }
    this.running = true;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.drain();
    }, delayMs);
  }

  private async drain(): Promise<void> {
    while (this.sent.length > 0 || this.queued.length > 0) {
      const sent = this.sent.splice(0, MAX_BATCH);
      const queued = this.queued.splice(0, MAX_BATCH);
      await this.write(sent, queued);
    }
    this.running = false;
  }

  private async write(sent: SentRequest[], queued: QueuedRequest[]): Promise<void> {
    const sentIds = sent.map((request) => request.id);
    const queuedIds = [...new Set(queued.flatMap((request) => request.ids))];
    try {
      // Interactive, because Prisma runs a one-statement array transaction as a bare statement.
      await this.prisma.$transaction(async (tx) => {
        const now = new Date();
        for (const ids of chunk(sentIds)) {
          await tx.$executeRaw`
            UPDATE "OutboundMessage" SET "status" = 'sent', "sentAt" = ${now}, "attempts" = "attempts" + 1, "lastError" = NULL
            WHERE "status" IN ('pending', 'queued') AND "id" IN (${Prisma.join(ids)})`;
        }
        for (const ids of chunk(queuedIds)) {
          await tx.$executeRaw`
            UPDATE "OutboundMessage" SET "status" = 'queued', "queuedAt" = ${now}
            WHERE "status" = 'pending' AND "id" IN (${Prisma.join(ids)})`;
        }
      });
    } catch (error) {
      for (const request of [...sent, ...queued]) request.reject(error);
      return;
    }
    for (const request of [...sent, ...queued]) request.resolve();
  }
}

function chunk(ids: readonly string[]): string[][] {
  const chunks: string[][] = [];
  for (let start = 0; start < ids.length; start += MAX_IDS_PER_STATEMENT) chunks.push(ids.slice(start, start + MAX_IDS_PER_STATEMENT));
  return chunks;
}

const writers = new WeakMap<PrismaClient, OutboxWriter>();

/** Return the writer of this database client; every caller shares it, so their updates share commits. */
export function getOutboxWriter(prisma: PrismaClient): OutboxWriter {
  let writer = writers.get(prisma);
  if (!writer) {
    writer = new OutboxWriter(prisma);
    writers.set(prisma, writer);
  }
  return writer;
}
