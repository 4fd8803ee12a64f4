import type { Priority } from '../../db/generated/enums.js';
import { setPriority } from '../../tasks/update-task.js';
import type { CommandHandler } from './types.js';

const PRIORITIES: readonly Priority[] = ['low', 'normal', 'high', 'urgent'];

/** `#priority urgent`: set the task's priority. */
export const priorityCommand: CommandHandler = {
  name: 'priority',
  usage: `#priority <${PRIORITIES.join('|')}>`,
  async apply(context, argument) {
    const priority = PRIORITIES.find((value) => value === argument.trim().toLowerCase());
    if (!priority) return { ok: false, reason: `${argument ? `unknown priority "${argument}"` : 'missing priority'}; use one of: ${PRIORITIES.join(', ')}` };

    const changed = await setPriority(context.change, context.taskId, priority);
    return { ok: true, summary: changed ? `priority set to ${priority}` : `priority was already ${priority}` };
  },
};
