import type { User } from '../../db/generated/client.js';
import type { ChangeContext } from '../../tasks/change.js';
import { createEvent } from '../../tasks/events.js';
import { recordChange } from '../../tasks/history.js';
import { assignCommand } from './assign-command.js';
import { categoryCommand } from './category-command.js';
import { deadlineCommand } from './deadline-command.js';
import { internalCommand } from './internal-command.js';
import type { CommandLine } from './parse-commands.js';
import { priorityCommand } from './priority-command.js';
import { statusCommand } from './status-command.js';
import type { CommandHandler } from './types.js';

/** Every mail command, in the order the help text lists them. */
export const COMMANDS: readonly CommandHandler[] = [statusCommand, assignCommand, priorityCommand, deadlineCommand, categoryCommand, internalCommand];

/** A command that changed nothing, with the reason and how to write it. */
export interface FailedCommand {
  line: string;
  reason: string;
  usage: string | null;
}

/** Results of the command block of a reply. */
export interface CommandResults {
  applied: { line: string; summary: string }[];
  failed: FailedCommand[];
  internal: boolean;
}

/**
 * Apply the commands of a reply. `allowed` is false unless the sender is the staff
 * member the thread token was issued to; then every command fails with `refusal`.
 * Each failure is recorded in the task's history and emitted as command.failed, so
 * it can be mailed back to the sender.
 */
export async function applyCommands(
  change: ChangeContext,
  taskId: number,
  sender: User,
  commands: readonly CommandLine[],
  permission: { allowed: true } | { allowed: false; refusal: string },
): Promise<CommandResults> {
  const results: CommandResults = { applied: [], failed: [], internal: false };
  const flags = { internal: false };

  for (const command of commands) {
    const handler = findCommand(command.name);
    let outcome: { ok: true; summary: string } | { ok: false; reason: string };
    if (!permission.allowed) outcome = { ok: false, reason: permission.refusal };
    else if (!handler) outcome = { ok: false, reason: `unknown command #${command.name}; known commands: ${COMMANDS.map((entry) => `#${entry.name}`).join(', ')}` };
    else outcome = await handler.apply({ change, taskId, sender, flags }, command.argument);

    if (outcome.ok) {
      results.applied.push({ line: command.line, summary: outcome.summary });
      continue;
    }
    const failure = { line: command.line, reason: outcome.reason, usage: handler?.usage ?? null };
    results.failed.push(failure);
    await recordChange(change, taskId, { kind: 'command-failed', details: { ...failure } }, { name: 'command.failed', data: { recipientId: sender.id } });
  }

  // A reply whose commands failed may have been meant as a note (`#internl`), so it
  // is kept internal rather than risk sending it to the customer.
  results.internal = flags.internal || results.failed.length > 0;
  if (results.applied.length > 0) {
    change.events.push(createEvent('command.applied', taskId, sender.id, change.channel, { applied: results.applied, recipientId: sender.id }, change.notify));
  }
  return results;
}

function findCommand(name: string): CommandHandler | undefined {
  return COMMANDS.find((command) => command.name === name || command.aliases?.includes(name));
}
