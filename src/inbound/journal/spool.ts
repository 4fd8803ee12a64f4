import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat, truncate, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MessageScanner } from './message-scanner.js';
import { SyncedFile } from '../../util/synced-file.js';
import { encodeTrailer, readExactly, readTrailer } from './spool-trailer.js';

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

/** The metadata of a journaled message, as written in the trailer of its spool file. */
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

/** Raised when the client disconnects before the end of the message; nothing of it is kept. */
export class ClientAbortedError extends Error {
  readonly code = 'CLIENT_ABORTED';

  constructor() {
    super('the client disconnected before the end of the message');
    this.name = 'ClientAbortedError';
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
 * A spool file without a valid trailer and without a database row is discarded once it
 * is this old. Younger ones may still be written by another process (an
 * `npm start -- smtp` beside the one that recovers), and smtp-server ends a session
 * that sends nothing for a minute.
 */
const TORN_FILE_AGE_MS = 15 * 60 * 1000;

/** A file in `new/` without a valid trailer. */
export interface InvalidSpoolFile {
  id: string;
  /** The file's name in `new/`. */
  name: string;
  reason: string;
  /** True once the file is too old for a writer to still be working on it. */
  stale: boolean;
}

/**
 * The durable spool of raw messages. A message is streamed to `new/<id>.eml`, followed
 * by a trailer with its metadata, and the file is synced (in steps while a large one
 * streams), then the folder is synced once for all the messages committing at that
 * moment. Only then does SMTP reply 250. A file that a crash left without a valid
 * trailer and without a database row was never acknowledged, and recovery discards it.
 * Registered messages move to `YYYY-MM-DD/<id>.eml` and lose the trailer, so the
 * archive contains each original as it arrived.
 */
export class Spool {
  readonly newDir: string;

  private readonly directorySync: DirectorySync;
  /** Entries found with a separate .json, which `archive` removes. */
  private readonly legacyIds = new Set<string>();
  /** Archive folders known to exist. */
  private readonly archiveFolders = new Set<string>();

  constructor(readonly journalDir: string) {
    this.newDir = path.join(journalDir, 'new');
    this.directorySync = new DirectorySync(this.newDir);
  }

  async init(): Promise<void> {
    await mkdir(this.newDir, { recursive: true });
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
    // stream, which has to be read to its end before the server can reply. pipe() does
    // not pass on the end of a stream that is destroyed (smtp-server destroys it when
    // the client disconnects during DATA), so that case is passed on here.
    const onClose = () => {
      if (!input.readableEnded) limiter.destroy(new ClientAbortedError());
    };
    input.once('close', onClose);
    input.pipe(limiter);
    let file: SyncedFile | null = null;
    try {
      file = await SyncedFile.create(this.entryPath(id));
      await pipeline(limiter, file.writable());
      if (tooLarge) throw new MessageTooLargeError(maxBytes);
      if (options.rejectBareLineFeeds && scanner.hasBareLineFeed) throw new BareLineFeedError();
      return await this.commit(file, id, source, envelope, scanner, mailbox);
    } catch (error) {
      input.unpipe(limiter);
      input.resume();
      await (file ? file.discard() : rm(this.entryPath(id), { force: true }));
      throw error;
    } finally {
      input.off('close', onClose);
    }
  }

  /** Write a message that is already in memory (IMAP fetches one at a time). */
  async writeBuffer(raw: Buffer, source: JournalSource, envelope: Envelope, mailbox?: MailboxPosition): Promise<SpoolEntry> {
    const id = createJournalId();
    const scanner = new MessageScanner();
    scanner.update(raw);

    const file = await SyncedFile.create(this.entryPath(id));
    try {
      await file.write([raw]);
      return await this.commit(file, id, source, envelope, scanner, mailbox);
    } catch (error) {
      await file.discard();
      throw error;
    }
  }

  /**
   * List the entries committed to `new/` and not yet registered in the database, in
   * id order (arrival order to the millisecond). Files without a valid trailer are
   * listed apart in `invalid`. Such a file may be torn (its sender never got a 250),
   * still being written by another process, or registered already, with a crash
   * between cutting its trailer and moving it. Only the database can tell which.
   */
  async listUnregistered(now = Date.now()): Promise<{ entries: SpoolEntry[]; invalid: InvalidSpoolFile[] }> {
    const entries: SpoolEntry[] = [];
    const invalid: InvalidSpoolFile[] = [];
    for (const name of (await readdir(this.newDir)).sort()) {
      const file = path.join(this.newDir, name);
      const id = name.replace(/\.(eml|json|tmp)$/, '');
      if (name.endsWith('.json')) continue;

      // Written by versions that kept the metadata in a .json beside the message.
      if (name.endsWith('.eml') && (await exists(path.join(this.newDir, `${id}.json`)))) {
        const entry = parseLegacyEntry(await readFile(path.join(this.newDir, `${id}.json`), 'utf8'));
        if (entry) {
          entries.push(entry);
          this.legacyIds.add(entry.id);
        } else await this.listInvalid(invalid, name, id, 'torn metadata file', now);
        continue;
      }

      if (!name.endsWith('.eml')) {
        await this.listInvalid(invalid, name, id, 'not a spool file', now);
        continue;
      }
      const result = await readSpoolFile(file, id);
      if (result === null) continue;
      if ('entry' in result) entries.push(result.entry);
      else await this.listInvalid(invalid, name, id, result.invalid, now);
    }
    return { entries, invalid };
  }

  /** Remove an invalid file, if it is still in `new/`, and the .json beside it if there is one. */
  async discard(item: InvalidSpoolFile): Promise<void> {
    await rm(path.join(this.newDir, item.name), { force: true });
    await rm(path.join(this.newDir, `${item.id}.json`), { force: true });
  }

  /** Return the path, relative to the journal folder, of a registered message. */
  archivePath(entry: Pick<SpoolEntry, 'id' | 'receivedAt'>): string {
    return path.join(entry.receivedAt.slice(0, 10), `${entry.id}.eml`);
  }

  /**
   * Cut off an entry's trailer and move its file to its archive path. Call it only
   * after the entry's database row exists, because the row then contains the metadata.
   * Safe to call again after a crash, and by two processes at once.
   */
  async archive(entry: SpoolEntry): Promise<void> {
    await this.archiveRegistered({ id: entry.id, rawPath: this.archivePath(entry), size: entry.size });
    if (this.legacyIds.delete(entry.id)) await rm(path.join(this.newDir, `${entry.id}.json`), { force: true });
  }

  /**
   * Archive the spool file of a registered row. The trailer is cut while the file is
   * still in `new/`, so a crash between the two steps leaves it where recovery looks.
   */
  async archiveRegistered(row: { id: string; rawPath: string; size: number }): Promise<void> {
    const source = this.entryPath(row.id);
    try {
      await truncate(source, row.size);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      return; // Archived already.
    }

    const target = path.join(this.journalDir, row.rawPath);
    const folder = path.dirname(target);
    if (!this.archiveFolders.has(folder)) {
      await mkdir(folder, { recursive: true });
      this.archiveFolders.add(folder);
    }
    try {
      await rename(source, target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      // Moved meanwhile by another process, or the archive folder was removed since it was made.
      if (await exists(source)) {
        await mkdir(folder, { recursive: true });
        await rename(source, target);
      }
    }
  }

  /**
   * Read the message bytes of an entry, wherever it is: in the archive, or still in
   * the spool when its row was written and the move has not happened yet.
   */
  async readMessage(entry: { id: string; rawPath: string; size: number }): Promise<Buffer> {
    // The archive is tried again last: the file may move between the first two tries.
    const candidates = [path.join(this.journalDir, entry.rawPath), this.entryPath(entry.id), path.join(this.journalDir, entry.rawPath)];
    let lastError: unknown;
    for (const candidate of candidates) {
      try {
        const handle = await open(candidate, 'r');
        try {
          return await readExactly(handle, 0, entry.size);
        } finally {
          await handle.close();
        }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        lastError = error;
      }
    }
    throw lastError;
  }

  private entryPath(id: string): string {
    return path.join(this.newDir, `${id}.eml`);
  }

  private async listInvalid(invalid: InvalidSpoolFile[], name: string, id: string, reason: string, now: number): Promise<void> {
    try {
      const { mtimeMs } = await stat(path.join(this.newDir, name));
      invalid.push({ id, name, reason, stale: now - mtimeMs >= TORN_FILE_AGE_MS });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  private async commit(file: SyncedFile, id: string, source: JournalSource, envelope: Envelope, scanner: MessageScanner, mailbox?: MailboxPosition): Promise<SpoolEntry> {
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

    await file.write([encodeTrailer(entry)]);
    await file.commit();
    await this.directorySync.sync();
    return entry;
  }
}

/** Create a sortable, unique id: arrival time in milliseconds, then random bits. */
function createJournalId(): string {
  return `${Date.now().toString(36).padStart(9, '0')}-${randomBytes(6).toString('hex')}`;
}

/** Read a spool file's trailer; returns null when the file is gone (another process registered it meanwhile). */
async function readSpoolFile(file: string, id: string): Promise<Awaited<ReturnType<typeof readTrailer<SpoolEntry>>> | null> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    return await readTrailer<SpoolEntry>(handle, id);
  } finally {
    await handle.close();
  }
}

/** Parse the .json of an older version's spool entry; returns null for one that is torn or not an entry. */
function parseLegacyEntry(text: string): SpoolEntry | null {
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
 * The folder stays open while syncs follow each other, and is closed when none waits.
 */
class DirectorySync {
  private running: Promise<void> | null = null;
  private next: Promise<void> | null = null;
  private handle: Promise<FileHandle> | null = null;

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
    const run = this.syncOnce().finally(() => {
      if (this.running === run) this.running = null;
      if (!this.next) this.close();
    });
    this.running = run;
    return run;
  }

  private async syncOnce(): Promise<void> {
    this.handle ??= open(this.directory, 'r');
    try {
      await (await this.handle).sync();
    } catch (error) {
      this.close();
      throw error;
    }
  }

  private close(): void {
    const handle = this.handle;
    this.handle = null;
    handle?.then((opened) => opened.close()).catch(() => undefined);
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
