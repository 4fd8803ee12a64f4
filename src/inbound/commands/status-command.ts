import { changeStatus } from '../../tasks/change-status.js';
import { parseStatus, STATUS_NAMES } from '../../tasks/status.js';
import type { CommandHandler } from './types.js';

const names = Object.values(STATUS_NAMES).join(', ');

/** `#status in-progress`: change the task's status. */
export const statusCommand: CommandHandler = {
  name: 'status',
  usage: `#status <${Object.values(STATUS_NAMES).join('|')}>`,
  async apply(context, argument) {
    const status = parseStatus(argument);
    if (!status) return { ok: false, reason: argument ? `unknown status "${argument}"; use one of: ${names}` : `missing status; use one of: ${names}` };

    const task = await context.change.tx.task.findUniqueOrThrow({ where: { id: context.taskId }, include: { prerequisite: true } });
    if (status === 'in_progress' && task.prerequisite && task.prerequisite.status !== 'done' && task.prerequisite.status !== 'closed') {
      return { ok: false, reason: `task #${task.prerequisite.id} must be done first; this task is blocked by it` };
    }

    const changed = await changeStatus(context.change, context.taskId, status);
    return { ok: true, summary: changed ? `status set to ${STATUS_NAMES[status]}` : `status was already ${STATUS_NAMES[status]}` };
  },
};
