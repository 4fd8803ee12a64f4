import { describe, expect, it } from 'vitest';
import { computeRetryDelay } from '../../src/imap/backoff.ts';
import { CredentialError } from '../../src/imap/credentials.ts';
import { classifyImapError, ImapWatchdogError, type ImapErrorKind } from '../../src/imap/errors.ts';

const target = { host: 'imap.example.com', port: 993, user: 'desk@example.com', folder: 'INBOX' };

function imapError(message: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), fields);
}

describe('classifyImapError', () => {
  const cases: [string, unknown, ImapErrorKind, boolean][] = [
    ['authentication failure', imapError('Command failed', { authenticationFailed: true, responseText: 'Authentication failed.', serverResponseCode: 'AUTHENTICATIONFAILED' }), 'auth', true],
    ['self-signed certificate', imapError('self-signed certificate', { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), 'tls', true],
    ['unknown issuer', imapError('unable to verify the first certificate', { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }), 'tls', true],
    ['wrong host name', imapError("Hostname/IP does not match certificate's altnames", { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }), 'tls', true],
    ['STARTTLS failure', imapError('upgrade failed', { tlsFailed: true }), 'tls', true],
    ['missing folder', imapError('Command failed', { mailboxMissing: true, path: 'Helpdesk', responseStatus: 'NO' }), 'folder', true],
    ['NONEXISTENT code', imapError('Command failed', { serverResponseCode: 'NONEXISTENT', responseStatus: 'NO' }), 'folder', true],
    ['folder not listed', imapError("Mailbox doesn't exist: Helpdesk", { code: 'NotFound' }), 'folder', true],
    ['refused', imapError('connect ECONNREFUSED', { code: 'ECONNREFUSED' }), 'network', false],
    ['DNS failure', imapError('getaddrinfo ENOTFOUND', { code: 'ENOTFOUND' }), 'network', false],
    ['closed connection', imapError('Connection closed', { code: 'EConnectionClosed' }), 'network', false],
    ['reset', imapError('read ECONNRESET', { code: 'ECONNRESET' }), 'network', false],
    ['connect timeout', imapError('Connection timed out', { code: 'CONNECT_TIMEOUT' }), 'timeout', false],
    ['socket timeout', imapError('Socket timeout', { code: 'ETIMEOUT' }), 'timeout', false],
    ['watchdog', new ImapWatchdogError(120_000), 'timeout', false],
    ['throttling', imapError('Throttled', { code: 'ETHROTTLE', throttleReset: 30_000 }), 'throttled', false],
    ['refused command', imapError('Command failed', { responseStatus: 'NO', command: 'UID MOVE', responseText: 'Quota exceeded' }), 'server', false],
    ['parser error', imapError('Unexpected char', { code: 'ParserError3' }), 'protocol', false],
    ['undecryptable secret', new CredentialError('stored secret cannot be decrypted'), 'credentials', true],
    ['plain error', new Error('something else'), 'unknown', false],
    ['thrown string', 'boom', 'unknown', false],
  ];

  it.each(cases)('classifies %s', (_name, error, kind, permanent) => {
    const classified = classifyImapError(error, target);

    expect(classified.kind).toBe(kind);
    expect(classified.permanent).toBe(permanent);
    expect(classified.message.length).toBeGreaterThan(10);
  });

  it('writes actionable messages', () => {
    const sample = (name: string) => cases.find((entry) => entry[0] === name)![1];

    expect(classifyImapError(sample('authentication failure'), target).message).toBe('login as desk@example.com at imap.example.com:993 was rejected (server said: Authentication failed.); check the password or access token');
    expect(classifyImapError(sample('refused'), target).message).toBe('connection to imap.example.com:993 refused; check the host and port and that the server is running');
    expect(classifyImapError(sample('missing folder'), target).message).toBe('folder "Helpdesk" not found on imap.example.com:993');
    expect(classifyImapError(sample('watchdog'), target).message).toBe('imap.example.com:993 timed out: server did not respond within 120000 ms');
    expect(classifyImapError(sample('throttling'), target).retryAfterMs).toBe(30_000);
    expect(classifyImapError(sample('refused'), target).code).toBe('ECONNREFUSED');
  });
});

describe('computeRetryDelay', () => {
  const options = { initialMs: 1_000, maxMs: 60_000, permanentMs: 300_000 };
  const transient = { kind: 'network' as const, permanent: false, message: 'refused' };

  it('doubles transient delays up to the maximum', () => {
    const delays = [1, 2, 3, 4, 7, 8, 40].map((failures) => computeRetryDelay(failures, transient, options, () => 0));

    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 60_000, 60_000, 60_000]);
  });

  it('takes up to a fifth off for jitter', () => {
    expect(computeRetryDelay(3, transient, options, () => 0.999)).toBe(3_201);
  });

  it('waits long after a permanent failure', () => {
    expect(computeRetryDelay(1, { kind: 'auth', permanent: true, message: 'rejected' }, options)).toBe(300_000);
  });

  it('honours the delay a server asks for', () => {
    expect(computeRetryDelay(1, { ...transient, kind: 'throttled', retryAfterMs: 45_000 }, options, () => 0)).toBe(45_000);
  });
});
