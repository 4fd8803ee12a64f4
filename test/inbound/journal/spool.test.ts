import { mkdtemp, readdir, readFile, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Spool, type SpoolEntry } from '../../../src/inbound/journal/spool.js';
import { encodeTrailer } from '../../../src/inbound/journal/spool-trailer.js';

describe('Spool', () => {
  const folders: string[] = [];

  afterEach(async () => {
    for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true });
  });

  async function createSpool() {
    const folder = await mkdtemp(path.join(os.tmpdir(), 'postdesk-spool-'));
    folders.push(folder);
    const spool = new Spool(folder);
    await spool.init();
    return spool;
  }

  const envelope = { mailFrom: 'a@example.test', rcptTo: ['support@example.test'] };
  // A hand-written message: the spool only stores bytes.
  const message = (index: number) => `Message-ID: <${index}@example.test>\r\nSubject: ${index}\r\n\r\nbody ${index}\r\n`;
  const sixteenMinutesAgo = () => new Date(Date.now() - 16 * 60 * 1000);

  async function ageFile(file: string) {
    await utimes(file, sixteenMinutesAgo(), sixteenMinutesAgo());
  }

  it('commits many messages written at once', async () => {
    const spool = await createSpool();

    const entries = await Promise.all(Array.from({ length: 20 }, (_, index) => spool.writeStream(Readable.from([Buffer.from(message(index))]), 'smtp', envelope, { maxBytes: 10_000 })));

    expect(new Set(entries.map((entry) => entry.id)).size).toBe(20);
    const { entries: listed, invalid } = await spool.listUnregistered();
    expect(listed.map((entry) => entry.messageId).sort()).toEqual(entries.map((entry) => entry.messageId).sort());
    expect(invalid).toEqual([]);
  });

  it('keeps the metadata in one file after the message', async () => {
    const spool = await createSpool();
    const raw = Buffer.from(message(1));

    const entry = await spool.writeStream(Readable.from([raw.subarray(0, 10), raw.subarray(10)]), 'smtp', envelope, { maxBytes: 10_000 });

    expect(await readdir(spool.newDir)).toEqual([`${entry.id}.eml`]);
    const file = await readFile(path.join(spool.newDir, `${entry.id}.eml`));
    expect(file.subarray(0, entry.size).equals(raw)).toBe(true);
    expect(file.subarray(entry.size).toString()).toContain(`"messageId":"1@example.test"`);
    expect((await spool.listUnregistered()).entries).toEqual([entry]);
  });

  it('archives the message without its trailer', async () => {
    const spool = await createSpool();
    const raw = Buffer.from(message(2));
    const entry = await spool.writeBuffer(raw, 'imap', envelope);
    const row = { id: entry.id, rawPath: spool.archivePath(entry), size: entry.size };

    expect((await spool.readMessage(row)).equals(raw)).toBe(true);
    await spool.archive(entry);
    await spool.archive(entry);

    expect(await readdir(spool.newDir)).toEqual([]);
    expect((await readFile(path.join(spool.journalDir, row.rawPath))).equals(raw)).toBe(true);
    expect((await spool.readMessage(row)).equals(raw)).toBe(true);
  });

  it('lists an old file without a trailer as stale', async () => {
    const spool = await createSpool();
    const committed = await spool.writeBuffer(Buffer.from(message(1)), 'smtp', envelope);
    const torn = path.join(spool.newDir, '00000000-torn.eml');
    await writeFile(torn, message(2).repeat(4));
    await ageFile(torn);

    const { entries, invalid } = await spool.listUnregistered();
    expect(entries.map((entry) => entry.id)).toEqual([committed.id]);
    expect(invalid).toEqual([{ id: '00000000-torn', name: '00000000-torn.eml', reason: 'no trailer footer', stale: true }]);
    await spool.discard(invalid[0]!);

    expect(await readdir(spool.newDir)).toEqual([`${committed.id}.eml`]);
  });

  it('leaves a recent file without a trailer to its writer', async () => {
    const spool = await createSpool();
    const writing = path.join(spool.newDir, '00000000-writing.eml');
    await writeFile(writing, message(3));

    const { entries, invalid } = await spool.listUnregistered();

    expect(entries).toEqual([]);
    expect(invalid.map((item) => item.stale)).toEqual([false]);
    expect(await readdir(spool.newDir)).toEqual(['00000000-writing.eml']);
  });

  it('rejects a file whose trailer was cut short', async () => {
    const spool = await createSpool();
    const entry = await spool.writeBuffer(Buffer.from(message(4)), 'smtp', envelope);
    const file = path.join(spool.newDir, `${entry.id}.eml`);
    await truncate(file, (await stat(file)).size - 1);
    await ageFile(file);

    const { entries, invalid } = await spool.listUnregistered();

    expect(entries).toEqual([]);
    expect(invalid.map((item) => item.reason)).toEqual(['no trailer footer']);
  });

  it('rejects a file whose message bytes changed', async () => {
    const spool = await createSpool();
    const entry = await spool.writeBuffer(Buffer.from(message(5)), 'smtp', envelope);
    const file = path.join(spool.newDir, `${entry.id}.eml`);
    const bytes = await readFile(file);
    bytes[bytes.indexOf('body')] = 0x42;
    await writeFile(file, bytes);
    await ageFile(file);

    const { invalid } = await spool.listUnregistered();

    expect(invalid.map((item) => item.reason)).toEqual(['message checksum mismatch']);
  });

  it('rejects a trailer forged inside a torn message', async () => {
    const spool = await createSpool();
    // A sender's message that ends in a trailer of its own: if a crash cut the file
    // right after it, the forged metadata must not be taken for the real one.
    const prefix = Buffer.from(message(6));
    const forged: SpoolEntry = { id: 'forged', source: 'smtp', receivedAt: new Date().toISOString(), size: prefix.length, sha256: 'x', messageId: null, dedupeKey: 'forged', envelope };
    const body = Buffer.concat([prefix, encodeTrailer(forged)]);
    const entry = await spool.writeBuffer(Buffer.concat([body, Buffer.from('more text\r\n')]), 'smtp', envelope);
    const file = path.join(spool.newDir, `${entry.id}.eml`);
    await truncate(file, body.length);
    await ageFile(file);

    const { entries, invalid } = await spool.listUnregistered();

    expect(entries).toEqual([]);
    expect(invalid.map((item) => item.reason)).toEqual(['trailer names another entry']);
  });

  it('recovers an entry written with a separate metadata file', async () => {
    const spool = await createSpool();
    // The layout of earlier versions: the raw message, and its metadata in a .json beside it.
    const raw = message(7);
    const legacy: SpoolEntry = { id: '00000001-legacy', source: 'smtp', receivedAt: '2026-12-01T10:00:00.000Z', size: raw.length, sha256: 'sha', messageId: '7@example.test', dedupeKey: 'key', envelope };
    await writeFile(path.join(spool.newDir, `${legacy.id}.eml`), raw);
    await writeFile(path.join(spool.newDir, `${legacy.id}.json`), JSON.stringify(legacy));

    const { entries } = await spool.listUnregistered();
    expect(entries).toEqual([legacy]);
    await spool.archive(legacy);

    expect(await readdir(spool.newDir)).toEqual([]);
    expect(await readFile(path.join(spool.journalDir, spool.archivePath(legacy)), 'utf8')).toBe(raw);
  });

  it('lists an old unrelated file', async () => {
    const spool = await createSpool();
    const leftover = path.join(spool.newDir, '00000000-left.tmp');
    await writeFile(leftover, 'partial');
    await ageFile(leftover);

    const { invalid } = await spool.listUnregistered();
    expect(invalid).toEqual([{ id: '00000000-left', name: '00000000-left.tmp', reason: 'not a spool file', stale: true }]);
    await spool.discard(invalid[0]!);

    expect(await readdir(spool.newDir)).toEqual([]);
  });

  it('reads a message that is still in the spool', async () => {
    const spool = await createSpool();
    const raw = Buffer.from(message(8));
    const entry = await spool.writeBuffer(raw, 'smtp', envelope);

    const read = await spool.readMessage({ id: entry.id, rawPath: spool.archivePath(entry), size: entry.size });

    expect(read.equals(raw)).toBe(true);
  });

  it('reports a missing message file', async () => {
    const spool = await createSpool();

    await expect(spool.readMessage({ id: 'gone', rawPath: '2026-12-01/gone.eml', size: 10 })).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('leaves nothing behind past the size limit', async () => {
    const spool = await createSpool();
    const raw = Buffer.alloc(50_000, 0x61);

    await expect(spool.writeStream(Readable.from([raw.subarray(0, 30_000), raw.subarray(30_000)]), 'smtp', envelope, { maxBytes: 40_000 })).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE' });

    expect(await readdir(spool.newDir)).toEqual([]);
  });
});
