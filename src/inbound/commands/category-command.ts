import { setCategory } from '../../tasks/update-task.js';
import type { CommandHandler } from './types.js';

/** `#category Billing` or `#category none`. */
export const categoryCommand: CommandHandler = {
  name: 'category',
  usage: '#category <name|none>',
  async apply(context, argument) {
    const name = argument.trim();
    if (!name) return { ok: false, reason: 'missing category name' };
    if (name.toLowerCase() === 'none') {
      const changed = await setCategory(context.change, context.taskId, null);
      return { ok: true, summary: changed ? 'category removed' : 'there was no category' };
    }

    const categories = await context.change.tx.category.findMany({ orderBy: { name: 'asc' } });
    const category = categories.find((entry) => entry.name.toLowerCase() === name.toLowerCase());
    if (!category) {
      const known = categories.map((entry) => entry.name).join(', ') || 'none are defined yet';
      return { ok: false, reason: `unknown category "${name}"; known categories: ${known}` };
    }

    const changed = await setCategory(context.change, context.taskId, category.id);
    return { ok: true, summary: changed ? `category set to ${category.name}` : `category was already ${category.name}` };
  },
};
