import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { syncDirectory } from '../../util/sync-directory.js';
import { MessageScanner } from './message-scanner.js';

/** Source of a message. */
export type JournalSource = 'smtp' | 'imap';

/** The SMTP envelope, or its IMAP equivalent. */
export interface Envelope {
  mailFrom: string | null;
  rcptTo: string[];
  remoteAddress?: string;
  clientHostname?: string;
}

/** The IMAP position of a message, for the pollers. */
export interface MailboxPosition {
  mailboxId: number;
  uidValidity: bigint;
  uid: bigint;
  /** False for old mail imported on a mailbox's first connection, which sends no notifications. */
  notify?: boolean;
}

/** The metadata of a journaled message, as written beside the raw file. */
export interface SpoolEntry {
  id: string;
  source: JournalSource;
  receivedAt: string;
  size: number;
  sha256: string;
  messageId: string | null;
  dedupeKey: string;
  envelope: Envelope;
  mailbox?: { mailboxId: number; uidValidity: string; uid: string };
  /** False when processing must not mail anyone (old mail imported from a mailbox). */
  notify?: boolean;
}

/** Raised when a message is larger than the limit; nothing of it is kept. */
export class MessageTooLargeError extends Error {
  readonly code = 'MESSAGE_TOO_LARGE';
  readonly responseCode = 552;

  constructor(readonly limit: number) {
    super(`message exceeds the maximum size of ${limit} bytes`);
    this.name = 'MessageTooLargeError';
  }
}

/**
 * Raised for a message with a line feed that no carriage return precedes. RFC 5321,
 * section 2.3.8, forbids them, and servers that read them as line ends differently
 * are open to SMTP smuggling.
 */
export class BareLineFeedError extends Error {
  readonly code = 'BARE_LINE_FEED';
  readonly responseCode = 550;

  constructor() {
    super('5.6.2 Message contains a bare LF line ending; lines must end with CRLF (RFC 5321, section 2.3.8)');
    this.name = 'BareLineFeedError';
  }
}

/**
 * The durable spool of raw messages. A message is written to `new/<id>.eml` and
 * synced, then its metadata is written to `new/<id>.json` and synced, then the folder
 * is synced (once for all the messages committing at that moment). Only then does
 * SMTP reply 250. A .json that a crash left torn is discarded at the next start.
 * Registered messages move to `YYYY-MM-DD/<id>.eml`, where the original stays viewable.
 */
export class Spool {
  readonly newDir: string;

  private readonly directorySync: DirectorySync;

  constructor(readonly journalDir: string) {
    this.newDir = path.join(journalDir, 'new');
    this.directorySync = new DirectorySync(this.newDir);
  }

  async init(): Promise<void> {
    await mkdir(this.newDir, { recursive: true });
    // Leftovers of writes that never reached their commit point.
    for (const name of await readdir(this.newDir)) {
      if (name.endsWith('.tmp')) await rm(path.join(this.newDir, name), { force: true });
    }
    for (const name of await readdir(this.newDir)) {
      if (name.endsWith('.eml') && !(await exists(path.join(this.newDir, name.replace(/\.eml$/, '.json'))))) {
        await rm(path.join(this.newDir, name), { force: true });
      }
    }
  }

  /**
   * Write a message from a stream. Resolves with the committed entry; rejects with
   * MessageTooLargeError past `maxBytes`, or with the write error, after removing
   * what was written. The stream is always read to its end.
   */
  async writeStream(
    input: Readable,
    source: JournalSource,
    envelope: Envelope,
    options: { maxBytes: number; rejectBareLineFeeds?: boolean },
    mailbox?: MailboxPosition,
  ): Promise<SpoolEntry> {
    const maxBytes = options.maxBytes;
    const id = createJournalId();
    const emlPath = path.join(this.newDir, `${id}.eml`);
    const scanner = new MessageScanner();
    let tooLarge = false;

    const limiter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        if (tooLarge) return callback();
        if (scanner.digestedSize + chunk.length > maxBytes) {
          tooLarge = true;
          return callback();
        }
        scanner.update(chunk);
        callback(null, chunk);
      },
    });

    // pipe() rather than pipeline(): a failed write must not destroy the SMTP data
    // stream, which has to be read to its end before the server can reply.
    input.pipe(limiter);
    try {
      await pipeline(limiter, createWriteStream(emlPath, { flush: true }));
      if (tooLarge) throw new MessageTooLargeError(maxBytes);
      if (options.rejectBareLineFeeds && scanner.hasBareLineFeed) throw new BareLineFeedError();
      return await this.commit(id, source, envelope, scanner, mailbox);
    } catch (error) {
      input.unpipe(limiter);
      input.resume();
      await rm(emlPath, { force: true });
      throw error;
    }
  }

  /** Write a message that is already in memory (IMAP fetches one at a time). */
  async writeBuffer(raw: Buffer, source: JournalSource, envelope: Envelope, mailbox?: MailboxPosition): Promise<SpoolEntry> {
    const id = createJournalId();
    const emlPath = path.join(this.newDir, `${id}.eml`);
    const scanner = new MessageScanner();
    scanner.update(raw);

    try {
      await writeFile(emlPath, raw, { flush: true });
      return await this.commit(id, source, envelope, scanner, mailbox);
    } catch (error) {
      await rm(emlPath, { force: true });
      throw error;
    }
  }

  /** Entries committed to `new/` and not yet registered in the database. */
  async listUnregistered(): Promise<SpoolEntry[]> {
    const entries: SpoolEntry[] = [];
    for (const name of (await readdir(this.newDir)).sort()) {
      if (!name.endsWith('.json')) continue;
      const entry = parseEntry(await readFile(path.join(this.newDir, name), 'utf8'));
      if (entry) {
        entries.push(entry);
        continue;
      }
      // Torn by a crash before its sync returned, so the sender never got a 250 for it.
      await rm(path.join(this.newDir, name), { force: true });
      await rm(path.join(this.newDir, name.replace(/\.json$/, '.eml')), { force: true });
    }
    return entries;
  }

  /** Return the path, relative to the journal folder, of a registered message. */
  archivePath(entry: SpoolEntry): string {
    return path.join(entry.receivedAt.slice(0, 10), `${entry.id}.eml`);
  }

  /** Move an entry's message to its archive path. Safe to call again after a crash. */
  async moveToArchive(entry: SpoolEntry): Promise<void> {
    const target = path.join(this.journalDir, this.archivePath(entry));
    const source = path.join(this.newDir, `${entry.id}.eml`);
    if (await exists(source)) {
      await mkdir(path.dirname(target), { recursive: true });
      await rename(source, target);
    }
  }

  /** Remove an entry's metadata once its database row exists; it leaves the spool then. */
  async removeMetadata(entry: SpoolEntry): Promise<void> {
    await rm(path.join(this.newDir, `${entry.id}.json`), { force: true });
  }

  private async commit(id: string, source: JournalSource, envelope: Envelope, scanner: MessageScanner, mailbox?: MailboxPosition): Promise<SpoolEntry> {
    const scan = scanner.digest();
    const entry: SpoolEntry = {
      id,
      source,
      receivedAt: new Date().toISOString(),
      size: scan.size,
      sha256: scan.sha256,
      messageId: scan.messageId,
      dedupeKey: scan.dedupeKey,
      envelope,
      ...(mailbox
        ? { mailbox: { mailboxId: mailbox.mailboxId, uidValidity: mailbox.uidValidity.toString(), uid: mailbox.uid.toString() } }
        : {}),
      ...(mailbox?.notify === false ? { notify: false } : {}),
    };

    // The .json needs no temporary name: until the folder sync below returns, no 250
    // has been sent, so a .json that a crash left torn is discarded at the next start.
    const jsonPath = path.join(this.newDir, `${id}.json`);
    try {
      await writeFile(jsonPath, JSON.stringify(entry), { flush: true });
      await this.directorySync.sync();
    } catch (error) {
      await rm(jsonPath, { force: true });
      throw error;
    }
    return entry;
  }
}

/** Create a sortable, unique id: arrival time in milliseconds, then random bits. */
function createJournalId(): string {
  return `${Date.now().toString(36).padStart(9, '0')}-${randomBytes(6).toString('hex')}`;
}

/** Parse a spool .json; returns null for one that is torn or not an entry. */
function parseEntry(text: string): SpoolEntry | null {
  try {
    const entry = JSON.parse(text) as SpoolEntry;
    return typeof entry.id === 'string' && typeof entry.dedupeKey === 'string' ? entry : null;
  } catch (error) {
    if (error instanceof SyntaxError) return null;
    throw error;
  }
}

/**
 * Folder syncs shared by many writers. A caller waits for a sync that started after
 * its call, so that the sync covers the files it created. Callers that arrive during
 * one sync share the next, so concurrent messages pay for one folder sync between them.
 */
class DirectorySync {
  private running: Promise<void> | null = null;
  private next: Promise<void> | null = null;

  constructor(private readonly directory: string) {}

  sync(): Promise<void> {
    if (!this.running) return this.start();
    this.next ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.next = null;
        return this.start();
      });
    return this.next;
  }

  private start(): Promise<void> {
    const run = syncDirectory(this.directory).finally(() => {
      if (this.running === run) this.running = null;
    });
    this.running = run;
    return run;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
