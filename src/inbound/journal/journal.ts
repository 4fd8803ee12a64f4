import path from 'node:path';
import type { PrismaClient } from '../../db/client.js';
import type { Logger } from '../../logger.js';
import { Spool, type Envelope, type InvalidSpoolFile, type MailboxPosition, type SpoolEntry, type JournalSource } from './spool.js';

export { BareLineFeedError, MessageTooLargeError, type Envelope, type MailboxPosition, type SpoolEntry, type JournalSource } from './spool.js';

/** Entries per registration transaction; it keeps the statement's parameters far below SQLite's limit. */
export const REGISTRATION_BATCH_SIZE = 100;

/**
 * The inbound journal: the durable spool of raw messages plus one database row per
 * message. A message is safe once the spool has it; the row follows right after,
 * or at the next start if the process died in between.
 */
export class Journal {
  readonly spool: Spool;
  private readonly log: Logger;

  constructor(
    private readonly prisma: PrismaClient,
    dataDir: string,
    logger: Logger,
  ) {
    this.spool = new Spool(path.join(dataDir, 'journal'));
    this.log = logger.child({ component: 'journal' });
  }

  async init(): Promise<void> {
    await this.spool.init();
  }

  /** Journal a message held in memory (from IMAP) and register it. Returns the journal id. */
  async appendBuffer(raw: Buffer, source: JournalSource, envelope: Envelope, mailbox?: MailboxPosition): Promise<SpoolEntry> {
    const entry = await this.spool.writeBuffer(raw, source, envelope, mailbox);
    await this.register(entry);
    return entry;
  }

  /** Write the database row for a committed spool entry, then move its file out of the spool. Safe to repeat. */
  async register(entry: SpoolEntry): Promise<void> {
    // The row comes first, because the spool file's trailer contains the only other copy
    // of the metadata until then. A processor that finds the row before the file has
    // moved (the sweep of another process, say) reads it from the spool.
    await this.prisma.inboundMessage.upsert({ where: { id: entry.id }, create: this.toRow(entry), update: {} });
    await this.spool.archive(entry);
    this.log.debug({ journalId: entry.id, messageId: entry.messageId, source: entry.source }, 'message registered');
  }

  /**
   * Register many entries with one transaction, so that a burst of mail costs one
   * database sync rather than one per message. Entries that already have a row are
   * left as they are. When the batch fails (another process registered one of them
   * in between, say), each entry is registered on its own.
   */
  async registerAll(entries: SpoolEntry[]): Promise<void> {
    if (entries.length <= 1) {
      if (entries[0]) await this.register(entries[0]);
      return;
    }

    const rows = entries.map((entry) => this.toRow(entry));
    try {
      await this.prisma.$transaction(async (tx) => {
        const existing = await tx.inboundMessage.findMany({ where: { id: { in: rows.map((row) => row.id) } }, select: { id: true } });
        const known = new Set(existing.map((row) => row.id));
        const missing = rows.filter((row) => !known.has(row.id));
        if (missing.length > 0) await tx.inboundMessage.createMany({ data: missing });
      });
    } catch (error) {
      this.log.warn({ err: error, count: entries.length }, 'batch registration failed; registering the entries one by one');
      for (const entry of entries) await this.register(entry);
      return;
    }
    for (const entry of entries) await this.spool.archive(entry);
    this.log.debug({ count: entries.length }, 'messages registered');
  }

  /** Register every entry that a crash left in the spool. Returns how many there were. */
  async recover(): Promise<number> {
    const { entries, invalid } = await this.spool.listUnregistered();
    for (const item of invalid) await this.recoverInvalid(item);
    for (let start = 0; start < entries.length; start += REGISTRATION_BATCH_SIZE) await this.registerAll(entries.slice(start, start + REGISTRATION_BATCH_SIZE));
    if (entries.length > 0) this.log.info({ count: entries.length }, 'spooled messages recovered');
    return entries.length;
  }

  /** Archive a registered file whose move a crash cut short, or discard a stale torn one. */
  private async recoverInvalid(item: InvalidSpoolFile): Promise<void> {
    const row = await this.prisma.inboundMessage.findUnique({ where: { id: item.id }, select: { id: true, rawPath: true, size: true } });
    if (row) {
      await this.spool.archiveRegistered(row);
      // An older version's .json may still lie beside it.
      await this.spool.discard(item);
      this.log.info({ journalId: row.id }, 'archived a registered message whose move was interrupted');
    } else if (item.stale) {
      await this.spool.discard(item);
      this.log.warn({ file: item.name, reason: item.reason }, 'incomplete spool file discarded; its sender was never sent a 250');
    } else {
      this.log.info({ file: item.name, reason: item.reason }, 'incomplete spool file left in place; another process may still be writing it');
    }
  }

  private toRow(entry: SpoolEntry) {
    return {
      id: entry.id,
      source: entry.source,
      sha256: entry.sha256,
      messageId: entry.messageId,
      dedupeKey: entry.dedupeKey,
      envelopeFrom: entry.envelope.mailFrom,
      envelopeTo: JSON.stringify(entry.envelope.rcptTo),
      size: entry.size,
      rawPath: this.spool.archivePath(entry),
      receivedAt: new Date(entry.receivedAt),
      ...(entry.mailbox
        ? { mailboxId: entry.mailbox.mailboxId, uidValidity: BigInt(entry.mailbox.uidValidity), uid: BigInt(entry.mailbox.uid) }
        : {}),
      notify: entry.notify !== false,
    };
  }

  /** Read the raw message of a journal row. */
  async readRaw(row: { id: string; rawPath: string; size: number }): Promise<Buffer> {
    return this.spool.readMessage(row);
  }

  /** Absolute path of a journal row's raw message. */
  rawFilePath(row: { rawPath: string }): string {
    return path.join(this.spool.journalDir, row.rawPath);
  }
}
