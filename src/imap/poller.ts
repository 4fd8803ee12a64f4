import type { ImapFlow } from 'imapflow';
import type { PrismaClient } from '../db/client.js';
import type { Journal } from '../inbound/journal/journal.js';
import type { Logger } from '../logger.js';
import { computeRetryDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { closedPromise, createImapClient, findUidNext, folderPath, untilClosed } from './client.js';
import { classifyImapError, ImapWatchdogError, type ClassifiedImapError, type ConnectionTarget } from './errors.js';
import type { MailboxHealth } from './health.js';
import { importPending, type ImportContext } from './importer.js';
import { clearImportBoundary, loadImportBoundary, recordDisconnected, recordFailure, recordSuccess, resetPosition, saveImportBoundary, type FolderPosition, type ImportBoundary } from './mailbox-state.js';
import type { Mailbox } from './mailbox-store.js';
import { decideStartPosition } from './position.js';

/** Timings of a poller, in milliseconds. */
export interface PollerTiming {
  /** Interval of the safety poll that runs even while IDLE reports nothing; the only source of news on servers without IDLE. */
  pollIntervalMs: number;
  /** A connection that makes no progress for this long while busy is closed and opened again. */
  watchdogTimeoutMs: number;
  connectTimeoutMs: number;
  socketTimeoutMs: number;
  /** Quiet time after the last command before IDLE starts. */
  autoIdleDelayMs: number;
  backoff: BackoffOptions;
}

/** Production timings. */
export const DEFAULT_TIMING: PollerTiming = {
  pollIntervalMs: 60_000,
  watchdogTimeoutMs: 120_000,
  connectTimeoutMs: 30_000,
  socketTimeoutMs: 300_000,
  // Drains hold a mailbox lock, which keeps imapflow from starting IDLE between their
  // commands, so IDLE can start soon after a drain and new mail is not left unseen.
  autoIdleDelayMs: 100,
  backoff: DEFAULT_BACKOFF,
};

/** Dependencies of a poller, supplied by the application. */
export interface PollerDeps {
  prisma: PrismaClient;
  journal: Journal;
  logger: Logger;
  credentialKey: Buffer;
  onJournaled: (journalId: string) => void;
  /** Extra trusted CA certificates (PEM) for servers with a private CA. */
  ca?: string | Buffer;
  timing?: Partial<PollerTiming>;
  /** UIDs fetched, journaled and then moved or flagged together. */
  batchSize?: number;
}

/**
 * Reads one mailbox: connects, imports what waits above the stored position, then
 * waits for IDLE news or the safety poll. Any failure closes the connection and
 * reconnects after a growing delay; the failure is kept in the health status.
 */
export class MailboxPoller {
  private readonly timing: PollerTiming;
  private readonly log: Logger;
  private readonly status: MailboxHealth;
  private running: Promise<void> | null = null;
  private stopped = false;
  private client: ImapFlow | null = null;
  private position: FolderPosition | null = null;
  private importBoundary: ImportBoundary | null = null;
  private drainRequested = false;
  private wake: (() => void) | null = null;
  private busySince: number | null = null;
  private lastProgressAt = 0;
  private watchdogFailure: ImapWatchdogError | null = null;
  private lastLoggedError: string | null = null;
  private target: ConnectionTarget | null = null;

  constructor(
    readonly mailboxId: number,
    name: string,
    private readonly deps: PollerDeps,
  ) {
    this.timing = { ...DEFAULT_TIMING, ...deps.timing };
    this.log = deps.logger.child({ component: 'imap', mailbox: name, mailboxId });
    this.status = {
      mailboxId,
      name,
      state: 'connecting',
      connected: false,
      idle: null,
      lastSuccessAt: null,
      lastError: null,
      lastErrorAt: null,
      errorKind: null,
      backlog: 0,
      consecutiveFailures: 0,
      nextRetryAt: null,
    };
  }

  /** Starts polling in the background. */
  start(): void {
    this.running ??= this.run();
  }

  /** Closes the connection and waits until the poller has stopped. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    this.client?.close();
    await this.running;
    this.status.state = 'stopped';
    this.status.connected = false;
    await recordDisconnected(this.deps.prisma, this.mailboxId).catch((error: unknown) => this.log.warn({ err: error }, 'recording the disconnection failed'));
    this.log.info('mailbox poller stopped');
  }

  /** Returns a copy of the current health. */
  health(): MailboxHealth {
    return { ...this.status };
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        await this.session();
      } catch (error) {
        if (this.stopped) break;
        await this.recordSessionFailure(this.watchdogFailure ?? error);
        await this.sleep(this.status.nextRetryAt ? this.status.nextRetryAt.getTime() - Date.now() : 0);
      }
    }
  }

  /** Runs one connection from login to its end. Returns only when the poller stops, and throws when the connection fails. */
  private async session(): Promise<void> {
    this.watchdogFailure = null;
    this.markBusy();
    const row = await this.deps.prisma.mailbox.findUnique({ where: { id: this.mailboxId } });
    if (!row) throw new Error(`mailbox ${this.mailboxId} no longer exists`);
    this.target = { host: row.host, port: row.port, user: row.user, folder: row.folder };

    this.status.state = this.status.consecutiveFailures > 0 ? 'retrying' : 'connecting';
    const client = createImapClient(row, { ...this.timing, credentialKey: this.deps.credentialKey, ...(this.deps.ca ? { ca: this.deps.ca } : {}) }, this.log);
    this.client = client;
    const watchdog = setInterval(() => this.checkWatchdog(client), Math.min(1_000, this.timing.watchdogTimeoutMs / 4));

    try {
      const closed = closedPromise(client);
      await untilClosed(this.open(client, row), closed, client);
      this.markProgress();
      client.on('exists', (event) => {
        if (event.count > event.prevCount) this.requestDrain();
      });
      client.on('mailboxOpen', () => this.requestDrain());

      while (!this.stopped) {
        this.drainRequested = false;
        this.markBusy();
        await untilClosed(this.drain(client, row), closed, client);
        this.busySince = null;
        try {
          await Promise.race([this.waitForWork(), closed]);
        } finally {
          // Clears the wait's timer when the connection closed first.
          this.wake?.();
        }
      }
    } finally {
      clearInterval(watchdog);
      this.busySince = null;
      this.client = null;
      client.removeAllListeners('exists');
      client.removeAllListeners('mailboxOpen');
      client.close();
    }
  }

  private async open(client: ImapFlow, row: Mailbox): Promise<void> {
    await client.connect();
    this.markProgress();
    await client.mailboxOpen(folderPath(row.folder));
    this.markProgress();
    if (row.processedAction === 'move' && row.processedFolder) await client.mailboxCreate(folderPath(row.processedFolder));

    this.position = null;
    this.importBoundary = await loadImportBoundary(this.deps.prisma, this.mailboxId);
    this.status.connected = true;
    this.status.state = 'connected';
    this.status.idle = client.capabilities.has('IDLE');
    this.log.info({ host: row.host, port: row.port, folder: row.folder, idle: this.status.idle }, 'mailbox connected');
  }

  /** Imports everything waiting, then records the success. */
  private async drain(client: ImapFlow, row: Mailbox): Promise<void> {
    const lock = await client.getMailboxLock(folderPath(row.folder));
    try {
      const position = await this.currentPosition(client, row);
      const context: ImportContext = {
        client,
        prisma: this.deps.prisma,
        journal: this.deps.journal,
        log: this.log,
        mailboxId: this.mailboxId,
        address: row.address,
        processedAction: row.processedAction === 'flag' ? 'flag' : 'move',
        processedFolder: row.processedFolder ? folderPath(row.processedFolder) : null,
        importBoundary: this.importBoundary,
        batchSize: this.deps.batchSize ?? 50,
        onJournaled: (journalId) => {
          this.markProgress();
          this.deps.onJournaled(journalId);
        },
        onBatch: (batchPosition, backlog) => {
          this.position = batchPosition;
          this.status.backlog = backlog;
          this.markProgress();
        },
      };
      const result = await importPending(context, position);
      this.importBoundary = context.importBoundary;
      if (result.journaled > 0 || result.alreadyJournaled > 0) {
        this.log.info({ journaled: result.journaled, alreadyJournaled: result.alreadyJournaled, lastUid: result.position.lastUid.toString() }, 'messages imported');
      }
    } finally {
      lock.release();
    }

    await recordSuccess(this.deps.prisma, this.mailboxId, 0);
    this.status.backlog = 0;
    this.status.lastSuccessAt = new Date();
    if (this.status.consecutiveFailures > 0) this.log.info({ failures: this.status.consecutiveFailures }, 'mailbox recovered');
    this.status.consecutiveFailures = 0;
    this.status.nextRetryAt = null;
    this.lastLoggedError = null;
  }

  /** Returns the position to read from, after recording a first connection or a UIDVALIDITY change. */
  private async currentPosition(client: ImapFlow, row: Mailbox): Promise<FolderPosition> {
    const folder = client.mailbox;
    if (!folder) throw new Error('no folder is selected');

    const stored = this.position ?? { uidValidity: row.uidValidity, lastUid: row.lastUid };
    const uidNext = folder.uidNext > 0 ? folder.uidNext : await findUidNext(client);
    const decision = decideStartPosition(stored, row.importExisting, { uidValidity: folder.uidValidity, uidNext });
    if (decision.kind === 'resume') return decision.position;

    if (decision.kind === 'first-connection') {
      if (decision.importBoundary) await saveImportBoundary(this.deps.prisma, this.mailboxId, decision.importBoundary);
      this.importBoundary = decision.importBoundary;
      this.log.info({ uidValidity: decision.position.uidValidity.toString(), startAfterUid: decision.position.lastUid.toString(), importUpToUid: decision.importBoundary?.uid.toString() ?? null }, 'first connection to mailbox');
    } else {
      await clearImportBoundary(this.deps.prisma, this.mailboxId);
      this.importBoundary = null;
      this.log.warn({ previousUidValidity: decision.previousUidValidity.toString(), uidValidity: decision.position.uidValidity.toString() }, 'UIDVALIDITY changed; reading the whole folder again');
    }
    await resetPosition(this.deps.prisma, this.mailboxId, decision.position);
    this.position = decision.position;
    return decision.position;
  }

  private async recordSessionFailure(error: unknown): Promise<void> {
    const target = this.target ?? { host: 'unknown host', port: 0, user: 'unknown user', folder: 'INBOX' };
    const failure = classifyImapError(error, target);
    const failures = ++this.status.consecutiveFailures;
    const delay = computeRetryDelay(failures, failure, this.timing.backoff);
    const now = new Date();

    Object.assign(this.status, { state: 'retrying', connected: false, lastError: failure.message, lastErrorAt: now, errorKind: failure.kind, nextRetryAt: new Date(now.getTime() + delay) });
    this.logFailure(failure, failures, delay, error);
    await recordFailure(this.deps.prisma, this.mailboxId, failure.message, now).catch((dbError: unknown) => this.log.error({ err: dbError }, 'recording the mailbox failure failed'));
  }

  /** Logs the first failure and every change of error at warn, repeats at debug with a count. */
  private logFailure(failure: ClassifiedImapError, failures: number, retryInMs: number, error: unknown): void {
    const fields = { errorKind: failure.kind, code: failure.code, failures, retryInMs, error: failure.message };
    const repeated = this.lastLoggedError === failure.message && failures % 10 !== 0;
    this.lastLoggedError = failure.message;
    if (repeated) this.log.debug(fields, 'mailbox connection failed again');
    else if (failure.kind === 'unknown') this.log.error({ ...fields, err: error }, 'mailbox connection failed');
    else this.log.warn(fields, 'mailbox connection failed');
  }

  private requestDrain(): void {
    this.drainRequested = true;
    this.wake?.();
  }

  /** Resolves on IDLE news, at the next safety poll, or when the poller stops. */
  private waitForWork(): Promise<void> {
    if (this.drainRequested || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.timing.pollIntervalMs);
      this.wake = done;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private markBusy(): void {
    this.busySince = Date.now();
    this.lastProgressAt = this.busySince;
  }

  private markProgress(): void {
    this.lastProgressAt = Date.now();
  }

  /** Closes a connection that has been busy without progress for too long (a silent server). */
  private checkWatchdog(client: ImapFlow): void {
    if (this.busySince === null || this.watchdogFailure) return;
    if (Date.now() - this.lastProgressAt < this.timing.watchdogTimeoutMs) return;

    this.watchdogFailure = new ImapWatchdogError(this.timing.watchdogTimeoutMs);
    this.log.warn({ timeoutMs: this.timing.watchdogTimeoutMs }, 'server silent; closing the connection');
    client.close();
  }
}
