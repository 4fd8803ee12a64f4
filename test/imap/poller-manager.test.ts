import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startImap, type ImapService } from '../../src/imap/index.ts';
import { decryptSecret } from '../../src/imap/credentials.ts';
import { freePort, makeMessage, startDovecot, type DovecotServer } from '../helpers/dovecot.ts';
import { addTestMailbox, createImapTestContext, TEST_TIMING, waitFor, type ImapTestContext } from './imap-context.ts';

describe('startImap', () => {
  let dovecot: DovecotServer;
  const contexts: ImapTestContext[] = [];

  beforeAll(async () => {
    dovecot = await startDovecot();
    await Promise.all(['good', 'late', 'envuser'].map((user) => dovecot.addUser(user, 'secret')));
  });

  afterAll(async () => {
    await dovecot?.destroy();
    await Promise.all(contexts.map((context) => context.close()));
  });

  async function newContext(env: Record<string, string> = {}): Promise<ImapTestContext> {
    const context = await createImapTestContext(env);
    contexts.push(context);
    return context;
  }

  function start(context: ImapTestContext, journaled: string[]): Promise<ImapService> {
    return startImap({
      prisma: context.prisma,
      config: context.config,
      journal: context.journal,
      logger: context.logger,
      onJournaled: (journalId) => journaled.push(journalId),
      timing: TEST_TIMING,
      refreshIntervalMs: 100,
    });
  }

  function healthOf(service: ImapService, name: string) {
    return service.health().find((health) => health.name === name);
  }

  it('keeps polling while other mailboxes fail', async () => {
    const context = await newContext();
    await addTestMailbox(context, { name: 'badpassword', port: dovecot.port, user: 'good', secret: 'wrong' });
    await addTestMailbox(context, { name: 'unreachable', port: await freePort(), user: 'good', secret: 'secret' });
    await addTestMailbox(context, { name: 'good', port: dovecot.port, user: 'good', secret: 'secret' });
    const journaled: string[] = [];
    const service = await start(context, journaled);

    try {
      await waitFor(() => healthOf(service, 'good')?.lastSuccessAt, 5_000, 'the good mailbox');
      await dovecot.append('good', 'secret', [makeMessage({ subject: 'still arrives' })]);
      await waitFor(() => journaled.length === 1, 5_000, 'the message of the good mailbox');
      await waitFor(() => (healthOf(service, 'badpassword')?.consecutiveFailures ?? 0) > 1 && (healthOf(service, 'unreachable')?.consecutiveFailures ?? 0) > 1, 5_000, 'retries of the failing mailboxes');
    } finally {
      await service.stop();
    }

    expect(service.health()).toEqual([]);
    const rows = await context.prisma.mailbox.findMany({ orderBy: { name: 'asc' } });
    expect(rows.map((row) => [row.name, row.lastError === null, row.lastSuccessAt !== null])).toEqual([
      ['badpassword', false, false],
      ['good', true, true],
      ['unreachable', false, false],
    ]);
    expect(rows.every((row) => !row.connected)).toBe(true);
  });

  it('follows changes to the mailbox table', async () => {
    const context = await newContext();
    const journaled: string[] = [];
    const service = await start(context, journaled);

    try {
      expect(service.health()).toEqual([]);
      const late = await addTestMailbox(context, { name: 'late', port: dovecot.port, user: 'late', secret: 'secret' });
      await waitFor(() => healthOf(service, 'late')?.connected, 5_000, 'the added mailbox to connect');
      await dovecot.append('late', 'secret', [makeMessage({ subject: 'to a mailbox added later' })]);
      await waitFor(() => journaled.length === 1, 5_000, 'its message');

      await context.prisma.mailbox.update({ where: { id: late.id }, data: { enabled: false } });
      await waitFor(() => service.health().length === 0, 5_000, 'the disabled mailbox to stop');
    } finally {
      await service.stop();
    }
    expect((await context.prisma.mailbox.findUniqueOrThrow({ where: { name: 'late' } })).connected).toBe(false);
  });

  it('polls the mailbox from IMAP_* variables', async () => {
    const env = { IMAP_HOST: '127.0.0.1', IMAP_PORT: String(dovecot.port), IMAP_TLS: 'false', IMAP_USER: 'envuser', IMAP_PASSWORD: 'secret', IMAP_DEPARTMENT: 'Sales' };
    const context = await newContext(env);
    await context.prisma.department.create({ data: { name: 'Sales' } });
    const journaled: string[] = [];
    const service = await start(context, journaled);

    try {
      await waitFor(() => healthOf(service, 'env')?.lastSuccessAt, 5_000, 'the env mailbox');
      await dovecot.append('envuser', 'secret', [makeMessage({ subject: 'to the env mailbox' })]);
      await waitFor(() => journaled.length === 1, 5_000, 'its message');
    } finally {
      await service.stop();
    }

    const row = await context.prisma.mailbox.findUniqueOrThrow({ where: { name: 'env' }, include: { department: true } });
    expect(row.department?.name).toBe('Sales');
    expect(row.processedFolder).toBe('Postdesk/Processed');
    expect(decryptSecret(row.secretEncrypted, context.config.credentialKey)).toBe('secret');
  });

  it('disables the env mailbox when its department is missing', async () => {
    const context = await newContext({ IMAP_HOST: '127.0.0.1', IMAP_PORT: String(dovecot.port), IMAP_TLS: 'false', IMAP_USER: 'envuser', IMAP_PASSWORD: 'secret' });
    const first = await start(context, []);
    await first.stop();
    const secondConfig = { ...context.config, imap: { ...context.config.imap!, department: 'Nowhere' } };

    const service = await startImap({ prisma: context.prisma, config: secondConfig, journal: context.journal, logger: context.logger, onJournaled: () => undefined, timing: TEST_TIMING });
    await service.stop();

    const row = await context.prisma.mailbox.findUniqueOrThrow({ where: { name: 'env' } });
    expect(service.health()).toEqual([]);
    expect(row.enabled).toBe(false);
    expect(row.lastError).toBe('IMAP_DEPARTMENT: department "Nowhere" not found; create it or correct the name');
    expect(context.logLines.some((line) => line.includes('mailbox from the environment not started'))).toBe(true);
  });
});
