import type { Config, HelpdeskAddress } from '../config/index.js';
import { formatTokenAddress } from './addresses.js';
import { createThreadToken } from './thread-token.js';

/**
 * Build the address a person replies to about a task: the helpdesk address of the task's
 * department (or the first one), plus a token issued to that person.
 */
export function buildReplyAddress(config: Config, taskId: number, userId: number, departmentAddress?: string | null): string {
  const helpdesk: HelpdeskAddress = config.mail.addresses.find((entry) => entry.address === departmentAddress) ?? config.mail.addresses[0]!;
  return formatTokenAddress(helpdesk, createThreadToken(config.threadTokenSecret, { taskId, userId }));
}
