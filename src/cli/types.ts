import type { Config } from '../config/index.js';
import type { PrismaClient } from '../db/client.js';
import type { Logger } from '../logger.js';

/** Dependencies every CLI command gets. */
export interface CliDeps {
  config: Config;
  prisma: PrismaClient;
  logger: Logger;
  out(line: string): void;
}

/** Raised for a usage mistake; the message is printed with the command's usage. */
export class UsageError extends Error {
  readonly code = 'USAGE';
}

/** One top-level CLI command such as `task`. */
export interface CliCommand {
  name: string;
  summary: string;
  usage: string;
  run(args: string[], deps: CliDeps): Promise<number>;
}
