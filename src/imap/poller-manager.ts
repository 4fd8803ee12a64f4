import type { Logger } from '../logger.js';
import type { MailboxHealth } from './health.js';
import { listEnabledMailboxes, type Mailbox } from './mailbox-store.js';
import { MailboxPoller, type PollerDeps } from './poller.js';

/** Options of the manager beyond what each poller needs. */
export interface PollerManagerOptions {
  /** How often the mailbox table is read again for added, changed, enabled or disabled mailboxes. */
  refreshIntervalMs?: number;
  /** How often each mailbox's health is logged. */
  healthLogIntervalMs?: number;
}

interface RunningPoller {
  poller: MailboxPoller;
  settings: string;
}

/**
 * Runs one poller per enabled mailbox. Each poller retries on its own, so a
 * failing mailbox never holds up the others. Changes made with the CLI (another
 * process) are picked up at the next refresh.
 */
export class PollerManager {
  private readonly pollers = new Map<number, RunningPoller>();
  private readonly log: Logger;
  private refreshTimer: NodeJS.Timeout | null = null;
  private healthTimer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly deps: PollerDeps,
    private readonly options: PollerManagerOptions = {},
  ) {
    this.log = deps.logger.child({ component: 'imap' });
  }

  /** Starts a poller for each enabled mailbox and the periodic refresh. */
  async start(): Promise<void> {
    await this.refresh();
    this.refreshTimer = setInterval(() => void this.refresh(), this.options.refreshIntervalMs ?? 30_000);
    this.healthTimer = setInterval(() => this.logHealth(), this.options.healthLogIntervalMs ?? 600_000);
  }

  /** Reads the mailbox table and starts, restarts or stops pollers to match it. Failures are logged. */
  refresh(): Promise<void> {
    this.refreshing ??= this.applyMailboxTable()
      .catch((error: unknown) => this.log.error({ err: error }, 'reading the mailbox table failed'))
      .finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  /** The health of every running poller. */
  health(): MailboxHealth[] {
    return [...this.pollers.values()].map(({ poller }) => poller.health());
  }

  /** Stops every poller and waits for them. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    if (this.healthTimer) clearInterval(this.healthTimer);
    await this.refreshing;
    await Promise.all([...this.pollers.values()].map(({ poller }) => poller.stop()));
    this.pollers.clear();
  }

  private async applyMailboxTable(): Promise<void> {
    const rows = await listEnabledMailboxes(this.deps.prisma);
    if (this.stopped) return;

    const wanted = new Set(rows.map((row) => row.id));
    for (const [id, running] of this.pollers) {
      if (wanted.has(id)) continue;
      this.pollers.delete(id);
      await running.poller.stop();
    }

    for (const row of rows) {
      const settings = settingsFingerprint(row);
      const running = this.pollers.get(row.id);
      if (running?.settings === settings) continue;

      if (running) {
        this.log.info({ mailbox: row.name }, 'mailbox settings changed; reconnecting');
        await running.poller.stop();
      }
      const poller = new MailboxPoller(row.id, row.name, this.deps);
      this.pollers.set(row.id, { poller, settings });
      poller.start();
    }
  }

  private logHealth(): void {
    for (const health of this.health()) {
      const { name, ...fields } = health;
      this.log.info({ ...fields, mailbox: name }, 'mailbox health');
    }
  }
}

/** The columns whose change needs a new connection; health and position columns are left out. */
function settingsFingerprint(row: Mailbox): string {
  return JSON.stringify([
    row.name,
    row.host,
    row.port,
    row.tls,
    row.user,
    row.authMethod,
    row.secretEncrypted,
    row.folder,
    row.processedAction,
    row.processedFolder,
    row.importExisting,
    row.departmentId,
    row.address,
  ]);
}
