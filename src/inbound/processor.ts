import type { PrismaClient } from '../db/client.js';
import type { Config } from '../config/index.js';
import type { Logger } from '../logger.js';
import type { ChangeRunner } from '../tasks/change.js';
import type { IntakePressure } from './intake-pressure.js';
import type { Journal } from './journal/journal.js';
import { parseMessage } from './parse.js';
import { processParsedMessage, type ProcessOutcome } from './process-message.js';

/** Dependencies of the processor. */
export interface ProcessorDeps {
  prisma: PrismaClient;
  journal: Journal;
  runner: ChangeRunner;
  config: Config;
  logger: Logger;
  /** When given, each message waits (briefly) while the SMTP intake is busy. */
  pressure?: IntakePressure;
}

/**
 * Processes journal entries one at a time, in arrival order, after SMTP or IMAP has
 * acknowledged them. SQLite has one writer, so more at once would only queue in the
 * database. Entries left pending by a crash are picked up by `start()`.
 */
export class InboundProcessor {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly log: Logger;
  private readonly waiters: (() => void)[] = [];
  private sweepTimer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: ProcessorDeps) {
    this.log = deps.logger.child({ component: 'inbound' });
  }

  /**
   * Register what a crash left in the spool, queue every pending entry, and keep
   * looking for pending entries every `sweepIntervalMs`: intake that runs in another
   * process (`npm start -- smtp`, `npm start -- imap`) journals entries that this
   * process never hears of.
   */
  async start(sweepIntervalMs = 5000): Promise<void> {
    await this.deps.journal.recover();
    const count = await this.enqueuePending();
    if (count > 0) this.log.info({ count }, 'resuming pending messages');

    this.sweepTimer = setInterval(() => {
      this.enqueuePending().catch((error: unknown) => this.log.error({ err: error }, 'pending message sweep failed'));
    }, sweepIntervalMs);
    this.sweepTimer.unref();
  }

  /** Queue a journal entry; queuing one that is already waiting does nothing. */
  enqueue(journalId: string): void {
    if (this.stopped || this.queued.has(journalId)) return;
    this.queued.add(journalId);
    this.queue.push(journalId);
    this.running ??= this.drain();
  }

  /** Resolves when the queue is empty. */
  idle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Put a failed entry back in the queue. Returns false when it is not failed. */
  async retry(journalId: string): Promise<boolean> {
    const { count } = await this.deps.prisma.inboundMessage.updateMany({ where: { id: journalId, status: 'failed' }, data: { status: 'pending', error: null } });
    if (count === 0) return false;
    this.enqueue(journalId);
    return true;
  }

  /** Stop taking entries and wait for the one in progress. */
  async stop(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.stopped = true;
    this.queue.length = 0;
    await this.running;
  }

  /** Process one entry now. A message that cannot be processed is marked failed; only a failure to record that throws. */
  async processEntry(journalId: string): Promise<ProcessOutcome | { status: 'failed'; error: string } | null> {
    const entry = await this.deps.prisma.inboundMessage.findUnique({ where: { id: journalId } });
    if (!entry || entry.status !== 'pending') return null;

    try {
      const raw = await this.deps.journal.readRaw(entry);
      const mail = await parseMessage(raw);
      const outcome = await processParsedMessage(entry, mail, this.deps.runner, this.deps.config);
      this.log.info({ journalId, messageId: entry.messageId, ...summarize(outcome) }, 'message processed');
      return outcome;
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      await this.deps.prisma.inboundMessage.update({ where: { id: journalId }, data: { status: 'failed', error: message.slice(0, 2000), attempts: { increment: 1 } } });
      this.log.warn({ journalId, messageId: entry.messageId, err: error }, 'message processing failed');
      return { status: 'failed', error: message };
    }
  }

  private async enqueuePending(): Promise<number> {
    const pending = await this.deps.prisma.inboundMessage.findMany({ where: { status: 'pending' }, orderBy: [{ receivedAt: 'asc' }, { id: 'asc' }], select: { id: true } });
    for (const { id } of pending) this.enqueue(id);
    return pending.length;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.stopped) {
      await this.deps.pressure?.waitUntilQuiet(() => this.stopped);
      if (this.stopped) break;
      const journalId = this.queue.shift()!;
      this.queued.delete(journalId);
      try {
        await this.processEntry(journalId);
      } catch (error) {
        // Only the failure bookkeeping itself can land here (the database is gone); the entry stays pending for the next start.
        this.log.error({ journalId, err: error }, 'could not record processing result');
      }
    }
    this.running = null;
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}

function summarize(outcome: ProcessOutcome): Record<string, unknown> {
  if (outcome.status === 'processed') return { status: outcome.status, taskId: outcome.taskId, commentId: outcome.commentId, routedBy: outcome.routedBy, kind: outcome.kind };
  if (outcome.status === 'ignored') return { status: outcome.status, kind: outcome.kind, taskId: outcome.taskId };
  if (outcome.status === 'skipped') return { status: outcome.status, reason: outcome.reason };
  return { status: outcome.status, originalId: outcome.originalId };
}
