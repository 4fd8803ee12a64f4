import type { TaskStatus } from '../db/generated/enums.js';

/** Status names as people write them in commands and see them in mail. */
export const STATUS_NAMES: Record<TaskStatus, string> = {
  new: 'new',
  in_progress: 'in-progress',
  waiting: 'waiting',
  blocked: 'blocked',
  done: 'done',
  closed: 'closed',
};

/** Parse a status as written by a person (`in-progress`, `In Progress`, `in_progress`). */
export function parseStatus(text: string): TaskStatus | null {
  const key = text.trim().toLowerCase().replace(/[\s-]+/g, '_');
  return key in STATUS_NAMES ? (key as TaskStatus) : null;
}

/** True for statuses in which the task needs no more work. */
export function isFinished(status: TaskStatus): boolean {
  return status === 'done' || status === 'closed';
}
