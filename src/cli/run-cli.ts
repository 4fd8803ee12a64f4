import type { Config } from '../config/index.js';
import { openDatabase } from '../db/client.js';
import type { Logger } from '../logger.js';
import { CLI_COMMANDS } from './commands/index.js';
import { UsageError } from './types.js';

/** Run one CLI invocation against a migrated database. Returns the exit code. */
export async function runCli(args: string[], config: Config, logger: Logger, out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === 'help' || name === '--help') {
    for (const line of helpText()) out(line);
    return 0;
  }
  const command = CLI_COMMANDS.find((entry) => entry.name === name);
  if (!command) {
    err(`postdesk: unknown command "${name}"`);
    for (const line of helpText()) err(line);
    return 64;
  }

  const prisma = await openDatabase(config.databaseUrl);
  try {
    return await command.run(rest, { config, prisma, logger, out });
  } catch (error) {
    if (error instanceof UsageError || (error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))) {
      err(`postdesk ${command.name}: ${error.message}`);
      err(`usage:\n${command.usage.split('\n').map((line) => `  postdesk ${line}`).join('\n')}`);
      return 64;
    }
    throw error;
  } finally {
    await prisma.$disconnect();
  }
}

function helpText(): string[] {
  return ['usage: postdesk COMMAND [ARGS]', '', 'commands:', ...CLI_COMMANDS.map((command) => `  ${command.name.padEnd(14)} ${command.summary}`), '', 'Run a command without arguments to see its usage.'];
}
