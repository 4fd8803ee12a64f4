import type { Category, Department, Task, User } from '../../db/generated/client.js';
import type { Db } from '../../db/client.js';
import type { DomainEvent, DomainEventName } from '../../tasks/events.js';

/** Inputs of the rules for one event: the task as it is now, who acted, and the comment's visibility. */
export interface EventFacts {
  event: DomainEvent;
  task: Task & { category: Category | null; department: Department | null; author: User; assignee: User | null };
  actor: User | null;
  /** Visibility of the comment for comment events, otherwise null. */
  visibility: 'public' | 'internal' | null;
}

const COMMENT_VISIBILITY: Partial<Record<DomainEventName, 'public' | 'internal'>> = { 'comment.public': 'public', 'comment.internal': 'internal' };

/** Load the facts for an event; null when its task no longer exists. */
export async function loadEventFacts(db: Db, event: DomainEvent): Promise<EventFacts | null> {
  const task = await db.task.findUnique({ where: { id: event.taskId }, include: { category: true, department: true, author: true, assignee: true } });
  if (!task) return null;

  const actor = event.actorId === null ? null : await db.user.findUnique({ where: { id: event.actorId } });
  return { event, task, actor, visibility: COMMENT_VISIBILITY[event.name] ?? null };
}
