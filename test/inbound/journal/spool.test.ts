import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { Spool } from '../../../src/inbound/journal/spool.js';

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

  it('commits many messages written at once', async () => {
    const spool = await createSpool();

    const entries = await Promise.all(Array.from({ length: 20 }, (_, index) => spool.writeStream(Readable.from([Buffer.from(message(index))]), 'smtp', envelope, { maxBytes: 10_000 })));

    expect(new Set(entries.map((entry) => entry.id)).size).toBe(20);
    expect((await spool.listUnregistered()).map((entry) => entry.messageId).sort()).toEqual(entries.map((entry) => entry.messageId).sort());
  });

  it('discards a torn entry at the next start', async () => {
    const spool = await createSpool();
    const kept = await spool.writeBuffer(Buffer.from(message(1)), 'smtp', envelope);
    await writeFile(path.join(spool.newDir, 'torn.eml'), message(2));
    await writeFile(path.join(spool.newDir, 'torn.json'), '{"id":"torn","dedupe');

    const entries = await spool.listUnregistered();

    expect(entries.map((entry) => entry.id)).toEqual([kept.id]);
    expect((await readdir(spool.newDir)).sort()).toEqual([`${kept.id}.eml`, `${kept.id}.json`]);
  });
});
