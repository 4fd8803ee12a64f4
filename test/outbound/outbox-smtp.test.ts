import nodemailer from 'nodemailer';
import { afterEach, describe, expect, it } from 'vitest';
import type { User } from '../../src/db/generated/client.js';
import { buildReplyAddress } from '../../src/mail/reply-address.js';
import { renderOutbound, type RenderedMail } from '../../src/outbound/render.js';
import { createTestApp } from '../helpers/app.js';
import { handwrittenMessage } from '../helpers/messages.js';
import { sendRaw } from '../helpers/smtp-client.js';

/** Mail in over a real SMTP session, outbox rows out: the whole path up to the queue. */
describe('outbox with mail in over SMTP', () => {
  let harness: Awaited<ReturnType<typeof createTestApp>>;
  let anna: User;

  async function start(env: Record<string, string> = {}) {
    harness = await createTestApp(env, ['smtp', 'inbound']);
    // The app seeds the default rules and registers the outbox sink; without the worker role the jobs stay queued.
    const support = await harness.app.prisma.department.upsert({ where: { name: 'Support' }, create: { name: 'Support', address: 'support@example.test' }, update: {} });
    anna = await harness.app.prisma.user.create({ data: { email: 'anna@example.test', name: 'Anna', role: 'employee', departmentId: support.id } });
  }

  afterEach(async () => {
    await harness.cleanup();
  });

  async function deliver(fields: Parameters<typeof handwrittenMessage>[0]) {
    const message = handwrittenMessage(fields);
    await sendRaw(harness.app.smtp!.port, message.raw, { from: fields.from, to: [fields.to] });
    await harness.app.idle();
    const entry = await harness.app.prisma.inboundMessage.findFirstOrThrow({ where: { messageId: message.messageId } });
    return { entry, messageId: message.messageId };
  }

  /** Build the raw message nodemailer would send for a rendered mail. */
  async function compose(mail: RenderedMail): Promise<string> {
    const transport = nodemailer.createTransport({ streamTransport: true, buffer: true });
    const info = await transport.sendMail({ from: mail.from, to: mail.to, replyTo: mail.replyTo ?? undefined, subject: mail.subject, text: mail.text, html: mail.html, headers: mail.headers, messageId: mail.messageId, inReplyTo: mail.inReplyTo ?? undefined, references: mail.references });
    return (info.message as Buffer).toString('utf8');
  }

  it('acknowledges a new query and tells the department', async () => {
    await start();

    const { entry, messageId } = await deliver({ from: 'Kim <kim@customer.test>', to: 'support@example.test', subject: 'Printer on fire', text: 'It smokes.' });

    const rows = await harness.app.prisma.outboundMessage.findMany({ where: { taskId: entry.taskId! }, orderBy: { toAddress: 'asc' } });
    expect(rows.map((row) => [row.toAddress, row.template])).toEqual([
      ['anna@example.test', 'task-created'],
      ['kim@customer.test', 'acknowledgement'],
    ]);
    const queued = (await harness.app.queue.getJobs(['waiting', 'delayed', 'prioritized'])).map((job) => job.id!);
    expect(queued.sort()).toEqual(rows.map((row) => row.id).sort());
    const ack = rows[1]!;
    expect(ack.inReplyTo).toBe(messageId);
    const mail = await renderOutbound(ack, harness.config);
    expect(mail.subject).toBe(`Re: [#${entry.taskId}] Printer on fire`);
    expect(mail.text).toContain('It smokes.');
  });

  it('opens no task and sends nothing for an autoresponder', async () => {
    await start();

    const { entry } = await deliver({ from: 'kim@customer.test', to: 'support@example.test', subject: 'Out of office', text: 'I am away.', headers: { 'Auto-Submitted': 'auto-replied' } });

    expect(entry.taskId).toBeNull();
    expect(await harness.app.prisma.outboundMessage.count()).toBe(0);
  });

  it('caps acknowledgements to one sender', async () => {
    await start({ ACK_MAX_PER_SENDER_PER_DAY: '2' });

    for (const subject of ['One', 'Two', 'Three']) await deliver({ from: 'kim@customer.test', to: 'support@example.test', subject, text: 'Help.' });

    expect(await harness.app.prisma.task.count()).toBe(3);
    expect(await harness.app.prisma.outboundMessage.count({ where: { template: 'acknowledgement' } })).toBe(2);
    expect(await harness.app.prisma.outboundMessage.count({ where: { template: 'task-created' } })).toBe(3);
  });

  it('answers a failed command to the staff member who sent it', async () => {
    await start();
    const { entry } = await deliver({ from: 'kim@customer.test', to: 'support@example.test', subject: 'Broken', text: 'Help.' });
    const taskId = entry.taskId!;

    await deliver({ from: 'anna@example.test', to: buildReplyAddress(harness.config, taskId, anna.id, 'support@example.test'), subject: `Re: [#${taskId}] Broken`, text: '#status finished\nOn it.' });

    const failed = await harness.app.prisma.outboundMessage.findMany({ where: { taskId, event: 'command.failed' } });
    expect(failed.map((row) => row.toAddress)).toEqual(['anna@example.test']);
    const mail = await renderOutbound(failed[0]!, harness.config);
    expect(mail.text).toContain('Command:  #status finished');
    expect(mail.text).toContain('Problem:  unknown status "finished"');
    expect(mail.text).toContain('Write it: #status <new|in-progress|waiting|blocked|done|closed>');
    expect(await harness.app.prisma.outboundMessage.count({ where: { taskId, toAddress: 'kim@customer.test', event: { not: 'task.created' } } })).toBe(0);
  });

  it('routes the customer reply to a notification back to its task', async () => {
    await start();
    const { entry } = await deliver({ from: 'kim@customer.test', to: 'support@example.test', subject: 'Invoice', text: 'Where is it?' });
    const taskId = entry.taskId!;
    await deliver({ from: 'anna@example.test', to: buildReplyAddress(harness.config, taskId, anna.id, 'support@example.test'), subject: `Re: [#${taskId}] Invoice`, text: '#assign me\nIt is attached now.' });
    const toKim = await harness.app.prisma.outboundMessage.findFirstOrThrow({ where: { taskId, event: 'comment.public', toAddress: 'kim@customer.test' } });
    const mail = await renderOutbound(toKim, harness.config);

    const answer = await deliver({ from: 'kim@customer.test', to: mail.replyTo!, subject: mail.subject, text: 'Thanks, got it.', inReplyTo: mail.messageId });

    expect(answer.entry.taskId).toBe(taskId);
    expect(answer.entry.routedBy).toBe('token');
    const toAnna = await harness.app.prisma.outboundMessage.findMany({ where: { taskId, event: 'comment.public', toAddress: 'anna@example.test' } });
    expect(toAnna).toHaveLength(1);
    expect(toAnna[0]!.reason).toBe('assignee: customer reply');
  });

  it('recognises its own notification coming back as a loop', async () => {
    await start();
    const { entry } = await deliver({ from: 'kim@customer.test', to: 'support@example.test', subject: 'Echo', text: 'Hello?' });
    const ack = await harness.app.prisma.outboundMessage.findFirstOrThrow({ where: { taskId: entry.taskId!, template: 'acknowledgement' } });
    const raw = await compose(await renderOutbound(ack, harness.config));
    const before = await harness.app.prisma.outboundMessage.count();

    await sendRaw(harness.app.smtp!.port, raw, { from: 'support@example.test', to: ['support@example.test'] });
    await harness.app.idle();

    const echoed = await harness.app.prisma.inboundMessage.findFirstOrThrow({ where: { messageId: ack.messageId } });
    expect(echoed.kind).toBe('loop');
    expect(echoed.status).toBe('ignored');
    expect(await harness.app.prisma.outboundMessage.count()).toBe(before);
    expect(await harness.app.prisma.task.count()).toBe(1);
  });
});
