import type { ChangeContext } from './change.js';
import { createEvent, type DomainEventName } from './events.js';

/** One change to record in a task's history. */
export interface HistoryEntry {
  kind: string;
  from?: string | null;
  to?: string | null;
  details?: Record<string, unknown>;
}

/** Write a history row and, when `event` is given, emit the domain event with it. */
export async function recordChange(
  context: ChangeContext,
  taskId: number,
  entry: HistoryEntry,
  event?: { name: DomainEventName; data?: Record<string, unknown> },
): Promise<void> {
  await context.tx.taskEvent.create({
    data: {
      taskId,
      actorId: context.actor?.id ?? null,
      kind: entry.kind,
      fromValue: entry.from ?? null,
      toValue: entry.to ?? null,
      channel: context.channel,
      details: entry.details ? JSON.stringify(entry.details) : null,
    },
  });
  if (event) {
    context.events.push(
      createEvent(event.name, taskId, context.actor?.id ?? null, context.channel, {
        from: entry.from ?? null,
        to: entry.to ?? null,
        ...entry.details,
        ...event.data,
      }, context.notify),
    );
  }
}
