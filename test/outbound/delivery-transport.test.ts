import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/index.js';
import { createLogger } from '../../src/logger.js';
import { classifySendError } from '../../src/outbound/delivery/classify-send-error.js';
import { createEmlFileTransport } from '../../src/outbound/delivery/eml-file-transport.js';
import { createMailTransport } from '../../src/outbound/delivery/transport.js';
import type { RenderedMail } from '../../src/outbound/delivery/types.js';
import { createTestConfig } from '../helpers/app.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { createSelfSignedCertificate } from '../helpers/tls.js';

const logger = createLogger('silent');

function sampleMail(messageId = 'sample-1@example.test'): RenderedMail {
  return {
    from: '"Postdesk" <support@example.test>',
    to: 'customer@client.example.test',
    replyTo: 'support+token@example.test',
    subject: '[#7] Sample',
    text: 'Hello,\nthis is a sample.\n',
    html: '<p>Hello,<br>this is a sample.</p>',
    headers: { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' },
    messageId,
    inReplyTo: 'query-1@client.example.test',
    references: ['query-1@client.example.test'],
  };
}

/** A configuration whose relay is `relayUrl`; the data folder is removed by `cleanups`. */
const cleanups: (() => Promise<void>)[] = [];
async function configWithRelay(relayUrl: string): Promise<Config> {
  const { config, cleanup } = await createTestConfig({ SMTP_RELAY_URL: relayUrl });
  cleanups.push(cleanup);
  return config;
}

async function sendError(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('the send was expected to fail');
}

afterAll(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

describe('eml file transport', () => {
  let outboxDir: string;

  beforeAll(async () => {
    outboxDir = path.join(await mkdtemp(path.join(os.tmpdir(), 'postdesk-outbox-')), 'outbox');
  });

  afterAll(async () => {
    await rm(path.dirname(outboxDir), { recursive: true, force: true });
  });

  it('writes one file per row', async () => {
    const transport = createEmlFileTransport(outboxDir, 'instance-7');

    const first = await transport.send(sampleMail(), 'row-1');
    const second = await transport.send(sampleMail(), 'row-1');
    await transport.close();

    expect(first.response).toBe(path.join(outboxDir, 'row-1.eml'));
    expect(second.messageId).toBe('sample-1@example.test');
    expect(await readdir(outboxDir)).toEqual(['row-1.eml']);
  });

  it('writes a parseable message', async () => {
    const transport = createEmlFileTransport(outboxDir, 'instance-7');

    await transport.send(sampleMail('sample-2@example.test'), 'row-2');
    const parsed = await simpleParser(await readFile(path.join(outboxDir, 'row-2.eml')));

    expect(parsed.messageId).toBe('<sample-2@example.test>');
    expect(parsed.inReplyTo).toBe('<query-1@client.example.test>');
    expect(parsed.headers.get('x-postdesk-loop')).toBe('instance-7');
    expect(parsed.subject).toBe('[#7] Sample');
  });

  it('rejects a file name with a path', async () => {
    const transport = createEmlFileTransport(outboxDir, 'instance-7');

    await expect(transport.send(sampleMail(), '../escape')).rejects.toThrow('invalid outbox file name');
  });

  it('is the default without a relay', async () => {
    const { config, cleanup } = await createTestConfig();
    cleanups.push(cleanup);

    const transport = createMailTransport(config, logger);
    await transport.send(sampleMail(), 'default-row');

    expect(transport.kind).toBe('eml-file');
    expect(await readdir(config.outbound.outboxDir)).toEqual(['default-row.eml']);
  });
});

describe('smtp relay transport', () => {
  it('authenticates with the URL credentials', async () => {
    const sink = await SmtpSink.start({ auth: { user: 'mailer', pass: 's3cret pass' } });
    const transport = createMailTransport(await configWithRelay(`smtp://mailer:s3cret%20pass@127.0.0.1:${sink.port}`), logger);

    await transport.send(sampleMail(), 'row');
    await transport.close();
    await sink.close();

    expect(transport.kind).toBe('smtp');
    expect(sink.messages).toHaveLength(1);
    expect(sink.messages[0]!.user).toBe('mailer');
  });

  it('classifies a wrong password as configuration', async () => {
    const sink = await SmtpSink.start({ auth: { user: 'mailer', pass: 'right' } });
    const transport = createMailTransport(await configWithRelay(`smtp://mailer:wrong@127.0.0.1:${sink.port}`), logger);

    const error = await sendError(transport.send(sampleMail(), 'row'));
    await transport.close();
    await sink.close();

    expect(classifySendError(error)).toMatchObject({ kind: 'temporary', configuration: true, code: 'EAUTH', responseCode: 535 });
  });

  it('classifies a real 550 at RCPT TO', async () => {
    const sink = await SmtpSink.start();
    sink.rejectAlways({ stage: 'rcpt', code: 550, text: '5.1.1 Unknown user' });
    const transport = createMailTransport(await configWithRelay(`smtp://127.0.0.1:${sink.port}`), logger);

    const error = await sendError(transport.send(sampleMail(), 'row'));
    await transport.close();
    await sink.close();

    expect(classifySendError(error)).toMatchObject({ kind: 'permanent', responseCode: 550, command: 'RCPT TO', response: '550 5.1.1 Unknown user' });
  });

  it('classifies a real 451 after DATA', async () => {
    const sink = await SmtpSink.start();
    sink.rejectAlways({ stage: 'data', code: 451, text: '4.3.0 Temporary failure' });
    const transport = createMailTransport(await configWithRelay(`smtp://127.0.0.1:${sink.port}`), logger);

    const error = await sendError(transport.send(sampleMail(), 'row'));
    await transport.close();
    await sink.close();

    expect(classifySendError(error)).toMatchObject({ kind: 'temporary', responseCode: 451 });
  });

  it('classifies a closed port as temporary', async () => {
    const sink = await SmtpSink.start();
    const port = sink.port;
    await sink.close();
    const transport = createMailTransport(await configWithRelay(`smtp://127.0.0.1:${port}`), logger);

    const error = await sendError(transport.send(sampleMail(), 'row'));
    await transport.close();

    expect(classifySendError(error)).toMatchObject({ kind: 'temporary', configuration: false });
  });

  it('refuses an untrusted certificate with tls=starttls', async () => {
    const certificate = createSelfSignedCertificate();
    const sink = await SmtpSink.start({ tls: { key: await readFile(certificate.keyFile), cert: certificate.cert } });
    const transport = createMailTransport(await configWithRelay(`smtp://127.0.0.1:${sink.port}?tls=starttls`), logger);

    const error = await sendError(transport.send(sampleMail(), 'row'));
    await transport.close();
    await sink.close();

    expect(sink.messages).toHaveLength(0);
    expect(sink.transcript).toHaveLength(0);
    expect(classifySendError(error)).toMatchObject({ kind: 'temporary', configuration: true });
  });

  it('upgrades smtp:// when STARTTLS is offered', async () => {
    // Without tls=starttls the upgrade is still taken when offered, and the certificate
    // is still checked: a self-signed one fails rather than falling back to plain text.
    const certificate = createSelfSignedCertificate();
    const sink = await SmtpSink.start({ tls: { key: await readFile(certificate.keyFile), cert: certificate.cert } });
    const transport = createMailTransport(await configWithRelay(`smtp://127.0.0.1:${sink.port}`), logger);

    const error = await sendError(transport.send(sampleMail(), 'row'));
    await transport.close();
    await sink.close();

    expect(sink.messages).toHaveLength(0);
    expect(error).toMatchObject({ originalCode: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
  });

  it('refuses plain text when tls=starttls is not offered', async () => {
    const sink = await SmtpSink.start();
    const transport = createMailTransport(await configWithRelay(`smtp://127.0.0.1:${sink.port}?tls=starttls`), logger);

    const error = await sendError(transport.send(sampleMail(), 'row'));
    await transport.close();
    await sink.close();

    expect(sink.messages).toHaveLength(0);
    expect(classifySendError(error)).toMatchObject({ kind: 'temporary', configuration: true, code: 'ETLS' });
  });
});
