import net from 'node:net';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { handwrittenMessage } from '../helpers/messages.js';
import { RawSmtpSession, sendRaw } from '../helpers/smtp-client.js';

describe('SMTP intake', () => {
  let harness: Awaited<ReturnType<typeof createTestApp>>;
  let port: number;

  beforeAll(async () => {
    harness = await createTestApp({ SMTP_MAX_MESSAGE_SIZE: '64KB', SMTP_MAX_RECIPIENTS: '3' });
    port = harness.app.smtp!.port;
  });

  afterAll(async () => {
    await harness.cleanup();
  });

  it('accepts mail for a helpdesk address and opens a task', async () => {
    const { raw } = handwrittenMessage({ from: 'Ann Customer <ann@customer.test>', to: 'support@example.test', subject: 'Printer on fire', text: 'The printer in room 4 is on fire.' });

    const reply = await sendRaw(port, raw, { from: 'ann@customer.test', to: ['support@example.test'] });
    await harness.app.idle();

    expect(reply).toMatch(/^250 /);
    const task = await harness.app.prisma.task.findFirstOrThrow({ where: { subject: 'Printer on fire' }, include: { author: true, department: true, comments: true } });
    expect(task.author.email).toBe('ann@customer.test');
    expect(task.author.role).toBe('customer');
    expect(task.department?.name).toBe('Support');
    expect(task.comments[0]?.body).toBe('The printer in room 4 is on fire.');
  });

  it('offers no STARTTLS without a certificate', async () => {
    const session = await RawSmtpSession.connect(port);

    await session.command('EHLO client.test');
    const reply = await session.command('STARTTLS');
    session.close();

    expect(reply).toMatch(/^5\d\d /);
  });

  it('accepts plus-addressed helpdesk recipients', async () => {
    const session = await RawSmtpSession.connect(port);

    await session.command('EHLO client.test');
    expect(await session.command('MAIL FROM:<ann@customer.test>')).toMatch(/^250/);
    expect(await session.command('RCPT TO:<billing+anything@example.test>')).toMatch(/^250/);
    expect(await session.command('RCPT TO:<SUPPORT@Example.Test>')).toMatch(/^250/);
    session.close();
  });

  it('rejects other recipients at RCPT, so it never relays', async () => {
    const session = await RawSmtpSession.connect(port);

    await session.command('EHLO client.test');
    await session.command('MAIL FROM:<spammer@bad.test>');
    const otherLocal = await session.command('RCPT TO:<postmaster@example.test>');
    const otherDomain = await session.command('RCPT TO:<victim@elsewhere.test>');
    const data = await session.command('DATA');
    session.close();

    expect(otherLocal).toMatch(/^550 5\.1\.1/);
    expect(otherDomain).toMatch(/^550 5\.1\.1/);
    expect(data).toMatch(/^503/);
  });

  it('answers 452 past the recipient limit', async () => {
    const session = await RawSmtpSession.connect(port);

    await session.command('EHLO client.test');
    await session.command('MAIL FROM:<ann@customer.test>');
    const replies = [];
    for (let index = 0; index < 4; index++) replies.push(await session.command(`RCPT TO:<support+r${index}@example.test>`));
    session.close();

    expect(replies.slice(0, 3).every((reply) => reply.startsWith('250'))).toBe(true);
    expect(replies[3]).toMatch(/^452 4\.5\.3/);
  });

  it('rejects an oversized message with 552 and keeps nothing', async () => {
    const before = await harness.app.prisma.inboundMessage.count();
    const { raw } = handwrittenMessage({ from: 'ann@customer.test', to: 'support@example.test', subject: 'Too big', text: 'x'.repeat(76) + '\n'.repeat(1) + ('y'.repeat(76) + '\n').repeat(1500) });

    const error = await sendRaw(port, raw, { from: 'ann@customer.test', to: ['support@example.test'] }).catch((caught: { responseCode?: number }) => caught);

    expect((error as { responseCode?: number }).responseCode).toBe(552);
    expect(await harness.app.prisma.inboundMessage.count()).toBe(before);
    expect((await readdir(path.join(harness.dataDir, 'journal', 'new'))).filter((name) => !name.startsWith('.'))).toEqual([]);
  });

  it('rejects bare LF line endings in DATA', async () => {
    const session = await RawSmtpSession.connect(port);

    await session.command('EHLO client.test');
    await session.command('MAIL FROM:<ann@customer.test>');
    await session.command('RCPT TO:<support@example.test>');
    expect(await session.command('DATA')).toMatch(/^354/);
    session.write('Subject: bare\nFrom: ann@customer.test\n\nline one\nline two\r\n.\r\n');
    const reply = await session.reply();
    session.close();

    expect(reply).toMatch(/^550 5\.6\.2/);
  });

  it('greets with ESMTP once', async () => {
    const socket = net.connect(port, '127.0.0.1');
    const greeting = await new Promise<string>((resolve, reject) => socket.once('data', (data) => resolve(data.toString())).once('error', reject));
    socket.destroy();

    expect(greeting.trim()).toMatch(/^220 \S+ ESMTP Postdesk$/);
  });

  it('keeps nothing of a message cut off during DATA', async () => {
    const before = await harness.app.prisma.inboundMessage.count();
    const session = await RawSmtpSession.connect(port);
    await session.command('EHLO client.test');
    await session.command('MAIL FROM:<ann@customer.test>');
    await session.command('RCPT TO:<support@example.test>');
    expect(await session.command('DATA')).toMatch(/^354/);
    session.write('Subject: cut off\r\nFrom: ann@customer.test\r\n\r\n' + 'half a line of text\r\n'.repeat(500));
    await new Promise((resolve) => setTimeout(resolve, 100));

    session.socket.destroy();

    const spoolDir = path.join(harness.dataDir, 'journal', 'new');
    const deadline = Date.now() + 5_000;
    while ((await readdir(spoolDir)).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(await readdir(spoolDir)).toEqual([]);
    expect(await harness.app.prisma.inboundMessage.count()).toBe(before);
  });

  it('makes one task of the same message delivered twice', async () => {
    const { raw, messageId } = handwrittenMessage({ from: 'bob@customer.test', to: 'support@example.test', subject: 'Delivered twice', text: 'Hello twice.' });

    await sendRaw(port, raw, { from: 'bob@customer.test', to: ['support@example.test'] });
    await sendRaw(port, `Received: from relay.test by mx.test; ${new Date().toUTCString()}\r\n${raw}`, { from: 'bob@customer.test', to: ['support@example.test'] });
    await harness.app.idle();

    const entries = await harness.app.prisma.inboundMessage.findMany({ where: { messageId }, orderBy: { receivedAt: 'asc' } });
    expect(entries.map((entry) => entry.status).sort()).toEqual(['duplicate', 'processed']);
    expect(await harness.app.prisma.task.count({ where: { subject: 'Delivered twice' } })).toBe(1);
  });

  it('answers 451 when the journal cannot be written, leaving nothing behind', async () => {
    const spoolDir = path.join(harness.dataDir, 'journal', 'new');
    await rm(spoolDir, { recursive: true });
    await writeFile(spoolDir, 'not a folder');
    const { raw } = handwrittenMessage({ from: 'ann@customer.test', to: 'support@example.test', subject: 'Disk trouble', text: 'Hello.' });

    const error = await sendRaw(port, raw, { from: 'ann@customer.test', to: ['support@example.test'] }).catch((caught: { responseCode?: number }) => caught);
    await rm(spoolDir);
    await mkdir(spoolDir);

    expect((error as { responseCode?: number }).responseCode).toBe(451);
    expect(await harness.app.prisma.inboundMessage.count({ where: { messageId: { contains: 'Disk' } } })).toBe(0);
    expect(await readdir(spoolDir)).toEqual([]);
  });
});
