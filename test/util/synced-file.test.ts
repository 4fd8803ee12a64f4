import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SyncedFile } from '../../src/util/synced-file.js';

describe('SyncedFile', () => {
  let folder: string;

  beforeEach(async () => {
    folder = await mkdtemp(path.join(os.tmpdir(), 'postdesk-synced-file-'));
  });

  afterEach(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('writes chunks of any size in order', async () => {
    const data = randomBytes(10_000);
    const file = await SyncedFile.create(path.join(folder, 'a.eml'), { syncStepBytes: 1000, bufferBytes: 0 });
    const cuts = [0, 1, 999, 1000, 1001, 2500, 2501, 7000, 10_000];

    for (let index = 1; index < cuts.length; index++) await file.write([data.subarray(cuts[index - 1], cuts[index])]);
    await file.commit();

    expect((await readFile(file.path)).equals(data)).toBe(true);
  });

  it('syncs once per step and at the commit', async () => {
    const file = await SyncedFile.create(path.join(folder, 'b.eml'), { syncStepBytes: 1000, bufferBytes: 0 });

    await file.write([Buffer.alloc(2500), Buffer.alloc(400)]);
    expect(file.syncCount).toBe(2);
    await file.write([Buffer.alloc(100)]);
    expect(file.syncCount).toBe(3);
    await file.commit();

    expect(file.syncCount).toBe(4);
    expect((await stat(file.path)).size).toBe(3000);
  });

  it('buffers small writes until the commit', async () => {
    const file = await SyncedFile.create(path.join(folder, 'g.eml'), { bufferBytes: 1000 });

    await file.write([Buffer.alloc(400), Buffer.alloc(500)]);
    expect((await stat(file.path)).size).toBe(0);
    await file.write([Buffer.alloc(100)]);
    expect((await stat(file.path)).size).toBe(1000);
    await file.write([Buffer.alloc(10)]);
    await file.commit();

    expect((await stat(file.path)).size).toBe(1010);
    expect(file.syncCount).toBe(1);
  });

  it('syncs a small file once', async () => {
    const file = await SyncedFile.create(path.join(folder, 'c.eml'));

    await file.write([Buffer.alloc(2000)]);
    await file.commit();

    expect(file.syncCount).toBe(1);
  });

  it('takes a stream through its writable', async () => {
    const data = randomBytes(300_000);
    const file = await SyncedFile.create(path.join(folder, 'd.eml'), { syncStepBytes: 64 * 1024 });

    await pipeline(Readable.from([data.subarray(0, 100_000), data.subarray(100_000)]), file.writable());
    await file.commit();

    expect((await readFile(file.path)).equals(data)).toBe(true);
    expect(file.syncCount).toBe(5);
  });

  it('refuses to replace an existing file', async () => {
    await (await SyncedFile.create(path.join(folder, 'e.eml'))).commit();

    await expect(SyncedFile.create(path.join(folder, 'e.eml'))).rejects.toMatchObject({ code: 'EEXIST' });
  });

  it('removes the file on discard', async () => {
    const file = await SyncedFile.create(path.join(folder, 'f.eml'));
    await file.write([Buffer.from('partial')]);

    await file.discard();

    await expect(stat(file.path)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
