import { describe, expect, it } from 'vitest';
import { classifySendError, describeSendFailure } from '../../src/outbound/delivery/classify-send-error.js';
import { composeMessage } from '../../src/outbound/delivery/compose.js';
import { parseRelayUrl, RelayUrlError } from '../../src/config/relay-url.js';
import type { RenderedMail } from '../../src/outbound/delivery/types.js';

/** Builds an error shaped like the ones nodemailer 10 passes to a failed sendMail. */
function smtpError(fields: { code?: string; responseCode?: number; command?: string; response?: string; rejectedErrors?: object[] }): Error {
  return Object.assign(new Error('send failed'), fields);
}

describe('classifySendError', () => {
  it.each([
    { name: '550 at RCPT TO', error: smtpError({ code: 'EENVELOPE', responseCode: 550, command: 'RCPT TO' }), kind: 'permanent' },
    { name: '552 after DATA', error: smtpError({ code: 'EMESSAGE', responseCode: 552, command: 'DATA' }), kind: 'permanent' },
    { name: '554 after DATA', error: smtpError({ code: 'EMESSAGE', responseCode: 554, command: 'DATA' }), kind: 'permanent' },
    { name: '503 bad sequence', error: smtpError({ code: 'EPROTOCOL', responseCode: 503, command: 'RCPT TO' }), kind: 'temporary' },
    { name: '451 at RCPT TO', error: smtpError({ code: 'EENVELOPE', responseCode: 451, command: 'RCPT TO' }), kind: 'temporary' },
    { name: '421 closing', error: smtpError({ code: 'EPROTOCOL', responseCode: 421 }), kind: 'temporary' },
    { name: 'connection refused', error: smtpError({ code: 'ESOCKET' }), kind: 'temporary' },
    { name: 'timeout', error: smtpError({ code: 'ETIMEDOUT' }), kind: 'temporary' },
    { name: 'DNS failure', error: smtpError({ code: 'EDNS' }), kind: 'temporary' },
    { name: 'envelope without reply', error: smtpError({ code: 'EENVELOPE' }), kind: 'permanent' },
    { name: 'full disk', error: Object.assign(new Error('no space'), { code: 'ENOSPC' }), kind: 'temporary' },
    { name: 'plain Error', error: new Error('unknown'), kind: 'temporary' },
    { name: 'a string', error: 'odd', kind: 'temporary' },
  ])('treats $name as $kind', ({ error, kind }) => {
    expect(classifySendError(error).kind).toBe(kind);
  });

  it('retries a rejected password as configuration', () => {
    const failure = classifySendError(smtpError({ code: 'EAUTH', responseCode: 535, command: 'AUTH PLAIN', response: '535 5.7.8 Authentication failed' }));

    expect(failure.kind).toBe('temporary');
    expect(failure.configuration).toBe(true);
  });

  it('retries a failed TLS upgrade as configuration', () => {
    const failure = classifySendError(smtpError({ code: 'ETLS' }));

    expect(failure.kind).toBe('temporary');
    expect(failure.configuration).toBe(true);
  });

  it('retries an untrusted certificate as configuration', () => {
    const failure = classifySendError(Object.assign(new Error('self-signed certificate'), { code: 'ESOCKET', originalCode: 'DEPTH_ZERO_SELF_SIGNED_CERT' }));

    expect(failure.kind).toBe('temporary');
    expect(failure.configuration).toBe(true);
  });

  it('reads the reply of a rejected recipient', () => {
    const rejected = smtpError({ code: 'EENVELOPE', responseCode: 550, command: 'RCPT TO', response: '550 5.1.1 Unknown user' });
    const failure = classifySendError(smtpError({ code: 'EENVELOPE', rejectedErrors: [rejected] }));

    expect(failure.kind).toBe('permanent');
    expect(failure.responseCode).toBe(550);
    expect(failure.response).toBe('550 5.1.1 Unknown user');
    expect(failure.command).toBe('RCPT TO');
  });

  it('ignores the error text', () => {
    const failure = classifySendError(new Error('550 permanent failure, user unknown'));

    expect(failure.kind).toBe('temporary');
  });

  it('describes a failure by its reply', () => {
    const withReply = classifySendError(smtpError({ responseCode: 550, response: '550 No such user' }));
    const withoutReply = classifySendError(smtpError({ code: 'ESOCKET' }));

    expect(describeSendFailure(withReply, 'ignored')).toBe('550 No such user');
    expect(describeSendFailure(withoutReply, 'connect ECONNREFUSED 127.0.0.1:2525')).toBe('ESOCKET: connect ECONNREFUSED 127.0.0.1:2525');
  });
});

describe('parseRelayUrl', () => {
  it('reads host, port and credentials', () => {
    const options = parseRelayUrl('smtps://mailer:p%40ss@relay.example.test:2465', 'helpdesk.example.test');

    expect(options.host).toBe('relay.example.test');
    expect(options.port).toBe(2465);
    expect(options.secure).toBe(true);
    expect(options.auth).toEqual({ user: 'mailer', pass: 'p@ss' });
    expect(options.name).toBe('helpdesk.example.test');
  });

  it('keeps certificate checks on', () => {
    const options = parseRelayUrl('smtp://relay.example.test:587?tls=starttls', 'h');

    expect(options.tls?.rejectUnauthorized).not.toBe(false);
    expect(options.requireTLS).toBe(true);
    expect(options.secure).toBe(false);
  });

  it('leaves STARTTLS opportunistic without credentials', () => {
    const options = parseRelayUrl('smtp://127.0.0.1:25', 'h');

    expect(options.requireTLS).toBe(false);
    expect(options.port).toBe(25);
  });

  it('requires STARTTLS for credentials sent off loopback', () => {
    expect(parseRelayUrl('smtp://user:secret@relay.example.test:587', 'h').requireTLS).toBe(true);
    expect(parseRelayUrl('smtp://user:secret@127.0.0.1:587', 'h').requireTLS).toBe(false);
  });

  it.each([
    ['smtp://relay.example.test?tls.rejectUnauthorized=false', 'unsupported parameter'],
    ['smtp://relay.example.test?tls=none', 'unsupported tls='],
    ['smtps://relay.example.test?tls=starttls', 'smtp:// only'],
    ['http://relay.example.test', 'unsupported scheme'],
    ['not a url', 'invalid URL'],
  ])('rejects %s', (url, problem) => {
    expect(() => parseRelayUrl(url, 'h')).toThrow(RelayUrlError);
    expect(() => parseRelayUrl(url, 'h')).toThrow(problem);
  });

  it('keeps the password out of errors', () => {
    expect(() => parseRelayUrl('smtp://user:hunter2@relay.example.test?debug=true', 'h')).toThrow(/^(?!.*hunter2)/);
  });
});

describe('composeMessage', () => {
  const mail: RenderedMail = {
    from: 'Support <support@example.test>',
    to: 'customer@client.example.test',
    replyTo: null,
    subject: '[#1] Hello',
    text: 'Hello',
    html: '<p>Hello</p>',
    headers: {},
    messageId: 'a@example.test',
    inReplyTo: null,
    references: [],
  };

  it('adds the loop marker when missing', () => {
    const message = composeMessage(mail, 'instance-1');

    expect(message.headers).toEqual({ 'X-Postdesk-Loop': 'instance-1' });
  });

  it('keeps a loop marker the renderer set', () => {
    const message = composeMessage({ ...mail, headers: { 'x-postdesk-loop': 'instance-1' } }, 'instance-1');

    expect(message.headers).toEqual({ 'x-postdesk-loop': 'instance-1' });
  });

  it('leaves out empty threading fields', () => {
    const message = composeMessage(mail, 'instance-1');

    expect(message).not.toHaveProperty('references');
    expect(message).not.toHaveProperty('inReplyTo');
    expect(message).not.toHaveProperty('replyTo');
  });
});
