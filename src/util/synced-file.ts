import { open, rm, type FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

/**
 * Bytes written between two data syncs of one file. A 25 MB file synced only at its
 * end sends all of it to the disk at once, and the small messages that the journal
 * commits meanwhile wait behind that write for their own syncs. Syncing in steps keeps
 * the unsynced data, and so their wait, short. Sized for disks that write at least
 * 100 MB/s, where a step takes about 10 ms or less.
 */
export const SYNC_STEP_BYTES = 1024 * 1024;

/**
 * Writes wait in memory until this many bytes have gathered, so a small file (most
 * mail) costs one write call at its commit, and each call is a trip to libuv's
 * thread pool.
 */
export const WRITE_BUFFER_BYTES = 64 * 1024;

/**
 * A file being written durably: created exclusively, synced in steps of
 * `SYNC_STEP_BYTES`, and synced once more at the commit. The journal's spool files and
 * stored attachments are written this way.
 */
export class SyncedFile {
  private unsyncedBytes = 0;
  private closed = false;
  private syncs = 0;
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly syncStepBytes: number,
    private readonly bufferBytes: number,
  ) {}

  /** Create the file; fails if it exists. */
  static async create(file: string, options: { syncStepBytes?: number; bufferBytes?: number } = {}): Promise<SyncedFile> {
    return new SyncedFile(file, await open(file, 'wx'), options.syncStepBytes ?? SYNC_STEP_BYTES, options.bufferBytes ?? WRITE_BUFFER_BYTES);
  }

  /** Append `chunks`. They reach the file once `bufferBytes` have gathered, or at the commit. */
  async write(chunks: Buffer[]): Promise<void> {
    for (const chunk of chunks) {
      this.buffered.push(chunk);
      this.bufferedBytes += chunk.length;
    }
    if (this.bufferedBytes >= this.bufferBytes) await this.flush();
  }

  /** Write the buffered chunks, with a data sync each time `syncStepBytes` more bytes have been written. */
  private async flush(): Promise<void> {
    const chunks = this.buffered;
    this.buffered = [];
    this.bufferedBytes = 0;
    let batch: Buffer[] = [];
    let batchBytes = 0;
    for (const chunk of chunks) {
      let rest = chunk;
      while (this.unsyncedBytes + batchBytes + rest.length >= this.syncStepBytes) {
        const take = this.syncStepBytes - this.unsyncedBytes - batchBytes;
        batch.push(rest.subarray(0, take));
        rest = rest.subarray(take);
        await this.writeAll(batch);
        batch = [];
        batchBytes = 0;
        await this.sync();
        this.unsyncedBytes = 0;
      }
      if (rest.length > 0) {
        batch.push(rest);
        batchBytes += rest.length;
      }
    }
    if (batch.length > 0) {
      await this.writeAll(batch);
      this.unsyncedBytes += batchBytes;
    }
  }

  /** Data syncs so far, the commit's included. */
  get syncCount(): number {
    return this.syncs;
  }

  /** Return a writable stream into this file. Finishing the stream leaves the file open for more writes and the commit. */
  writable(): Writable {
    return new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        this.write([chunk]).then(() => callback(), callback);
      },
      writev: (chunks, callback) => {
        this.write(chunks.map(({ chunk }) => chunk as Buffer)).then(() => callback(), callback);
      },
    });
  }

  /**
   * Sync what is left and close the file. fdatasync also writes the file's size,
   * because the data cannot be read back without it (POSIX, fdatasync).
   */
  async commit(): Promise<void> {
    await this.flush();
    await this.sync();
    // The data is durable once the sync returns, so the caller need not wait for the close.
    this.closed = true;
    this.handle.close().catch(() => undefined);
  }

  /** Close the file if it is open and remove it. */
  async discard(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      await this.handle.close().catch(() => undefined);
    }
    await rm(this.path, { force: true });
  }

  private async sync(): Promise<void> {
    await this.handle.datasync();
    this.syncs++;
  }

  /** Write every byte of `chunks`: writev may write fewer bytes than it was given. */
  private async writeAll(chunks: Buffer[]): Promise<void> {
    let remaining = chunks;
    while (remaining.length > 0) {
      const { bytesWritten } = await this.handle.writev(remaining);
      remaining = skipBytes(remaining, bytesWritten);
    }
  }
}

function skipBytes(chunks: Buffer[], count: number): Buffer[] {
  let skipped = count;
  const rest: Buffer[] = [];
  for (const chunk of chunks) {
    if (skipped >= chunk.length) {
      skipped -= chunk.length;
      continue;
    }
    rest.push(skipped > 0 ? chunk.subarray(skipped) : chunk);
    skipped = 0;
  }
  return rest;
}
