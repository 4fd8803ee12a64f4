import type { User } from '../../db/generated/client.js';
import type { ChangeContext } from '../../tasks/change.js';

/** Context a command acts on. */
export interface CommandContext {
  change: ChangeContext;
  taskId: number;
  sender: User;
  /** Set by `#internal`: the reply becomes an internal note. */
  flags: { internal: boolean };
}

/** The result of one command: what changed, or why nothing did. */
export type CommandOutcome = { ok: true; summary: string } | { ok: false; reason: string };

/** One mail command, such as `#status`. */
export interface CommandHandler {
  name: string;
  aliases?: readonly string[];
  /** How to write it, for the reply that explains a failed command. */
  usage: string;
  apply(context: CommandContext, argument: string): Promise<CommandOutcome>;
}
