import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { PrismaClient } from '../../db/client.js';
import type { Logger } from '../../logger.js';
import { Spool, type Envelope, type MailboxPosition, type SpoolEntry, type JournalSource } from './spool.js';

export { BareLineFeedError, MessageTooLargeError, type Envelope, type MailboxPosition, type SpoolEntry, type JournalSource } from './spool.js';

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
    const data = {
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
    // The file moves before the row exists, so a processor that finds the row (the
    // sweep of another process, say) always finds the file. The .json goes last.
    await this.spool.moveToArchive(entry);
    await this.prisma.inboundMessage.upsert({ where: { id: entry.id }, create: data, update: {} });
    await this.spool.removeMetadata(entry);
    this.log.debug({ journalId: entry.id, messageId: entry.messageId, source: entry.source }, 'message registered');
  }

  /** Register every entry that a crash left in the spool. Returns how many there were. */
  async recover(): Promise<number> {
    const entries = await this.spool.listUnregistered();
    for (const entry of entries) await this.register(entry);
    if (entries.length > 0) this.log.info({ count: entries.length }, 'spooled messages recovered');
    return entries.length;
  }

  /** Read the raw message of a journal row. */
  async readRaw(row: { rawPath: string }): Promise<Buffer> {
    return readFile(path.join(this.spool.journalDir, row.rawPath));
  }

  /** Absolute path of a journal row's raw message. */
  rawFilePath(row: { rawPath: string }): string {
    return path.join(this.spool.journalDir, row.rawPath);
  }
}
