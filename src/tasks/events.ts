import { randomUUID } from 'node:crypto';
import type { Channel } from '../db/generated/enums.js';
import type { Tx } from '../db/client.js';

/** The closed list of domain events that notifications and escalations react to. */
export type DomainEventName =
  | 'task.created'
  | 'comment.public'
  | 'comment.internal'
  | 'task.status'
  | 'task.assignee'
  | 'task.priority'
  | 'task.deadline'
  | 'task.category'
  | 'deadline.warning'
  | 'deadline.breach'
  | 'chain.unblocked'
  | 'command.failed'
  | 'command.applied'
  | 'delivery.failed';

/** Something that happened to a task, recorded inside the transaction that caused it. */
export interface DomainEvent {
  /** Unique per event; with a recipient it keys one notification. */
  id: string;
  name: DomainEventName;
  taskId: number;
  actorId: number | null;
  channel: Channel;
  /** False for changes that must send no notifications, such as old mail imported from a mailbox. */
  notify: boolean;
  data: Record<string, unknown>;
}

/**
 * Receives the events of a change inside its transaction (to write outbox rows that
 * commit or roll back with the change) and, optionally, after the commit.
 */
export interface EventSink {
  inTransaction(tx: Tx, events: readonly DomainEvent[]): Promise<void>;
  afterCommit?(events: readonly DomainEvent[]): Promise<void> | void;
}

/** Create an event with a fresh id. */
export function createEvent(name: DomainEventName, taskId: number, actorId: number | null, channel: Channel, data: Record<string, unknown> = {}, notify = true): DomainEvent {
  return { id: randomUUID(), name, taskId, actorId, channel, notify, data };
}
