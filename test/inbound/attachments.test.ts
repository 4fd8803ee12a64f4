import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import MailComposer from 'nodemailer/lib/mail-composer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachmentPath } from '../../src/inbound/attachments.js';
import { buildReplyAddress } from '../../src/mail/reply-address.js';
import { createTestApp } from '../helpers/app.js';
import { handwrittenMessage } from '../helpers/messages.js';
import { sendRaw } from '../helpers/smtp-client.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

describe('attachments and automatic replies', () => {
  let harness: Awaited<ReturnType<typeof createTestApp>>;

  beforeAll(async () => {
    harness = await createTestApp({ ATTACHMENT_MAX_COUNT: '3', ATTACHMENT_MAX_SIZE: '100KB' });
  });

  afterAll(async () => {
    await harness.cleanup();
  });

  async function deliver(raw: Buffer | string, to = 'support@example.test', from = 'lena@customer.test') {
    const reply = await sendRaw(harness.app.smtp!.port, raw, { from, to: [to] });
    await harness.app.idle();
    const journalId = /queued as (\S+)/.exec(reply)![1]!;
    return harness.app.prisma.inboundMessage.findUniqueOrThrow({ where: { id: journalId } });
  }

  it('stores attachments by content with safe names and limits', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a5d7e2a30000000049454e44ae426082', 'hex');
    // nodemailer's MIME composer writes the message as a mail client would.
    const raw = await new MailComposer({
      from: 'Lena <lena@customer.test>',
      to: 'support@example.test',
      subject: 'Screenshots attached',
      text: 'See the screenshots.',
      html: '<p>See <img src="cid:shot@customer.test"></p>',
      attachments: [
        { filename: 'shot.png', content: png, cid: 'shot@customer.test' },
        { filename: '../../etc/passwd', content: 'root:x:0:0' },
        { filename: 'same-content.png', content: png },
        { filename: 'too-big.bin', content: Buffer.alloc(200 * 1024, 1) },
        { filename: 'fifth.txt', content: 'one too many' },
      ],
    })
      .compile()
      .build();

    const entry = await deliver(raw);

    const attachments = await harness.app.prisma.attachment.findMany({ where: { taskId: entry.taskId! }, orderBy: { id: 'asc' } });
    expect(attachments.map((attachment) => attachment.fileName)).toEqual(['shot.png', 'passwd', 'same-content.png']);
    expect(attachments[0]!.contentId).toBe('shot@customer.test');
    expect(attachments[0]!.inline).toBe(true);
    expect(attachments[0]!.sha256).toBe(attachments[2]!.sha256);
    expect(await readFile(attachmentPath(harness.dataDir, attachments[0]!.sha256))).toEqual(png);
    expect((await stat(attachmentPath(harness.dataDir, attachments[1]!.sha256))).size).toBe(10);
    const skipped = await harness.app.prisma.taskEvent.findFirstOrThrow({ where: { taskId: entry.taskId!, kind: 'attachments-skipped' } });
    expect(skipped.details).toContain('too-big.bin');
    expect(skipped.details).toContain('fifth.txt');
  });

  it('keeps an auto-reply to a task as a flagged note', async () => {
    // The fixture's auto-reply comes from kijitora@example.net, so that person opens the task.
    const task = await deliver(handwrittenMessage({ from: 'kijitora@example.net', to: 'support@example.test', subject: 'Away soon', text: 'Question before my holiday.' }).raw, 'support@example.test', 'kijitora@example.net');
    const address = buildReplyAddress(harness.config, task.taskId!, (await harness.app.prisma.task.findUniqueOrThrow({ where: { id: task.taskId! } })).authorId);
    const autoReply = await readFile(path.join(fixtures, 'bounces', 'rfc3834-01.eml'));

    const entry = await deliver(autoReply, address);

    expect(entry.kind).toBe('auto-reply');
    expect(entry.taskId).toBe(task.taskId);
    const note = await harness.app.prisma.comment.findUniqueOrThrow({ where: { inboundMessageId: entry.id } });
    expect(note.automatic).toBe(true);
    expect(note.visibility).toBe('internal');
    expect((await harness.app.prisma.task.findUniqueOrThrow({ where: { id: task.taskId! } })).status).toBe('new');
  });

  it('opens no task for an auto-reply to nothing', async () => {
    const autoReply = await readFile(path.join(fixtures, 'bounces', 'rfc3834-05.eml'));
    const before = await harness.app.prisma.task.count();

    const entry = await deliver(autoReply);

    expect(entry.status).toBe('ignored');
    expect(await harness.app.prisma.task.count()).toBe(before);
  });
});
