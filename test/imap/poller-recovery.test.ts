import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MailboxPoller, type PollerTiming } from '../../src/imap/poller.ts';
import type { Mailbox } from '../../src/imap/mailbox-store.ts';
import { makeMessage, startDovecot, type DovecotServer } from '../helpers/dovecot.ts';
import { addTestMailbox, createImapTestContext, TEST_TIMING, waitFor, type ImapTestContext } from './imap-context.ts';

describe('MailboxPoller recovery', () => {
  let dovecot: DovecotServer;
  let context: ImapTestContext;

  beforeAll(async () => {
    [dovecot, context] = await Promise.all([startDovecot(), createImapTestContext()]);
  });

  afterAll(async () => {
    await dovecot?.destroy();
    await context?.close();
  });

  function startPoller(mailbox: Mailbox, journaled: string[], timing: Partial<PollerTiming> = {}): MailboxPoller {
    const poller = new MailboxPoller(mailbox.id, mailbox.name, {
      prisma: context.prisma,
      journal: context.journal,
      logger: context.logger,
      credentialKey: context.config.credentialKey,
      onJournaled: (journalId) => journaled.push(journalId),
      timing: { ...TEST_TIMING, ...timing },
    });
    poller.start();
    return poller;
  }

  async function storedMailbox(id: number) {
    return context.prisma.mailbox.findUniqueOrThrow({ where: { id } });
  }

  async function connectedPoller(mailbox: Mailbox, journaled: string[], timing: Partial<PollerTiming> = {}): Promise<MailboxPoller> {
    const poller = startPoller(mailbox, journaled, timing);
    await waitFor(() => poller.health().lastSuccessAt !== null, 5_000, `${mailbox.name} to finish its first poll`);
    return poller;
  }

  it('rereads the folder after a UIDVALIDITY change', async () => {
    await dovecot.addUser('renumber', 'secret');
    const mailbox = await addTestMailbox(context, { name: 'renumber', port: dovecot.port, user: 'renumber', secret: 'secret', processedAction: 'flag' });
    const journaled: string[] = [];
    const first = await connectedPoller(mailbox, journaled);
    await dovecot.append('renumber', 'secret', [makeMessage({ subject: 'one' }), makeMessage({ subject: 'two' })]);
    await waitFor(async () => (await storedMailbox(mailbox.id)).lastUid === 2n, 5_000, 'two messages');
    await first.stop();
    const before = await storedMailbox(mailbox.id);

    await dovecot.doveadm(['mailbox', 'update', '-u', 'renumber', '--uid-validity', '777', 'INBOX']);
    await dovecot.append('renumber', 'secret', [makeMessage({ subject: 'three' })]);
    const second = await connectedPoller(mailbox, journaled);
    await waitFor(async () => (await storedMailbox(mailbox.id)).lastUid === 3n, 5_000, 'the folder to be read again');
    await second.stop();

    expect(before.uidValidity).not.toBe(777n);
    const after = await storedMailbox(mailbox.id);
    expect(after.uidValidity).toBe(777n);
    const rows = await context.prisma.inboundMessage.findMany({ where: { mailboxId: mailbox.id }, orderBy: { createdAt: 'asc' } });
    expect(rows.map((row) => [row.uidValidity, row.uid])).toEqual([
      [before.uidValidity, 1n],
      [before.uidValidity, 2n],
      [777n, 1n],
      [777n, 2n],
      [777n, 3n],
    ]);
    // The two messages read twice carry the same dedupe key, so processing makes one task of each.
    expect(rows[2]!.dedupeKey).toBe(rows[0]!.dedupeKey);
    expect(rows[3]!.dedupeKey).toBe(rows[1]!.dedupeKey);
    expect(context.logLines.some((line) => line.includes('UIDVALIDITY changed'))).toBe(true);
  });

  it('rereads the folder when UIDVALIDITY changes while connected', async () => {
    await dovecot.addUser('renumber-live', 'secret');
    const mailbox = await addTestMailbox(context, { name: 'renumber-live', port: dovecot.port, user: 'renumber-live', secret: 'secret', processedAction: 'flag' });
    const journaled: string[] = [];
    const poller = await connectedPoller(mailbox, journaled);

    try {
      await dovecot.append('renumber-live', 'secret', [makeMessage({ subject: 'before' })]);
      await waitFor(() => journaled.length === 1, 5_000, 'the first message');
      // Dovecot ends the selected session with BYE when the folder's UIDVALIDITY changes.
      await dovecot.doveadm(['mailbox', 'update', '-u', 'renumber-live', '--uid-validity', '4242', 'INBOX']);
      await dovecot.append('renumber-live', 'secret', [makeMessage({ subject: 'after' })]);
      await waitFor(async () => (await storedMailbox(mailbox.id)).lastUid === 2n && (await storedMailbox(mailbox.id)).uidValidity === 4242n, 5_000, 'the new position');
    } finally {
      await poller.stop();
    }

    const rows = await context.prisma.inboundMessage.findMany({ where: { mailboxId: mailbox.id }, orderBy: { createdAt: 'asc' } });
    expect(rows.map((row) => [row.uidValidity === 4242n, row.uid])).toEqual([
      [false, 1n],
      [true, 1n],
      [true, 2n],
    ]);
  });

  it('reconnects after the server closes the connection', async () => {
    await dovecot.addUser('kicked', 'secret');
    const mailbox = await addTestMailbox(context, { name: 'kicked', port: dovecot.port, user: 'kicked', secret: 'secret' });
    const journaled: string[] = [];
    const poller = await connectedPoller(mailbox, journaled);

    try {
      await dovecot.kick('kicked');
      await waitFor(() => poller.health().consecutiveFailures > 0 || poller.health().lastErrorAt !== null, 5_000, 'the poller to notice');
      await dovecot.append('kicked', 'secret', [makeMessage({ subject: 'after the kick' })]);
      await waitFor(() => journaled.length === 1, 5_000, 'the message after the kick');
      await waitFor(() => poller.health().consecutiveFailures === 0, 5_000, 'recovery');
    } finally {
      await poller.stop();
    }

    const health = poller.health();
    expect(health.lastError).toContain('connection');
    expect(health.errorKind).toBe('network');
    expect(context.logLines.some((line) => line.includes('"mailbox":"kicked"') && line.includes('mailbox recovered'))).toBe(true);
  });

  it('reconnects after a server restart', async () => {
    await dovecot.addUser('restart', 'secret');
    const mailbox = await addTestMailbox(context, { name: 'restart', port: dovecot.port, user: 'restart', secret: 'secret' });
    const journaled: string[] = [];
    const poller = await connectedPoller(mailbox, journaled);

    try {
      await dovecot.stop();
      await waitFor(() => poller.health().consecutiveFailures >= 2, 5_000, 'failed reconnection attempts');
      const down = poller.health();
      const stored = await storedMailbox(mailbox.id);
      await dovecot.start();
      await dovecot.append('restart', 'secret', [makeMessage({ subject: 'after the restart' })]);
      await waitFor(() => journaled.length === 1, 5_000, 'the message after the restart');

      expect(down.connected).toBe(false);
      expect(down.errorKind).toBe('network');
      expect(down.lastError).toMatch(/refused/);
      expect(down.nextRetryAt).not.toBeNull();
      expect(stored.connected).toBe(false);
      expect(stored.lastError).toMatch(/refused/);
    } finally {
      await poller.stop();
    }
  });

  it('reconnects a silent connection', async () => {
    await dovecot.addUser('silent', 'secret');
    const mailbox = await addTestMailbox(context, { name: 'silent', port: dovecot.port, user: 'silent', secret: 'secret' });
    const journaled: string[] = [];
    // The safety poll every 500 ms is what runs into the silent server.
    const poller = await connectedPoller(mailbox, journaled, { pollIntervalMs: 500, watchdogTimeoutMs: 1_500 });
    const pids = await imapProcessIds('silent');
    expect(pids).toHaveLength(1);

    process.kill(pids[0]!, 'SIGSTOP');
    try {
      await waitFor(() => poller.health().errorKind === 'timeout', 10_000, 'the watchdog');
      await dovecot.append('silent', 'secret', [makeMessage({ subject: 'after the silence' })]);
      await waitFor(() => journaled.length === 1, 10_000, 'the message on the new connection');
    } finally {
      process.kill(pids[0]!, 'SIGCONT');
      await poller.stop();
    }
    expect(poller.health().lastError).toMatch(/did not respond/);
  });

  it('polls a server without IDLE', async () => {
    const plain = await startDovecot({ extraConfig: 'imap_capability = IMAP4rev1 LITERAL+ UIDPLUS MOVE' });
    try {
      await plain.addUser('noidle', 'secret');
      const mailbox = await addTestMailbox(context, { name: 'noidle', port: plain.port, user: 'noidle', secret: 'secret' });
      const journaled: string[] = [];
      const poller = await connectedPoller(mailbox, journaled, { pollIntervalMs: 300 });

      try {
        await plain.append('noidle', 'secret', [makeMessage({ subject: 'polled 1' }), makeMessage({ subject: 'polled 2' })]);
        await waitFor(() => journaled.length === 2, 5_000, 'the polled messages');
        // The position advances after the messages are moved, a moment after they are journaled.
        await waitFor(async () => (await storedMailbox(mailbox.id)).lastUid === 2n, 5_000, 'the new position');
      } finally {
        await poller.stop();
      }
      expect(poller.health().idle).toBe(false);
      expect((await storedMailbox(mailbox.id)).lastUid).toBe(2n);
    } finally {
      await plain.destroy();
    }
  });

  /** Process ids of the imap processes serving a user, from `doveadm who`. */
  async function imapProcessIds(user: string): Promise<number[]> {
    const output = await dovecot.doveadm(['who', '-1', user]);
    return output
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields[0] === user && fields[1] === 'imap')
      .map((fields) => Number(fields[2]));
  }
});
