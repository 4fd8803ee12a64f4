import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.js';
import { handwrittenMessage } from '../helpers/messages.js';
import { sendRaw } from '../helpers/smtp-client.js';
import { SmtpSink, type SinkMessage } from '../helpers/smtp-sink.js';
import { waitUntil } from '../queue/delivery-harness.js';

const CUSTOMER = 'carla@client.example.test';
const STAFF = 'anna@example.test';

/**
 * The whole loop over real SMTP: mail in through the app's SMTP intake, notifications
 * out through the worker to a relay (the sink), and replies to those notifications in
 * again through the intake.
 */
describe('mail round trip over SMTP', () => {
  let sink: SmtpSink;
  let harness: Awaited<ReturnType<typeof createTestApp>>;
  let taskId: number;
  let acknowledgement: ParsedMail;
  let staffNotice: ParsedMail;

  /** Send a hand-written message to the app's SMTP port and wait until it is processed. */
  async function mailIn(fields: Parameters<typeof handwrittenMessage>[0]): Promise<string> {
    const message = handwrittenMessage(fields);
    const recipient = fields.to.replace(/^.*<|>.*$/g, '');
    const sender = fields.from.replace(/^.*<|>.*$/g, '');
    await sendRaw(harness.app.smtp!.port, message.raw, { from: sender, to: [recipient] });
    await harness.app.idle();
    return message.messageId;
  }

  /** Wait until no outbox row is waiting to be sent, so that the sink has received everything. */
  function outboxDrained() {
    return waitUntil(
      () => harness.app.prisma.outboundMessage.count({ where: { status: { in: ['pending', 'queued'] } } }),
      (open) => open === 0,
    );
  }

  function replyAddressOf(mail: ParsedMail): string {
    const address = mail.replyTo?.value[0]?.address;
    if (!address) throw new Error(`mail "${mail.subject ?? ''}" has no Reply-To`);
    return address;
  }

  async function parseAll(messages: SinkMessage[]): Promise<ParsedMail[]> {
    return Promise.all(messages.map((message) => sink.parse(message)));
  }

  beforeAll(async () => {
    sink = await SmtpSink.start();
    harness = await createTestApp({ SMTP_RELAY_URL: `smtp://127.0.0.1:${sink.port}` }, ['smtp', 'inbound', 'worker']);
    const { prisma } = harness.app;
    const support = await prisma.department.upsert({ where: { name: 'Support' }, create: { name: 'Support', address: 'support@example.test' }, update: {} });
    await prisma.user.create({ data: { email: STAFF, name: 'Anna Agent', role: 'employee', departmentId: support.id } });

    await mailIn({ from: `Carla Customer <${CUSTOMER}>`, to: 'support@example.test', subject: 'Printer is on fire', text: 'Help, the printer in room 4 is on fire.' });
    const [toCustomer] = await sink.waitForMessagesTo(CUSTOMER, 1);
    const [toStaff] = await sink.waitForMessagesTo(STAFF, 1);
    acknowledgement = await sink.parse(toCustomer!);
    staffNotice = await sink.parse(toStaff!);
    taskId = (await prisma.task.findFirstOrThrow({ where: { subject: 'Printer is on fire' } })).id;
  });

  afterAll(async () => {
    await harness.cleanup();
    await sink.close();
  });

  it('acknowledges the query to the customer', () => {
    expect(acknowledgement.subject).toContain(`[#${taskId}]`);
    expect(acknowledgement.headers.get('auto-submitted')).toBe('auto-replied');
    expect(replyAddressOf(acknowledgement)).toMatch(/^support\+.+@example\.test$/);
  });

  it('puts the customer reply on the task', async () => {
    await mailIn({
      from: `Carla Customer <${CUSTOMER}>`,
      to: replyAddressOf(acknowledgement),
      subject: `Re: ${acknowledgement.subject ?? ''}`,
      text: 'It is still burning, please hurry.',
      inReplyTo: acknowledgement.messageId!.replace(/^<|>$/g, ''),
    });
    const comments = await harness.app.prisma.comment.findMany({ where: { taskId }, include: { author: true }, orderBy: { id: 'asc' } });
    const reply = comments.find((comment) => comment.body.includes('still burning'));

    expect(reply?.author?.email).toBe(CUSTOMER);
    expect(reply?.visibility).toBe('public');
  });

  it('sends a staff reply without its command', async () => {
    const before = sink.messagesTo(CUSTOMER).length;

    await mailIn({
      from: `Anna Agent <${STAFF}>`,
      to: replyAddressOf(staffNotice),
      subject: `Re: ${staffNotice.subject ?? ''}`,
      text: '#status in-progress\nThe fire brigade is on its way.',
      inReplyTo: staffNotice.messageId!.replace(/^<|>$/g, ''),
    });
    const task = await harness.app.prisma.task.findUniqueOrThrow({ where: { id: taskId } });
    await sink.waitForMessagesTo(CUSTOMER, before + 1);
    await outboxDrained();
    const received = await parseAll(sink.messagesTo(CUSTOMER).slice(before));
    const answer = received.find((mail) => (mail.text ?? '').includes('The fire brigade is on its way.'));

    expect(task.status).toBe('in_progress');
    expect(answer).toBeDefined();
    expect(answer?.subject).toContain(`[#${taskId}]`);
    for (const mail of received) {
      expect(mail.text ?? '').not.toContain('#status');
      expect(String(mail.html)).not.toContain('#status');
    }
  });

  it('keeps an internal note from the customer', async () => {
    await outboxDrained();
    const before = sink.messagesTo(CUSTOMER).length;

    await mailIn({
      from: `Anna Agent <${STAFF}>`,
      to: replyAddressOf(staffNotice),
      subject: `Re: ${staffNotice.subject ?? ''}`,
      text: '#internal\nThis model is known to overheat; order a new one.',
      inReplyTo: staffNotice.messageId!.replace(/^<|>$/g, ''),
    });
    await outboxDrained();
    const note = await harness.app.prisma.comment.findFirst({ where: { taskId, body: { contains: 'known to overheat' } } });
    const rowsToCustomer = await harness.app.prisma.outboundMessage.findMany({ where: { toAddress: CUSTOMER, event: 'comment.internal' } });
    const toCustomer = await parseAll(sink.messagesTo(CUSTOMER));

    expect(note?.visibility).toBe('internal');
    expect(rowsToCustomer).toHaveLength(0);
    expect(sink.messagesTo(CUSTOMER)).toHaveLength(before);
    expect(toCustomer.some((mail) => `${mail.text ?? ''}${String(mail.html)}`.includes('known to overheat'))).toBe(false);
  });
});
