import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitAddress } from '../../src/mail/addresses.js';
import { verifyThreadToken } from '../../src/mail/thread-token.js';
import { createOutboxSink } from '../../src/outbound/outbox-sink.js';
import { seedDefaultRules } from '../../src/outbound/rules/defaults.js';
import { createNotificationQueue, enqueueOutbound, startNotificationWorker, type NotificationQueue, type NotificationWorker } from '../../src/queue/index.js';
import { addComment } from '../../src/tasks/add-comment.js';
import { ChangeRunner } from '../../src/tasks/change.js';
import { createTask } from '../../src/tasks/create-task.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { createCapturingLogger, createDeliveryFixture, waitUntil, type DeliveryFixture } from '../queue/delivery-harness.js';

/** Message-ID of the customer's query, as the inbound pipeline would have recorded it. */
const QUERY_MESSAGE_ID = 'query-1@client.example.test';

describe('headers of delivered notifications', () => {
  let fixture: DeliveryFixture;
  let sink: SmtpSink;
  let queue: NotificationQueue;
  let worker: NotificationWorker;
  let acknowledgement: ParsedMail;
  let reply: ParsedMail;
  let taskId: number;

  beforeAll(async () => {
    sink = await SmtpSink.start();
    fixture = await createDeliveryFixture({ SMTP_RELAY_URL: `smtp://127.0.0.1:${sink.port}` });
    const { logger } = createCapturingLogger();
    const { prisma, config } = fixture;
    await seedDefaultRules(prisma);
    queue = createNotificationQueue(config, { attempts: 3, backoffMs: 50 });
    const runner = new ChangeRunner(prisma, logger);
    runner.addSink(createOutboxSink({ config, logger, enqueue: (ids) => enqueueOutbound(queue, ids, prisma) }));
    worker = await startNotificationWorker({ prisma, config, logger, runner });

    const customer = { id: fixture.customer.id, role: 'customer' as const };
    const created = await runner.run(customer, 'email', async (context) => {
      const result = await createTask(context, { subject: 'Invoice is wrong', authorId: customer.id, body: 'The amount is wrong.', channel: 'email' });
      await context.tx.threadMessage.create({ data: { messageId: QUERY_MESSAGE_ID, taskId: result.task.id, outbound: false } });
      return result;
    });
    taskId = created.task.id;
    const [first] = await sink.waitForMessagesTo(fixture.customer.email, 1);
    acknowledgement = await sink.parse(first!);

    const staff = { id: fixture.staff.id, role: 'employee' as const };
    await runner.run(staff, 'web', (context) => addComment(context, { taskId, authorId: staff.id, body: 'We have corrected the invoice.', visibility: 'public' }));
    const [, second] = await sink.waitForMessagesTo(fixture.customer.email, 2);
    reply = await sink.parse(second!);
  });

  afterAll(async () => {
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
    await sink.close();
    await fixture.cleanup();
  });

  it('tags both subjects with the task', () => {
    expect(acknowledgement.subject).toContain(`[#${taskId}]`);
    expect(reply.subject).toContain(`[#${taskId}]`);
  });

  it('uses the Message-ID of the outbox row', async () => {
    // The worker records `sent` in batches a few milliseconds after the relay's 250.
    const rows = await waitUntil(
      () => fixture.prisma.outboundMessage.findMany({ where: { taskId, toAddress: fixture.customer.email }, orderBy: { createdAt: 'asc' } }),
      (found) => found.every((row) => row.status === 'sent'),
    );

    expect(rows.map((row) => row.status)).toEqual(['sent', 'sent']);
    expect(acknowledgement.messageId).toBe(`<${rows[0]!.messageId}>`);
    expect(reply.messageId).toBe(`<${rows[1]!.messageId}>`);
  });

  it('answers the query with In-Reply-To and References', () => {
    expect(acknowledgement.inReplyTo).toBe(`<${QUERY_MESSAGE_ID}>`);
    expect([acknowledgement.references].flat()).toContain(`<${QUERY_MESSAGE_ID}>`);
  });

  it('threads the staff reply under earlier mail', async () => {
    const known = await fixture.prisma.threadMessage.findMany({ where: { taskId } });
    const knownIds = known.map((entry) => `<${entry.messageId}>`);
    const references = [reply.references].flat();

    expect(knownIds).toContain(reply.inReplyTo);
    expect(references[0]).toBe(`<${QUERY_MESSAGE_ID}>`);
    expect(references).toContain(reply.inReplyTo);
  });

  it('sets Reply-To to the customer token address', () => {
    const replyTo = acknowledgement.replyTo?.value[0]?.address ?? '';
    const parts = splitAddress(replyTo);
    const token = verifyThreadToken(fixture.config.threadTokenSecret, parts?.detail ?? '');

    expect(parts?.local).toBe('support');
    expect(token).toMatchObject({ taskId, userId: fixture.customer.id });
  });

  it('marks mail as automatic', () => {
    expect(acknowledgement.headers.get('auto-submitted')).toBe('auto-replied');
    expect(reply.headers.get('auto-submitted')).toBe('auto-generated');
    expect(acknowledgement.headers.get('x-auto-response-suppress')).toBe('All');
    expect(reply.headers.get('x-auto-response-suppress')).toBe('All');
    expect(acknowledgement.headers.has('precedence')).toBe(false);
  });

  it('carries the loop marker', () => {
    expect(acknowledgement.headers.get('x-postdesk-loop')).toBe(fixture.config.instanceId);
    expect(reply.headers.get('x-postdesk-loop')).toBe(fixture.config.instanceId);
  });
});
