import type { Priority } from '../db/generated/enums.js';
import type { ChangeContext } from './change.js';
import { recordChange } from './history.js';

/** Assign a task to a staff member, or unassign it with null. Returns false when unchanged. */
export async function assignTask(context: ChangeContext, taskId: number, assigneeId: number | null): Promise<boolean> {
  const task = await context.tx.task.findUniqueOrThrow({ where: { id: taskId }, include: { assignee: true } });
  if (task.assigneeId === assigneeId) return false;

  const assignee = assigneeId ? await context.tx.user.findUniqueOrThrow({ where: { id: assigneeId } }) : null;
  await context.tx.task.update({ where: { id: taskId }, data: { assigneeId } });
  await recordChange(
    context,
    taskId,
    { kind: 'assignee', from: task.assignee?.email ?? null, to: assignee?.email ?? null },
    { name: 'task.assignee', data: { previousAssigneeId: task.assigneeId, assigneeId } },
  );
  return true;
}

/** Set a task's priority. Returns false when unchanged. */
export async function setPriority(context: ChangeContext, taskId: number, priority: Priority): Promise<boolean> {
  const task = await context.tx.task.findUniqueOrThrow({ where: { id: taskId } });
  if (task.priority === priority) return false;

  await context.tx.task.update({ where: { id: taskId }, data: { priority } });
  await recordChange(context, taskId, { kind: 'priority', from: task.priority, to: priority }, { name: 'task.priority' });
  return true;
}

/** Set or clear a task's resolution deadline. Returns false when unchanged. */
export async function setDeadline(context: ChangeContext, taskId: number, deadline: Date | null): Promise<boolean> {
  const task = await context.tx.task.findUniqueOrThrow({ where: { id: taskId } });
  if ((task.resolutionDueAt?.getTime() ?? null) === (deadline?.getTime() ?? null)) return false;

  await context.tx.task.update({ where: { id: taskId }, data: { resolutionDueAt: deadline } });
  await recordChange(
    context,
    taskId,
    { kind: 'deadline', from: task.resolutionDueAt?.toISOString() ?? null, to: deadline?.toISOString() ?? null },
    { name: 'task.deadline' },
  );
  return true;
}

/** Set or clear a task's category. Returns false when unchanged. */
export async function setCategory(context: ChangeContext, taskId: number, categoryId: number | null): Promise<boolean> {
  const task = await context.tx.task.findUniqueOrThrow({ where: { id: taskId }, include: { category: true } });
  if (task.categoryId === categoryId) return false;

  const category = categoryId ? await context.tx.category.findUniqueOrThrow({ where: { id: categoryId } }) : null;
  await context.tx.task.update({ where: { id: taskId }, data: { categoryId } });
  await recordChange(context, taskId, { kind: 'category', from: task.category?.name ?? null, to: category?.name ?? null }, { name: 'task.category' });
  return true;
}

/** Add a watcher; watching twice is one watch. */
export async function addWatcher(context: ChangeContext, taskId: number, userId: number): Promise<void> {
  await context.tx.taskWatcher.upsert({ where: { taskId_userId: { taskId, userId } }, create: { taskId, userId }, update: {} });
}
