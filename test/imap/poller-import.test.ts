import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MailboxPoller, type PollerDeps } from '../../src/imap/poller.ts';
import type { Mailbox } from '../../src/imap/mailbox-store.ts';
import { makeMessage, startDovecot, type DovecotServer } from '../helpers/dovecot.ts';
import { addTestMailbox, createImapTestContext, TEST_TIMING, waitFor, type ImapTestContext } from './imap-context.ts';

describe('MailboxPoller import', () => {
  let dovecot: DovecotServer;
  let context: ImapTestContext;

  beforeAll(async () => {
    [dovecot, context] = await Promise.all([startDovecot(), createImapTestContext()]);
  });

  afterAll(async () => {
    await dovecot?.destroy();
    await context?.close();
  });

  function startPoller(mailbox: Mailbox, journaled: string[] = [], extra: Partial<PollerDeps> = {}): MailboxPoller {
    const poller = new MailboxPoller(mailbox.id, mailbox.name, {
      prisma: context.prisma,
      journal: context.journal,
      logger: context.logger,
      credentialKey: context.config.credentialKey,
      onJournaled: (journalId) => journaled.push(journalId),
      timing: TEST_TIMING,
      ...extra,
    });
    poller.start();
    return poller;
  }

  async function folderUids(user: string, folder: string): Promise<number[]> {
    const client = await dovecot.connect(user, 'secret');
    try {
      await client.mailboxOpen(folder.split('/'));
      const uids = await client.search({ all: true }, { uid: true });
      return uids || [];
    } finally {
      await client.logout();
    }
  }

  function journalRows(mailboxId: number) {
    return context.prisma.inboundMessage.findMany({ where: { mailboxId }, orderBy: { uid: 'asc' } });
  }

  it('journals new mail announced by IDLE', async () => {
    await dovecot.addUser('idle', 'secret');
    await dovecot.append('idle', 'secret', [makeMessage({ subject: 'old mail' })]);
    const mailbox = await addTestMailbox(context, { name: 'idle', port: dovecot.port, user: 'idle', secret: 'secret' });
    const journaled: string[] = [];
    const poller = startPoller(mailbox, journaled);

    try {
      await waitFor(async () => (await context.prisma.mailbox.findUniqueOrThrow({ where: { id: mailbox.id } })).lastUid !== null, 5_000, 'first connection');
      await waitFor(() => poller.health().idle !== null && poller.health().connected, 5_000, 'connection');
      // The safety poll runs every 60 s, so only IDLE can bring this message in time.
      const [uid] = await dovecot.append('idle', 'secret', [makeMessage({ subject: 'new mail', messageId: '<idle-1@example.com>' })]);
      await waitFor(() => journaled.length === 1, 5_000, 'the IDLE message to be journaled');

      const rows = await journalRows(mailbox.id);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.messageId).toBe('idle-1@example.com');
      expect(rows[0]!.source).toBe('imap');
      expect(rows[0]!.uid).toBe(BigInt(uid!));
      expect(rows[0]!.notify).toBe(true);
      expect(JSON.parse(rows[0]!.envelopeTo)).toEqual(['support@example.com']);
      expect(poller.health().idle).toBe(true);
      await waitFor(async () => (await folderUids('idle', 'Postdesk/Processed')).length === 1, 5_000, 'the move');
      expect(await folderUids('idle', 'INBOX')).toEqual([1]);
      const stored = await context.prisma.mailbox.findUniqueOrThrow({ where: { id: mailbox.id } });
      expect(stored.lastUid).toBe(BigInt(uid!));
      expect(stored.connected).toBe(true);
      expect(stored.lastSuccessAt).not.toBeNull();
    } finally {
      await poller.stop();
    }
  });

  it('imports a 500-message backlog once', async () => {
    await dovecot.addUser('backlog', 'secret');
    const messages = Array.from({ length: 500 }, (_, index) => makeMessage({ subject: `backlog ${index}`, messageId: `<backlog-${index}@example.com>` }));
    const uids = await dovecot.append('backlog', 'secret', messages);
    const mailbox = await addTestMailbox(context, { name: 'backlog', port: dovecot.port, user: 'backlog', secret: 'secret', importExisting: true });
    const journaled: string[] = [];

    const first = startPoller(mailbox, journaled);
    try {
      await waitFor(() => journaled.length === 500, 60_000, '500 messages to be journaled');
      await waitFor(async () => (await folderUids('backlog', 'INBOX')).length === 0, 10_000, 'INBOX to be emptied');
      const [late] = await dovecot.append('backlog', 'secret', [makeMessage({ subject: 'after the import', messageId: '<backlog-late@example.com>' })]);
      await waitFor(() => journaled.length === 501, 5_000, 'the message after the import');
      await waitFor(async () => (await context.prisma.mailbox.findUniqueOrThrow({ where: { id: mailbox.id } })).lastUid === BigInt(late!), 5_000, 'the position to pass it');
    } finally {
      await first.stop();
    }
    const second = startPoller(mailbox, journaled);
    await waitFor(() => second.health().lastSuccessAt !== null, 5_000, 'the second poller to finish a poll');
    await second.stop();

    const rows = await journalRows(mailbox.id);
    expect(rows).toHaveLength(501);
    expect(new Set(rows.map((row) => row.uid)).size).toBe(501);
    expect(rows.slice(0, 500).every((row) => row.notify === false)).toBe(true);
    expect(rows[500]!.notify).toBe(true);
    expect(rows[500]!.messageId).toBe('backlog-late@example.com');
    expect(journaled).toHaveLength(501);
    expect(await folderUids('backlog', 'Postdesk/Processed')).toHaveLength(501);
    const stored = await context.prisma.mailbox.findUniqueOrThrow({ where: { id: mailbox.id } });
    expect(stored.lastUid).toBe(BigInt(uids[499]! + 1));
    expect(uids).toHaveLength(500);
    expect(stored.backlog).toBe(0);
    expect(await context.prisma.setting.count({ where: { key: { startsWith: 'imap.import-boundary.' } } })).toBe(0);
  });

  it('skips messages journaled before a crash', async () => {
    await dovecot.addUser('crash', 'secret');
    const mailbox = await addTestMailbox(context, { name: 'crash', port: dovecot.port, user: 'crash', secret: 'secret' });
    const setup = startPoller(mailbox);
    await waitFor(async () => (await context.prisma.mailbox.findUniqueOrThrow({ where: { id: mailbox.id } })).uidValidity !== null, 5_000, 'first connection');
    await setup.stop();
    const uids = await dovecot.append('crash', 'secret', [1, 2, 3].map((index) => makeMessage({ subject: `crash ${index}` })));

    // What a crash right after journaling leaves: journal rows, but messages not moved and the position not advanced.
    const { uidValidity } = await context.prisma.mailbox.findUniqueOrThrow({ where: { id: mailbox.id } });
    const client = await dovecot.connect('crash', 'secret');
    await client.mailboxOpen('INBOX');
    for await (const message of client.fetch(uids.join(','), { uid: true, source: true }, { uid: true })) {
      await context.journal.appendBuffer(message.source!, 'imap', { mailFrom: null, rcptTo: [] }, { mailboxId: mailbox.id, uidValidity: uidValidity!, uid: BigInt(message.uid) });
    }
    await client.logout();
    const journaled: string[] = [];
    const poller = startPoller(mailbox, journaled);

    try {
      await waitFor(async () => (await folderUids('crash', 'INBOX')).length === 0, 5_000, 'the journaled messages to be moved');
    } finally {
      await poller.stop();
    }
    expect(journaled).toEqual([]);
    expect(await journalRows(mailbox.id)).toHaveLength(3);
    expect(await folderUids('crash', 'Postdesk/Processed')).toHaveLength(3);
    expect((await context.prisma.mailbox.findUniqueOrThrow({ where: { id: mailbox.id } })).lastUid).toBe(BigInt(uids[2]!));
    expect(context.logLines.some((line) => line.includes('"alreadyJournaled":3'))).toBe(true);
  });

  it('flags processed mail and leaves it unseen', async () => {
    await dovecot.addUser('flag', 'secret');
    const mailbox = await addTestMailbox(context, { name: 'flag', port: dovecot.port, user: 'flag', secret: 'secret', processedAction: 'flag', importExisting: true });
    await dovecot.append('flag', 'secret', [makeMessage({ subject: 'flag me' })]);
    const journaled: string[] = [];

    const poller = startPoller(mailbox, journaled);
    try {
      await waitFor(() => journaled.length === 1, 5_000, 'the message to be journaled');
      await waitFor(() => poller.health().lastSuccessAt !== null, 5_000, 'the poll to finish');
    } finally {
      await poller.stop();
    }
    const restarted = startPoller(mailbox, journaled);
    await waitFor(() => restarted.health().lastSuccessAt !== null, 5_000, 'the restarted poller to finish a poll');
    await restarted.stop();

    const client = await dovecot.connect('flag', 'secret');
    await client.mailboxOpen('INBOX');
    const message = await client.fetchOne('1', { uid: true, flags: true }, { uid: true });
    await client.logout();
    expect(message).not.toBe(false);
    const flags = message ? (message.flags ?? new Set<string>()) : new Set<string>();
    expect(flags.has('\\Flagged')).toBe(true);
    expect(flags.has('\\Seen')).toBe(false);
    expect(journaled).toHaveLength(1);
    expect(await journalRows(mailbox.id)).toHaveLength(1);
  });

  it('reads an empty folder on first connection', async () => {
    await dovecot.addUser('empty', 'secret');
    const mailbox = await addTestMailbox(context, { name: 'empty', port: dovecot.port, user: 'empty', secret: 'secret', importExisting: true });

    const poller = startPoller(mailbox);
    try {
      await waitFor(() => poller.health().lastSuccessAt !== null, 5_000, 'the first poll');
    } finally {
      await poller.stop();
    }

    const stored = await context.prisma.mailbox.findUniqueOrThrow({ where: { id: mailbox.id } });
    expect(stored.lastUid).toBe(0n);
    expect(stored.uidValidity).not.toBeNull();
    expect(stored.connected).toBe(false);
  });
});
