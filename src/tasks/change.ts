import type { Channel, Role } from '../db/generated/enums.js';
import type { PrismaClient, Tx } from '../db/client.js';
import type { Logger } from '../logger.js';
import type { DomainEvent, EventSink } from './events.js';

/** The user who makes a change. A null actor is the system itself. */
export interface Actor {
  id: number;
  role: Role;
}

/** Context of a domain operation: the transaction, the actor, the channel, and the events so far. */
export interface ChangeContext {
  tx: Tx;
  /** Set by the caller once the actor is found (the sender of a message, say). */
  actor: Actor | null;
  channel: Channel;
  /** False when the change must send no notifications. It is copied onto every event. */
  notify: boolean;
  events: DomainEvent[];
}

/**
 * Runs domain changes in one transaction and hands their events to the sinks: inside
 * the transaction first, then after the commit.
 */
export class ChangeRunner {
  private readonly sinks: EventSink[] = [];

  constructor(
    readonly prisma: PrismaClient,
    private readonly logger: Logger,
  ) {}

  /** Add a sink; notification outboxes and deadline schedulers register here. */
  addSink(sink: EventSink): void {
    this.sinks.push(sink);
  }

  /** Run `work` in a transaction and pass its events to every sink. */
  async run<T>(actor: Actor | null, channel: Channel, work: (context: ChangeContext) => Promise<T>, options: { notify?: boolean } = {}): Promise<T> {
    let events: DomainEvent[] = [];
    const result = await this.prisma.$transaction(
      async (tx) => {
        const context: ChangeContext = { tx, actor, channel, notify: options.notify ?? true, events: [] };
        const value = await work(context);
        for (const sink of this.sinks) await sink.inTransaction(tx, context.events);
        events = context.events;
        return value;
      },
      { timeout: 30_000, maxWait: 30_000 },
    );

    for (const sink of this.sinks) {
      if (!sink.afterCommit) continue;
      try {
        await sink.afterCommit(events);
      } catch (error) {
        // The outbox rows are committed; a sweep at start-up queues what this missed.
        this.logger.error({ err: error, component: 'change-runner' }, 'event sink failed after commit');
      }
    }
    return result;
  }
}
