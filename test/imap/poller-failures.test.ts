import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MailboxPoller, type PollerDeps } from '../../src/imap/poller.ts';
import type { Mailbox } from '../../src/imap/mailbox-store.ts';
import { freePort, makeMessage, startDovecot, type DovecotServer } from '../helpers/dovecot.ts';
import { addTestMailbox, createImapTestContext, TEST_TIMING, waitFor, type ImapTestContext } from './imap-context.ts';

const PASSWORD = 'correct-horse-4711';
const WRONG_PASSWORD = 'wrong-battery-0815';

describe('MailboxPoller failures', () => {
  let dovecot: DovecotServer;
  let context: ImapTestContext;

  beforeAll(async () => {
    [dovecot, context] = await Promise.all([startDovecot({ tls: true }), createImapTestContext()]);
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
      // The server offers STARTTLS on its plain port too, so every poller needs the test CA.
      ca: dovecot.ca!,
      ...extra,
    });
    poller.start();
    return poller;
  }

  async function failedPoller(mailbox: Mailbox, extra: Partial<PollerDeps> = {}) {
    const poller = startPoller(mailbox, [], extra);
    try {
      await waitFor(() => poller.health().consecutiveFailures >= 1, 10_000, `${mailbox.name} to fail`);
      const health = poller.health();
      const stored = await context.prisma.mailbox.findUniqueOrThrow({ where: { id: mailbox.id } });
      return { health, stored };
    } finally {
      await poller.stop();
    }
  }

  it('reports a wrong password', async () => {
    await dovecot.addUser('wrongpw', PASSWORD);
    const mailbox = await addTestMailbox(context, { name: 'wrongpw', port: dovecot.port, user: 'wrongpw', secret: WRONG_PASSWORD });

    const { health, stored } = await failedPoller(mailbox);

    expect(health.errorKind).toBe('auth');
    expect(health.connected).toBe(false);
    expect(health.lastError).toBe(`login as wrongpw at 127.0.0.1:${dovecot.port} was rejected (server said: Authentication failed.); check the password or access token`);
    expect(health.nextRetryAt!.getTime() - health.lastErrorAt!.getTime()).toBe(1_000);
    expect(stored.lastError).toBe(health.lastError);
    expect(stored.connected).toBe(false);
    expect(context.logLines.some((line) => line.includes('"mailbox":"wrongpw"') && line.includes('mailbox connection failed'))).toBe(true);
  });

  it('reports an unreachable server', async () => {
    const closedPort = await freePort();
    const mailbox = await addTestMailbox(context, { name: 'unreachable', port: closedPort, user: 'nobody', secret: PASSWORD });

    const { health, stored } = await failedPoller(mailbox);

    expect(health.errorKind).toBe('network');
    expect(health.lastError).toBe(`connection to 127.0.0.1:${closedPort} refused; check the host and port and that the server is running`);
    expect(stored.lastErrorAt).not.toBeNull();
    expect(stored.lastSuccessAt).toBeNull();
  });

  it('reports a missing folder', async () => {
    await dovecot.addUser('nofolder', PASSWORD);
    const mailbox = await addTestMailbox(context, { name: 'nofolder', port: dovecot.port, user: 'nofolder', secret: PASSWORD, folder: 'Helpdesk' });

    const { health } = await failedPoller(mailbox);

    expect(health.errorKind).toBe('folder');
    expect(health.lastError).toContain('"Helpdesk" not found');
  });

  it('reads over TLS with the CA given', async () => {
    await dovecot.addUser('tls', PASSWORD);
    await dovecot.append('tls', PASSWORD, [makeMessage({ subject: 'over TLS' })]);
    const mailbox = await addTestMailbox(context, { name: 'tls', port: dovecot.tlsPort!, tls: true, user: 'tls', secret: PASSWORD, importExisting: true });
    const journaled: string[] = [];

    const poller = startPoller(mailbox, journaled);
    try {
      await waitFor(() => journaled.length === 1, 5_000, 'the message over TLS');
    } finally {
      await poller.stop();
    }
    expect(poller.health().lastError).toBeNull();
  });

  it('rejects a certificate from an unknown CA', async () => {
    await dovecot.addUser('untrusted', PASSWORD);
    const mailbox = await addTestMailbox(context, { name: 'untrusted', port: dovecot.tlsPort!, tls: true, user: 'untrusted', secret: PASSWORD });

    const { health } = await failedPoller(mailbox, { ca: undefined });

    expect(health.errorKind).toBe('tls');
    expect(health.lastError).toContain(`TLS with 127.0.0.1:${dovecot.tlsPort} failed`);
  });

  it('verifies the certificate after STARTTLS', async () => {
    await dovecot.addUser('starttls', PASSWORD);
    const mailbox = await addTestMailbox(context, { name: 'starttls', port: dovecot.port, tls: false, user: 'starttls', secret: PASSWORD });

    const { health } = await failedPoller(mailbox, { ca: undefined });

    expect(health.errorKind).toBe('tls');
  });

  it('keeps passwords out of the logs', async () => {
    const lines = context.logLines.join('\n');

    expect(context.logLines.length).toBeGreaterThan(20);
    expect(lines).not.toContain(PASSWORD);
    expect(lines).not.toContain(WRONG_PASSWORD);
    expect(lines).not.toContain(Buffer.from(`\u0000wrongpw\u0000${WRONG_PASSWORD}`).toString('base64'));
  });
});
