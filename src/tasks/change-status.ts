import type { TaskStatus } from '../db/generated/enums.js';
import type { ChangeContext } from './change.js';
import { recordChange } from './history.js';
import { isFinished, STATUS_NAMES } from './status.js';

/**
 * Set a task's status, keeping its timers: the resolution time when it becomes done,
 * the time spent waiting for the customer, and the chain: when a task is done, the
 * tasks blocked by it start. Does nothing when the status is unchanged.
 */
export async function changeStatus(context: ChangeContext, taskId: number, status: TaskStatus, options: { reason?: string } = {}): Promise<boolean> {
  const task = await context.tx.task.findUniqueOrThrow({ where: { id: taskId } });
  if (task.status === status) return false;

  const now = new Date();
  const waitedSeconds = task.waitingSince ? Math.round((now.getTime() - task.waitingSince.getTime()) / 1000) : 0;
  await context.tx.task.update({
    where: { id: taskId },
    data: {
      status,
      waitingSince: status === 'waiting' ? (task.waitingSince ?? now) : null,
      waitingSeconds: task.waitingSeconds + (status === 'waiting' ? 0 : waitedSeconds),
      resolvedAt: status === 'done' ? now : isFinished(status) ? task.resolvedAt : null,
      closedAt: status === 'closed' ? now : null,
    },
  });

  await recordChange(
    context,
    taskId,
    { kind: 'status', from: STATUS_NAMES[task.status], to: STATUS_NAMES[status], ...(options.reason ? { details: { reason: options.reason } } : {}) },
    { name: 'task.status' },
  );

  if (status === 'done') await unblockDependents(context, taskId);
  return true;
}

/** Start the tasks that waited for `taskId` in a chain. */
async function unblockDependents(context: ChangeContext, taskId: number): Promise<void> {
  const dependents = await context.tx.task.findMany({ where: { prerequisiteId: taskId, status: 'blocked' }, select: { id: true, assigneeId: true } });
  for (const dependent of dependents) {
    await changeStatus(context, dependent.id, dependent.assigneeId ? 'in_progress' : 'new', { reason: `task #${taskId} is done` });
    await recordChange(context, dependent.id, { kind: 'chain-unblocked', details: { prerequisiteId: taskId } }, { name: 'chain.unblocked', data: { prerequisiteId: taskId } });
  }
}
