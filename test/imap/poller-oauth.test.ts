import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MailboxPoller } from '../../src/imap/poller.ts';
import type { Mailbox } from '../../src/imap/mailbox-store.ts';
import { makeMessage, startDovecot, type DovecotServer } from '../helpers/dovecot.ts';
import { addTestMailbox, createImapTestContext, TEST_TIMING, waitFor, type ImapTestContext } from './imap-context.ts';

const VALID_TOKEN = 'ya29.test-access-token';
const EXPIRED_TOKEN = 'ya29.expired-access-token';

describe('MailboxPoller with XOAUTH2', () => {
  let tokenServer: Server;
  let dovecot: DovecotServer;
  let context: ImapTestContext;
  const introspections: string[] = [];

  beforeAll(async () => {
    // Stands in for the provider's userinfo endpoint, to which Dovecot sends each token.
    tokenServer = createServer((request, response) => {
      const token = (request.headers.authorization ?? '').replace(/^Bearer /, '');
      introspections.push(token);
      if (token !== VALID_TOKEN) {
        response.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_token"}');
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ email: 'oauth' }));
    });
    await new Promise<void>((resolve) => tokenServer.listen(0, '127.0.0.1', resolve));
    const { port } = tokenServer.address() as AddressInfo;
    [dovecot, context] = await Promise.all([startDovecot({ oauth2IntrospectionUrl: `http://127.0.0.1:${port}/userinfo` }), createImapTestContext()]);
    await dovecot.addUser('oauth', 'append-password');
  });

  afterAll(async () => {
    await dovecot?.destroy();
    await context?.close();
    await new Promise((resolve) => tokenServer?.close(resolve));
  });

  function startPoller(mailbox: Mailbox, journaled: string[]): MailboxPoller {
    const poller = new MailboxPoller(mailbox.id, mailbox.name, {
      prisma: context.prisma,
      journal: context.journal,
      logger: context.logger,
      credentialKey: context.config.credentialKey,
      onJournaled: (journalId) => journaled.push(journalId),
      timing: TEST_TIMING,
    });
    poller.start();
    return poller;
  }

  it('logs in with an access token', async () => {
    const mailbox = await addTestMailbox(context, { name: 'oauth', port: dovecot.port, user: 'oauth', authMethod: 'xoauth2', secret: VALID_TOKEN });
    const journaled: string[] = [];
    const poller = startPoller(mailbox, journaled);

    try {
      await waitFor(() => poller.health().lastSuccessAt !== null, 5_000, 'the first poll');
      await dovecot.append('oauth', 'append-password', [makeMessage({ subject: 'via XOAUTH2' })]);
      await waitFor(() => journaled.length === 1, 5_000, 'the message');
    } finally {
      await poller.stop();
    }

    expect(introspections).toContain(VALID_TOKEN);
    expect(poller.health().lastError).toBeNull();
  });

  it('reports a rejected access token', async () => {
    const mailbox = await addTestMailbox(context, { name: 'oauth-expired', port: dovecot.port, user: 'oauth', authMethod: 'xoauth2', secret: EXPIRED_TOKEN });
    const poller = startPoller(mailbox, []);

    try {
      await waitFor(() => poller.health().consecutiveFailures > 0, 10_000, 'the failed login');
    } finally {
      await poller.stop();
    }

    expect(introspections).toContain(EXPIRED_TOKEN);
    expect(poller.health().errorKind).toBe('auth');
    expect(poller.health().lastError).toMatch(/^login as oauth at 127\.0\.0\.1:\d+ was rejected.*check the password or access token$/);
    expect(context.logLines.join('\n')).not.toContain(EXPIRED_TOKEN);
    expect(context.logLines.join('\n')).not.toContain(VALID_TOKEN);
  });
});
