import type { CliCommand } from '../types.js';
import { categoryCommand, departmentCommand } from './directory.js';
import { journalCommand } from './journal.js';
import { mailboxCommand } from './mailbox.js';
import { replyAddressCommand } from './reply-address.js';
import { ruleCommand } from './rule.js';
import { taskCommand } from './task.js';
import { userCommand } from './user.js';

/** Every top-level CLI command, in the order help lists them. */
export const CLI_COMMANDS: readonly CliCommand[] = [userCommand, departmentCommand, categoryCommand, taskCommand, replyAddressCommand, journalCommand, mailboxCommand, ruleCommand];
