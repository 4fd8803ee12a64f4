import type { Db } from '../db/client.js';
import { isStaff } from './users.js';

/**
 * True when a user takes part in a task: staff always do; customers when they wrote
 * it, watch it, or commented on it. Mail from anyone else never lands on the task.
 */
export async function isParticipant(db: Db, taskId: number, user: { id: number; role: Parameters<typeof isStaff>[0] }): Promise<boolean> {
  if (isStaff(user.role)) return true;

  const task = await db.task.findUnique({ where: { id: taskId }, select: { authorId: true, assigneeId: true } });
  if (!task) return false;
  if (task.authorId === user.id || task.assigneeId === user.id) return true;

  const watcher = await db.taskWatcher.findUnique({ where: { taskId_userId: { taskId, userId: user.id } } });
  if (watcher) return true;

  const comment = await db.comment.findFirst({ where: { taskId, authorId: user.id }, select: { id: true } });
  return comment !== null;
}
