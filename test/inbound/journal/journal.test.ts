import { readdir, readFile, truncate, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type PrismaClient } from '../../../src/db/client.js';
import { Journal } from '../../../src/inbound/journal/journal.js';
import { createLogger } from '../../../src/logger.js';
import { createTestConfig } from '../../helpers/app.js';

describe('Journal', () => {
  let prisma: PrismaClient;
  let journal: Journal;
  let cleanup: () => Promise<void>;

  const envelope = { mailFrom: 'ann@customer.test', rcptTo: ['support@example.test'] };
  // A hand-written message: the journal only stores bytes.
  const raw = Buffer.from('Message-ID: <journal-1@customer.test>\r\nSubject: Journal\r\n\r\nHello.\r\n');

  beforeEach(async () => {
    const test = await createTestConfig();
    prisma = await openDatabase(test.config.databaseUrl);
    journal = new Journal(prisma, test.dataDir, createLogger('silent'));
    await journal.init();
    cleanup = test.cleanup;
  });

  afterEach(async () => {
    await prisma.$disconnect();
    await cleanup();
  });

  it('registers a row and archives the original', async () => {
    const entry = await journal.appendBuffer(raw, 'smtp', envelope);

    const row = await prisma.inboundMessage.findUniqueOrThrow({ where: { id: entry.id } });
    expect(row).toMatchObject({ status: 'pending', size: raw.length, messageId: 'journal-1@customer.test', envelopeFrom: 'ann@customer.test' });
    expect(await readdir(journal.spool.newDir)).toEqual([]);
    expect((await readFile(journal.rawFilePath(row))).equals(raw)).toBe(true);
    expect((await journal.readRaw(row)).equals(raw)).toBe(true);
  });

  it('finishes a registration cut short after its row', async () => {
    const entry = await journal.spool.writeBuffer(raw, 'smtp', envelope);
    const archive = journal.spool.archive.bind(journal.spool);
    journal.spool.archive = () => Promise.reject(new Error('process killed'));

    await expect(journal.register(entry)).rejects.toThrow('process killed');
    const row = await prisma.inboundMessage.findUniqueOrThrow({ where: { id: entry.id } });
    expect((await journal.readRaw(row)).equals(raw)).toBe(true);

    journal.spool.archive = archive;
    expect(await journal.recover()).toBe(1);

    expect(await prisma.inboundMessage.count()).toBe(1);
    expect(await readdir(journal.spool.newDir)).toEqual([]);
    expect((await readFile(journal.rawFilePath(row))).equals(raw)).toBe(true);
  });

  it('archives a file whose move a crash interrupted', async () => {
    const entry = await journal.spool.writeBuffer(raw, 'smtp', envelope);
    const archiveRegistered = journal.spool.archiveRegistered.bind(journal.spool);
    // The crash comes after the trailer is cut, before the file moves.
    journal.spool.archiveRegistered = async (row) => {
      await truncate(path.join(journal.spool.newDir, `${row.id}.eml`), row.size);
      throw new Error('process killed');
    };

    await expect(journal.register(entry)).rejects.toThrow('process killed');
    journal.spool.archiveRegistered = archiveRegistered;
    expect(await journal.recover()).toBe(0);

    const row = await prisma.inboundMessage.findUniqueOrThrow({ where: { id: entry.id } });
    expect(await readdir(journal.spool.newDir)).toEqual([]);
    expect((await readFile(journal.rawFilePath(row))).equals(raw)).toBe(true);
  });

  it('discards an old torn file that has no row', async () => {
    const torn = path.join(journal.spool.newDir, '00000000-torn.eml');
    await writeFile(torn, Buffer.concat([raw, raw, raw]));
    const longAgo = new Date(Date.now() - 16 * 60 * 1000);
    await utimes(torn, longAgo, longAgo);

    expect(await journal.recover()).toBe(0);

    expect(await readdir(journal.spool.newDir)).toEqual([]);
    expect(await prisma.inboundMessage.count()).toBe(0);
  });

  it('registers what a crash left in the spool', async () => {
    // The mailbox is never connected to: the row only has to exist for the entry's reference.
    const mailbox = await prisma.mailbox.create({ data: { name: 'inbox', host: '127.0.0.1', port: 1143, user: 'support', secretEncrypted: 'unused' } });
    const first = await journal.spool.writeBuffer(raw, 'smtp', envelope);
    const second = await journal.spool.writeBuffer(Buffer.concat([raw, Buffer.from('More.\r\n')]), 'imap', envelope, { mailboxId: mailbox.id, uidValidity: 7n, uid: 42n, notify: false });

    expect(await journal.recover()).toBe(2);

    // Ids written in the same millisecond sort by their random part, so compare as sets.
    const rows = await prisma.inboundMessage.findMany();
    expect(rows.map((row) => row.id).sort()).toEqual([first.id, second.id].sort());
    expect(rows.find((row) => row.id === second.id)).toMatchObject({ source: 'imap', mailboxId: mailbox.id, uidValidity: 7n, uid: 42n, notify: false });
    expect(await journal.recover()).toBe(0);
  });

  it('registers the rest of a batch when one entry has a row', async () => {
    const first = await journal.spool.writeBuffer(raw, 'smtp', envelope);
    const second = await journal.spool.writeBuffer(Buffer.concat([raw, Buffer.from('Again.\r\n')]), 'smtp', envelope);
    await journal.register(first);

    await journal.registerAll([first, second]);

    expect((await prisma.inboundMessage.findMany()).map((row) => row.id).sort()).toEqual([first.id, second.id].sort());
    expect(await readdir(journal.spool.newDir)).toEqual([]);
  });

  it('falls back to one registration at a time when a batch fails', async () => {
    const good = await journal.spool.writeBuffer(raw, 'smtp', envelope);
    // No mailbox 999 exists, so this entry's row breaks its foreign key.
    const broken = await journal.spool.writeBuffer(raw, 'imap', envelope, { mailboxId: 999, uidValidity: 1n, uid: 1n });

    await expect(journal.registerAll([good, broken])).rejects.toThrow(/Foreign key/);

    expect((await prisma.inboundMessage.findMany()).map((row) => row.id)).toEqual([good.id]);
    expect(await readdir(journal.spool.newDir)).toEqual([`${broken.id}.eml`]);
  });
});
