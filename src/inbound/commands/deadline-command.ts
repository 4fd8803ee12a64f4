import { setDeadline } from '../../tasks/update-task.js';
import type { CommandHandler } from './types.js';

const FORMAT = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}))?$/;

/**
 * `#deadline 2026-12-20` or `#deadline 2026-12-20 17:00`, in UTC, or `#deadline none`.
 * A date alone means the end of that day.
 */
export const deadlineCommand: CommandHandler = {
  name: 'deadline',
  usage: '#deadline <YYYY-MM-DD|YYYY-MM-DD HH:MM|none> (UTC)',
  async apply(context, argument) {
    const text = argument.trim().toLowerCase();
    if (text === 'none') {
      const changed = await setDeadline(context.change, context.taskId, null);
      return { ok: true, summary: changed ? 'deadline removed' : 'there was no deadline' };
    }

    const deadline = parseDeadline(text);
    if (!deadline) return { ok: false, reason: `${text ? `"${argument}" is not a date` : 'missing date'}; write it as YYYY-MM-DD or YYYY-MM-DD HH:MM` };
    if (deadline.getTime() <= Date.now()) return { ok: false, reason: `${argument} is in the past` };

    const changed = await setDeadline(context.change, context.taskId, deadline);
    return { ok: true, summary: changed ? `deadline set to ${deadline.toISOString()}` : 'deadline unchanged' };
  },
};

/** Parse a deadline; returns null for a malformed or impossible date such as 2026-02-30. */
export function parseDeadline(text: string): Date | null {
  const match = FORMAT.exec(text);
  if (!match) return null;

  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const [hour, minute] = match[4] === undefined ? [23, 59] : [Number(match[4]), Number(match[5])];
  if (hour > 23 || minute > 59) return null;

  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, match[4] === undefined ? 59 : 0));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  return date;
}
