import { assignTask } from '../../tasks/update-task.js';
import { isStaff, normalizeAddress } from '../../tasks/users.js';
import type { CommandHandler } from './types.js';

/** `#assign colleague@example.com`, `#assign me` or `#assign nobody`. */
export const assignCommand: CommandHandler = {
  name: 'assign',
  usage: '#assign <colleague@example.com|me|nobody>',
  async apply(context, argument) {
    const target = normalizeAddress(argument.replace(/^<|>$/g, ''));
    if (!target) return { ok: false, reason: 'missing assignee; give a colleague\'s address, "me" or "nobody"' };

    if (target === 'nobody' || target === 'none') {
      const changed = await assignTask(context.change, context.taskId, null);
      return { ok: true, summary: changed ? 'task unassigned' : 'task was already unassigned' };
    }

    const assignee = target === 'me' ? context.sender : await context.change.tx.user.findUnique({ where: { email: target } });
    if (!assignee) return { ok: false, reason: `no user with the address ${target}` };
    if (!isStaff(assignee.role) || !assignee.active) return { ok: false, reason: `${assignee.email} is not an active staff member and cannot be assigned` };

    const changed = await assignTask(context.change, context.taskId, assignee.id);
    return { ok: true, summary: changed ? `assigned to ${assignee.email}` : `already assigned to ${assignee.email}` };
  },
};
