import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.ts';
import { startImap, type ImapService } from '../../src/imap/index.ts';
import { createLogger } from '../../src/logger.ts';
import { createTestApp } from '../helpers/app.ts';
import { makeMessage, startDovecot, type DovecotServer } from '../helpers/dovecot.ts';
import { sendRaw } from '../helpers/smtp-client.ts';
import { addTestMailbox, TEST_TIMING, waitFor, type ImapTestContext } from './imap-context.ts';

describe('IMAP into the inbound pipeline', () => {
  let dovecot: DovecotServer;
  let app: App;
  let cleanup: () => Promise<void>;
  const logLines: string[] = [];

  beforeAll(async () => {
    dovecot = await startDovecot();
    ({ app, cleanup } = await createTestApp({}, ['smtp', 'inbound']));
  });

  afterAll(async () => {
    await dovecot?.destroy();
    await cleanup?.();
  });

  /** Builds the test context that the mailbox helpers take, from the app's parts. */
  function appContext(): ImapTestContext {
    return { dataDir: app.config.dataDir, config: app.config, prisma: app.prisma, journal: app.journal, logger: app.logger, logLines, close: async () => undefined };
  }

  async function startService(): Promise<ImapService> {
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logLines.push(...chunk.toString().split('\n').filter(Boolean));
        callback();
      },
    });
    return startImap({
      prisma: app.prisma,
      config: app.config,
      journal: app.journal,
      logger: createLogger('debug', destination),
      onJournaled: (journalId) => app.processor!.enqueue(journalId),
      timing: TEST_TIMING,
      refreshIntervalMs: 200,
    });
  }

  async function folderCount(user: string, folder: string): Promise<number> {
    const client = await dovecot.connect(user, 'secret');
    try {
      const status = await client.status(folder.split('/'), { messages: true });
      return status ? (status.messages ?? 0) : 0;
    } catch (error) {
      // The processed folder appears with the poller's first connection.
      if ((error as { code?: string }).code === 'NotFound') return 0;
      throw error;
    } finally {
      await client.logout();
    }
  }

  async function tasksWithSubject(prefix: string): Promise<number> {
    return app.prisma.task.count({ where: { subject: { startsWith: prefix } } });
  }

  it('makes one task per message with two pollers', async () => {
    await dovecot.addUser('twice', 'secret');
    await dovecot.append('twice', 'secret', Array.from({ length: 20 }, (_, index) => makeMessage({ subject: `Twice ${index}` })));
    await addTestMailbox(appContext(), { name: 'twice', port: dovecot.port, user: 'twice', secret: 'secret', importExisting: true });

    const [first, second] = await Promise.all([startService(), startService()]);
    try {
      await waitFor(async () => (await folderCount('twice', 'INBOX')) === 0, 15_000, 'all 20 messages to be moved');
    } finally {
      // Stopped before counting: a poller may still journal a message it fetched before the other moved it.
      await Promise.all([first.stop(), second.stop()]);
    }
    await waitFor(async () => (await app.prisma.inboundMessage.count({ where: { source: 'imap', status: 'pending' } })) === 0, 15_000, 'processing');
    await app.idle();

    const rows = await app.prisma.inboundMessage.findMany({ where: { mailbox: { name: 'twice' } } });
    expect(await tasksWithSubject('Twice ')).toBe(20);
    expect(rows.length).toBeGreaterThanOrEqual(20);
    expect(rows.filter((row) => row.status === 'processed')).toHaveLength(20);
    expect(rows.filter((row) => row.status !== 'processed').every((row) => row.status === 'duplicate')).toBe(true);
    // Two sessions that MOVE one message at the same moment can both copy it. So the
    // processed folder may contain a message twice, while the tasks are still one each.
    expect(await folderCount('twice', 'Postdesk/Processed')).toBeGreaterThanOrEqual(20);
  });

  it('makes one task of a message seen by SMTP and IMAP', async () => {
    await dovecot.addUser('both', 'secret');
    const raw = makeMessage({ subject: 'Both ways', to: 'support@example.test', messageId: '<both-ways@example.com>' });
    await sendRaw(app.smtp!.port, raw, { from: 'customer@example.com', to: ['support@example.test'] });
    await app.idle();
    await addTestMailbox(appContext(), { name: 'both', port: dovecot.port, user: 'both', secret: 'secret', address: 'support@example.test' });
    const service = await startService();

    try {
      await waitFor(() => service.health().some((health) => health.name === 'both' && health.lastSuccessAt !== null), 5_000, 'the first poll');
      await dovecot.append('both', 'secret', [raw]);
      await waitFor(async () => (await app.prisma.inboundMessage.count({ where: { messageId: 'both-ways@example.com', status: { not: 'pending' } } })) === 2, 10_000, 'both copies to be processed');
    } finally {
      await service.stop();
    }

    const rows = await app.prisma.inboundMessage.findMany({ where: { messageId: 'both-ways@example.com' }, orderBy: { createdAt: 'asc' } });
    expect(rows.map((row) => [row.source, row.status])).toEqual([
      ['smtp', 'processed'],
      ['imap', 'duplicate'],
    ]);
    expect(await tasksWithSubject('Both ways')).toBe(1);
  });

  it('makes no new tasks after a UIDVALIDITY change', async () => {
    await dovecot.addUser('renumbered', 'secret');
    await addTestMailbox(appContext(), { name: 'renumbered', port: dovecot.port, user: 'renumbered', secret: 'secret', processedAction: 'flag' });
    const first = await startService();
    await waitFor(() => first.health().some((health) => health.name === 'renumbered' && health.lastSuccessAt !== null), 5_000, 'the first poll');
    await dovecot.append('renumbered', 'secret', [makeMessage({ subject: 'Renumbered 1' }), makeMessage({ subject: 'Renumbered 2' })]);
    await waitFor(async () => (await tasksWithSubject('Renumbered')) === 2, 10_000, 'two tasks');
    await first.stop();

    await dovecot.doveadm(['mailbox', 'update', '-u', 'renumbered', '--uid-validity', '31337', 'INBOX']);
    const second = await startService();
    try {
      await waitFor(async () => (await app.prisma.inboundMessage.count({ where: { mailbox: { name: 'renumbered' }, uidValidity: 31337n, status: { not: 'pending' } } })) === 2, 10_000, 'the rescan to be processed');
    } finally {
      await second.stop();
    }

    const rows = await app.prisma.inboundMessage.findMany({ where: { mailbox: { name: 'renumbered' } }, orderBy: { createdAt: 'asc' } });
    expect(rows.map((row) => row.status)).toEqual(['processed', 'processed', 'duplicate', 'duplicate']);
    expect(await tasksWithSubject('Renumbered')).toBe(2);
  });

  it('imports old mail without mailing anyone', async () => {
    await dovecot.addUser('oldmail', 'secret');
    await dovecot.append('oldmail', 'secret', [makeMessage({ subject: 'Old mail 1', from: 'Ann <ann@example.org>' }), makeMessage({ subject: 'Old mail 2', from: 'Ann <ann@example.org>' })]);
    await addTestMailbox(appContext(), { name: 'oldmail', port: dovecot.port, user: 'oldmail', secret: 'secret', importExisting: true });
    const service = await startService();

    try {
      await waitFor(async () => (await tasksWithSubject('Old mail')) === 2, 10_000, 'the old mail to be imported');
      await dovecot.append('oldmail', 'secret', [makeMessage({ subject: 'Old mail 3 is new', from: 'Ann <ann@example.org>' })]);
      await waitFor(async () => (await tasksWithSubject('Old mail')) === 3, 10_000, 'the new message');
      await app.idle();
    } finally {
      await service.stop();
    }

    const rows = await app.prisma.inboundMessage.findMany({ where: { mailbox: { name: 'oldmail' } }, orderBy: { uid: 'asc' } });
    expect(rows.map((row) => row.notify)).toEqual([false, false, true]);
    const tasks = await app.prisma.task.findMany({ where: { subject: { startsWith: 'Old mail' } }, include: { outbound: true }, orderBy: { id: 'asc' } });
    expect(tasks).toHaveLength(3);
    expect(tasks[0]!.outbound).toEqual([]);
    expect(tasks[1]!.outbound).toEqual([]);
  });
});
