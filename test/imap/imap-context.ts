// Shared set-up for the IMAP tests: a migrated SQLite database and a journal in a
// temporary data folder, and a logger whose output the tests can search.
import { Writable } from 'node:stream';
import type { Config } from '../../src/config/config.ts';
import { openDatabase, type PrismaClient } from '../../src/db/client.ts';
import { Journal } from '../../src/inbound/journal/journal.ts';
import { createLogger, type Logger } from '../../src/logger.ts';
import { createMailbox, type MailboxSettings, type Mailbox } from '../../src/imap/mailbox-store.ts';
import type { PollerTiming } from '../../src/imap/poller.ts';
import { createTestConfig } from '../helpers/app.ts';

/** A database, journal and logger on a temporary data folder. */
export interface ImapTestContext {
  dataDir: string;
  config: Config;
  prisma: PrismaClient;
  journal: Journal;
  logger: Logger;
  /** Every log line written so far, as JSON text. */
  logLines: string[];
  close(): Promise<void>;
}

/** Timings that make the recovery tests quick; the safety poll is long, so news must come from IDLE. */
export const TEST_TIMING: Partial<PollerTiming> = {
  pollIntervalMs: 60_000,
  watchdogTimeoutMs: 3_000,
  connectTimeoutMs: 3_000,
  autoIdleDelayMs: 100,
  backoff: { initialMs: 100, maxMs: 1_000, permanentMs: 1_000 },
};

/** Creates the context; call close() in afterAll. */
export async function createImapTestContext(env: Record<string, string> = {}): Promise<ImapTestContext> {
  const { config, dataDir, cleanup } = await createTestConfig(env);
  const prisma = await openDatabase(config.databaseUrl);

  const logLines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logLines.push(...chunk.toString().split('\n').filter(Boolean));
      callback();
    },
  });
  const logger = createLogger('debug', destination);
  const journal = new Journal(prisma, dataDir, logger);
  await journal.init();

  return {
    dataDir,
    config,
    prisma,
    journal,
    logger,
    logLines,
    async close() {
      await prisma.$disconnect();
      await cleanup();
    },
  };
}

/** Creates a mailbox row pointing at a test server, with overridable settings. */
export async function addTestMailbox(context: ImapTestContext, settings: Partial<MailboxSettings> & Pick<MailboxSettings, 'name' | 'port' | 'user' | 'secret'>): Promise<Mailbox> {
  return createMailbox(
    context.prisma,
    {
      host: '127.0.0.1',
      tls: false,
      authMethod: 'password',
      folder: 'INBOX',
      processedAction: 'move',
      processedFolder: 'Postdesk/Processed',
      importExisting: false,
      departmentId: null,
      address: 'support@example.com',
      enabled: true,
      ...settings,
    },
    context.config.credentialKey,
  );
}

/** Polls `check` every 25 ms until it returns a truthy value, or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T> | T, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
