import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/logger.js';
import { deliverOutbound } from '../../src/outbound/delivery/deliver.js';
import { createMailTransport } from '../../src/outbound/delivery/transport.js';
import { createNotificationQueue, enqueueOutbound, enqueuePendingOutbound, startNotificationWorker, type NotificationQueue, type NotificationWorker } from '../../src/queue/index.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { createCapturingLogger, createDeliveryFixture, insertOutboundRow, standInRenderer, waitUntil, type DeliveryFixture, type LogLine } from './delivery-harness.js';

const FAST_RETRIES = { attempts: 3, backoffMs: 50 };

interface Running {
  fixture: DeliveryFixture;
  sink: SmtpSink;
  queue: NotificationQueue;
  logger: Logger;
  lines: LogLine[];
  worker: NotificationWorker | null;
}

const running: Running[] = [];

/** A fixture whose relay is a fresh sink, a queue for it, and a captured log. */
async function setUp(env: Record<string, string> = {}): Promise<Running> {
  const sink = await SmtpSink.start();
  const fixture = await createDeliveryFixture({ SMTP_RELAY_URL: `smtp://127.0.0.1:${sink.port}`, ...env });
  const { logger, lines } = createCapturingLogger();
  const queue = createNotificationQueue(fixture.config, FAST_RETRIES);
  const entry: Running = { fixture, sink, queue, logger, lines, worker: null };
  running.push(entry);
  return entry;
}

async function startWorker(entry: Running): Promise<NotificationWorker> {
  entry.worker = await startNotificationWorker({
    prisma: entry.fixture.prisma,
    config: entry.fixture.config,
    logger: entry.logger,
    render: standInRenderer,
    queueOptions: FAST_RETRIES,
    concurrency: 4,
  });
  return entry.worker;
}

function readRow(entry: Running, id: string) {
  return entry.fixture.prisma.outboundMessage.findUniqueOrThrow({ where: { id } });
}

/** Wait until the queue contains no job in any state. */
function waitForEmptyQueue(queue: NotificationQueue) {
  return waitUntil(
    () => queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized'),
    (counts) => Object.values(counts).every((count) => count === 0),
  );
}

afterEach(async () => {
  for (const entry of running.splice(0)) {
    await entry.worker?.close();
    await entry.queue.obliterate({ force: true });
    await entry.queue.close();
    await entry.sink.close();
    await entry.fixture.cleanup();
  }
});

describe('notification worker', () => {
  it('retries a 4xx reply and sends once', async () => {
    const entry = await setUp();
    entry.sink.rejectNext({ stage: 'rcpt', code: 451, text: '4.7.1 Greylisted, try again later' });
    await startWorker(entry);
    const row = await insertOutboundRow(entry.fixture);

    await enqueueOutbound(entry.queue, [row.id], entry.fixture.prisma);
    await entry.sink.waitForMessages(1);
    const sent = await waitUntil(() => readRow(entry, row.id), (value) => value.status === 'sent');
    await waitForEmptyQueue(entry.queue);

    expect(entry.sink.messages).toHaveLength(1);
    expect(entry.sink.transcript.filter((line) => line.stage === 'rcpt').map((line) => line.code)).toEqual([451, 250]);
    expect(sent.attempts).toBe(2);
    expect(sent.sentAt).toBeInstanceOf(Date);
    expect(sent.lastError).toBeNull();
    expect(entry.sink.messages[0]!.messageId).toBe(row.messageId);
    expect(entry.lines.some((line) => line.level === 40 && line.msg === 'mail not sent: temporary failure; will retry')).toBe(true);
  });

  it('fails a 5xx reply without retry', async () => {
    const entry = await setUp();
    entry.sink.rejectAlways({ stage: 'rcpt', code: 550, text: '5.1.1 No such user here', address: entry.fixture.customer.email });
    await startWorker(entry);
    const row = await insertOutboundRow(entry.fixture);

    await enqueueOutbound(entry.queue, [row.id], entry.fixture.prisma);
    const failed = await waitUntil(() => readRow(entry, row.id), (value) => value.status === 'failed');
    await waitForEmptyQueue(entry.queue);

    expect(failed.attempts).toBe(1);
    expect(failed.lastError).toBe('550 5.1.1 No such user here');
    expect(entry.sink.transcript.filter((line) => line.stage === 'rcpt')).toHaveLength(1);
    expect(entry.sink.messages).toHaveLength(0);
  });

  it('shows a 5xx failure on the task', async () => {
    const entry = await setUp();
    entry.sink.rejectAlways({ stage: 'rcpt', code: 550, text: '5.1.1 No such user here' });
    await startWorker(entry);
    const row = await insertOutboundRow(entry.fixture);

    await enqueueOutbound(entry.queue, [row.id], entry.fixture.prisma);
    await waitUntil(() => readRow(entry, row.id), (value) => value.status === 'failed');
    const events = await entry.fixture.prisma.taskEvent.findMany({ where: { taskId: entry.fixture.taskId, kind: 'mail-failed' } });
    const customer = await entry.fixture.prisma.user.findUniqueOrThrow({ where: { id: entry.fixture.customer.id } });

    expect(events).toHaveLength(1);
    expect(events[0]!.channel).toBe('system');
    expect(events[0]!.toValue).toBe(entry.fixture.customer.email);
    const details = JSON.parse(events[0]!.details ?? '{}') as Record<string, unknown>;
    expect(details.response).toBe('550 5.1.1 No such user here');
    expect(details.responseCode).toBe(550);
    expect(details.permanent).toBe(true);
    expect(details.outboundId).toBe(row.id);
    expect(customer.emailFailingSince).toBeInstanceOf(Date);
  });

  it('fails a 5xx after DATA without marking the address', async () => {
    const entry = await setUp();
    entry.sink.rejectAlways({ stage: 'data', code: 554, text: '5.7.1 Message rejected as spam' });
    await startWorker(entry);
    const row = await insertOutboundRow(entry.fixture);

    await enqueueOutbound(entry.queue, [row.id], entry.fixture.prisma);
    const failed = await waitUntil(() => readRow(entry, row.id), (value) => value.status === 'failed');
    const customer = await entry.fixture.prisma.user.findUniqueOrThrow({ where: { id: entry.fixture.customer.id } });

    expect(failed.attempts).toBe(1);
    expect(failed.lastError).toBe('554 5.7.1 Message rejected as spam');
    expect(customer.emailFailingSince).toBeNull();
  });

  it('fails after the last temporary failure', async () => {
    const entry = await setUp();
    entry.sink.rejectAlways({ stage: 'data', code: 452, text: '4.3.1 Insufficient system storage' });
    await startWorker(entry);
    const row = await insertOutboundRow(entry.fixture);

    await enqueueOutbound(entry.queue, [row.id], entry.fixture.prisma);
    const failed = await waitUntil(() => readRow(entry, row.id), (value) => value.status === 'failed');
    const events = await entry.fixture.prisma.taskEvent.findMany({ where: { taskId: entry.fixture.taskId, kind: 'mail-failed' } });

    expect(failed.attempts).toBe(FAST_RETRIES.attempts);
    expect(entry.sink.transcript.filter((line) => line.stage === 'data')).toHaveLength(FAST_RETRIES.attempts);
    expect(events).toHaveLength(1);
    expect(JSON.parse(events[0]!.details ?? '{}')).toMatchObject({ permanent: false, responseCode: 452 });
  });

  it('sends once when a job runs twice', async () => {
    const entry = await setUp();
    await startWorker(entry);
    const row = await insertOutboundRow(entry.fixture);

    await enqueueOutbound(entry.queue, [row.id], entry.fixture.prisma);
    await waitUntil(() => readRow(entry, row.id), (value) => value.status === 'sent');
    await waitForEmptyQueue(entry.queue);
    await enqueueOutbound(entry.queue, [row.id], entry.fixture.prisma);
    await waitForEmptyQueue(entry.queue);
    const after = await readRow(entry, row.id);

    expect(entry.sink.messages).toHaveLength(1);
    expect(after.attempts).toBe(1);
  });

  it('sends once when two runs race', async () => {
    const entry = await setUp();
    const row = await insertOutboundRow(entry.fixture);
    const transport = createMailTransport(entry.fixture.config, entry.logger);
    const deps = { prisma: entry.fixture.prisma, config: entry.fixture.config, logger: entry.logger, transport, render: standInRenderer, inFlight: new Set<string>() };

    const outcomes = await Promise.all([deliverOutbound(deps, row.id, { final: false }), deliverOutbound(deps, row.id, { final: false })]);
    await transport.close();

    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['sent', 'skipped']);
    expect(entry.sink.messages).toHaveLength(1);
    expect((await readRow(entry, row.id)).attempts).toBe(1);
  });

  it('queues rows committed before a crash', async () => {
    const entry = await setUp();
    // The change committed, then the process died before its afterCommit enqueue ran.
    const row = await insertOutboundRow(entry.fixture);

    const queued = await enqueuePendingOutbound(entry.fixture.prisma, entry.queue);
    const job = await entry.queue.getJob(row.id);
    const marked = await readRow(entry, row.id);

    expect(queued).toBe(1);
    expect(job?.data.outboundId).toBe(row.id);
    expect(marked.status).toBe('queued');
    expect(marked.queuedAt).toBeInstanceOf(Date);
  });

  it('sends rows left pending after a restart', async () => {
    const entry = await setUp();
    const row = await insertOutboundRow(entry.fixture);

    await startWorker(entry);
    await entry.sink.waitForMessages(1);
    const sent = await waitUntil(() => readRow(entry, row.id), (value) => value.status === 'sent');

    expect(entry.sink.messages[0]!.messageId).toBe(row.messageId);
    expect(sent.attempts).toBe(1);
    expect(entry.lines.some((line) => line.msg === 'queued outbox rows left open by an earlier run' && line.rows === 1)).toBe(true);
  });

  it('holds mail over the recipient limit', async () => {
    const entry = await setUp({ MAIL_MAX_PER_RECIPIENT_PER_DAY: '2' });
    const otherTask = await entry.fixture.prisma.task.create({ data: { subject: 'Another', authorId: entry.fixture.customer.id } });
    await insertOutboundRow(entry.fixture, { status: 'sent', sentAt: new Date(), taskId: otherTask.id });
    await insertOutboundRow(entry.fixture, { status: 'sent', sentAt: new Date(Date.now() - 60 * 60 * 1000), taskId: otherTask.id });
    await insertOutboundRow(entry.fixture, { status: 'sent', sentAt: new Date(Date.now() - 25 * 60 * 60 * 1000), taskId: otherTask.id });
    await startWorker(entry);
    const row = await insertOutboundRow(entry.fixture);

    await enqueueOutbound(entry.queue, [row.id], entry.fixture.prisma);
    const held = await waitUntil(() => readRow(entry, row.id), (value) => value.status === 'held');
    const events = await entry.fixture.prisma.taskEvent.findMany({ where: { taskId: entry.fixture.taskId, kind: 'mail-held' } });
    const warning = entry.lines.find((line) => line.msg === 'mail held: send limit reached');

    expect(held.lastError).toContain('maxPerRecipientPerDay');
    expect(held.attempts).toBe(0);
    expect(entry.sink.transcript).toHaveLength(0);
    expect(warning?.level).toBe(40);
    expect(warning?.cap).toBe('maxPerRecipientPerDay');
    expect(events).toHaveLength(1);
    expect(events[0]!.toValue).toBe(entry.fixture.customer.email);
    expect(JSON.parse(events[0]!.details ?? '{}')).toMatchObject({ cap: 'maxPerRecipientPerDay', limit: 2, sent: 2, outboundId: row.id });
  });

  it('holds mail over the task limit', async () => {
    const entry = await setUp({ MAIL_MAX_PER_TASK_PER_HOUR: '1' });
    await insertOutboundRow(entry.fixture, { status: 'sent', sentAt: new Date(), recipientId: entry.fixture.staff.id, toAddress: entry.fixture.staff.email });
    await startWorker(entry);
    const row = await insertOutboundRow(entry.fixture);

    await enqueueOutbound(entry.queue, [row.id], entry.fixture.prisma);
    const held = await waitUntil(() => readRow(entry, row.id), (value) => value.status === 'held');
    const events = await entry.fixture.prisma.taskEvent.findMany({ where: { taskId: entry.fixture.taskId, kind: 'mail-held' } });

    expect(held.lastError).toContain('maxPerTaskPerHour');
    expect(entry.sink.transcript).toHaveLength(0);
    expect(events).toHaveLength(1);
    expect(entry.lines.some((line) => line.level === 40 && line.cap === 'maxPerTaskPerHour')).toBe(true);
  });

  it('writes .eml files without a relay', async () => {
    const fixture = await createDeliveryFixture();
    const { logger } = createCapturingLogger();
    const queue = createNotificationQueue(fixture.config, FAST_RETRIES);
    const worker = await startNotificationWorker({ prisma: fixture.prisma, config: fixture.config, logger, render: standInRenderer, queueOptions: FAST_RETRIES });
    try {
      const row = await insertOutboundRow(fixture);
      await enqueueOutbound(queue, [row.id], fixture.prisma);
      await enqueueOutbound(queue, [row.id], fixture.prisma);
      const sent = await waitUntil(() => fixture.prisma.outboundMessage.findUniqueOrThrow({ where: { id: row.id } }), (value) => value.status === 'sent');
      await waitForEmptyQueue(queue);
      const parsed = await simpleParser(await readFile(path.join(fixture.config.outbound.outboxDir, `${row.id}.eml`)));

      expect(await readdir(fixture.config.outbound.outboxDir)).toEqual([`${row.id}.eml`]);
      expect(parsed.messageId).toBe(`<${row.messageId}>`);
      expect(parsed.headers.get('x-postdesk-loop')).toBe(fixture.config.instanceId);
      expect(sent.attempts).toBe(1);
    } finally {
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
      await fixture.cleanup();
    }
  });

  it('skips rows already held', async () => {
    const entry = await setUp();
    await startWorker(entry);
    const row = await insertOutboundRow(entry.fixture, { status: 'held' });

    await enqueueOutbound(entry.queue, [row.id], entry.fixture.prisma);
    await waitForEmptyQueue(entry.queue);

    expect(entry.sink.transcript).toHaveLength(0);
    expect((await readRow(entry, row.id)).status).toBe('held');
  });
});
