import { mkdir, mkdtemp, open, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { Spool } from '../../src/inbound/journal/spool.js';
import { summarizeLatencies, nowMs, type LatencySummary } from './stats.js';

/** Durations of the disk operations the journal's commit is made of. */
export interface DiskProbe {
  folder: string;
  /** Write 2 KiB to a new file and fsync it. */
  writeAndFsync2k: LatencySummary;
  /** fsync of the folder after a rename. */
  fsyncDirectory: LatencySummary;
  /** Spool.writeBuffer of a 2 KiB message: the journal's whole commit (one data sync of the message and its trailer, then a folder sync). */
  spoolCommit2k: LatencySummary;
  /** Spool.writeStream of a 2 KiB message, as the SMTP intake calls it, one at a time in an otherwise idle process. */
  spoolWriteStream2k: LatencySummary;
  /** The same with four calls in flight, as four SMTP connections make them. */
  spoolWriteStream2kConcurrent4: LatencySummary & { callsPerSecond: number };
}

const ENVELOPE = { mailFrom: 'probe@example.org', rcptTo: ['support@example.test'] };

/** Time `iterations` of each operation in a new folder under the system temp folder (where the bench's data folders live). */
export async function probeDisk(iterations = 200, trashDir?: string): Promise<DiskProbe> {
  const folder = await mkdtemp(path.join(os.tmpdir(), 'postdesk-bench-disk-'));
  try {
    const payload = Buffer.alloc(2048, 0x61);
    const writes: number[] = [];
    const directorySyncs: number[] = [];
    for (let index = 0; index < iterations; index++) {
      const start = nowMs();
      const file = await open(path.join(folder, `probe-${index}.tmp`), 'w');
      await file.write(payload);
      await file.sync();
      await file.close();
      writes.push(nowMs() - start);

      const directoryStart = nowMs();
      const directory = await open(folder, 'r');
      await directory.sync();
      await directory.close();
      directorySyncs.push(nowMs() - directoryStart);
    }

    const spool = new Spool(path.join(folder, 'journal'));
    await spool.init();
    const commits: number[] = [];
    for (let index = 0; index < iterations; index++) {
      const start = nowMs();
      await spool.writeBuffer(payload, 'smtp', ENVELOPE);
      commits.push(nowMs() - start);
    }

    const sequential: number[] = [];
    for (let index = 0; index < iterations; index++) sequential.push(await timeWriteStream(spool, payload));

    const concurrent: number[] = [];
    const concurrentStart = nowMs();
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let index = 0; index < iterations / 4; index++) concurrent.push(await timeWriteStream(spool, payload));
      }),
    );
    const callsPerSecond = concurrent.length / ((nowMs() - concurrentStart) / 1000);

    return {
      folder: os.tmpdir(),
      writeAndFsync2k: summarizeLatencies(writes),
      fsyncDirectory: summarizeLatencies(directorySyncs),
      spoolCommit2k: summarizeLatencies(commits),
      spoolWriteStream2k: summarizeLatencies(sequential),
      spoolWriteStream2kConcurrent4: { ...summarizeLatencies(concurrent), callsPerSecond },
    };
  } finally {
    // Moved rather than removed when the caller gives a trash folder: see trashDir in smtp-cases.ts.
    if (trashDir) {
      await mkdir(trashDir, { recursive: true });
      await rename(folder, path.join(trashDir, path.basename(folder)));
    } else await rm(folder, { recursive: true, force: true });
  }
}

async function timeWriteStream(spool: Spool, payload: Buffer): Promise<number> {
  const input = new PassThrough();
  const start = nowMs();
  const written = spool.writeStream(input, 'smtp', ENVELOPE, { maxBytes: 1024 * 1024 });
  input.end(payload);
  await written;
  return nowMs() - start;
}
