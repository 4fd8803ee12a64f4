import type { Config } from '../config/config.js';
import type { PrismaClient } from '../db/client.js';
import type { Journal } from '../inbound/journal/journal.js';
import type { Logger } from '../logger.js';
import { syncEnvironmentMailbox } from './env-mailbox.js';
import type { MailboxHealth } from './health.js';
import { ENV_MAILBOX_NAME, MailboxSettingsError } from './mailbox-store.js';
import { PollerManager, type PollerManagerOptions } from './poller-manager.js';
import type { PollerTiming } from './poller.js';

export type { MailboxHealth } from './health.js';

/** Dependencies of the IMAP role, supplied by the application. */
export interface ImapDeps extends PollerManagerOptions {
  prisma: PrismaClient;
  config: Config;
  journal: Journal;
  logger: Logger;
  /** Called with the journal id of each message the pollers journal, e.g. to queue its processing. */
  onJournaled: (journalId: string) => void;
  /** Extra trusted CA certificates (PEM) for servers with a private CA. */
  ca?: string | Buffer;
  timing?: Partial<PollerTiming>;
  batchSize?: number;
}

/** The running IMAP role. */
export interface ImapService {
  stop(): Promise<void>;
  health(): MailboxHealth[];
}

/**
 * Starts the IMAP role: applies the IMAP_* mailbox, then polls every enabled
 * mailbox until stop() is called. Resolves once the pollers have started; their
 * connections are made in the background and reported through health().
 */
export async function startImap(deps: ImapDeps): Promise<ImapService> {
  const log = deps.logger.child({ component: 'imap' });
  await applyEnvironmentMailbox(deps, log);

  const manager = new PollerManager(
    {
      prisma: deps.prisma,
      journal: deps.journal,
      logger: deps.logger,
      credentialKey: deps.config.credentialKey,
      onJournaled: deps.onJournaled,
      ...(deps.ca ? { ca: deps.ca } : {}),
      ...(deps.timing ? { timing: deps.timing } : {}),
      ...(deps.batchSize ? { batchSize: deps.batchSize } : {}),
    },
    deps,
  );
  await manager.start();
  log.info({ mailboxes: manager.health().length }, 'IMAP pollers started');

  return {
    stop: async () => {
      await manager.stop();
      log.info('IMAP pollers stopped');
    },
    health: () => manager.health(),
  };
}

/**
 * A bad IMAP_* mailbox must not stop the mailboxes configured in the database, so
 * its error is logged and stored on its row, which is disabled until the next start.
 */
async function applyEnvironmentMailbox(deps: ImapDeps, log: Logger): Promise<void> {
  try {
    await syncEnvironmentMailbox(deps.prisma, deps.config, log);
  } catch (error) {
    if (!(error instanceof MailboxSettingsError)) throw error;
    log.error({ mailbox: ENV_MAILBOX_NAME, problems: error.problems }, 'mailbox from the environment not started: invalid settings');
    await deps.prisma.mailbox.updateMany({
      where: { name: ENV_MAILBOX_NAME },
      data: { enabled: false, connected: false, lastError: error.problems.join('; '), lastErrorAt: new Date() },
    });
  }
}
