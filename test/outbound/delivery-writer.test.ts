import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeliveryRowLoader } from '../../src/outbound/delivery/load-row.js';
import { findExceededCap } from '../../src/outbound/delivery/loop-brakes.js';
import { OutboxWriter } from '../../src/outbound/delivery/outbox-writer.js';
import { createDeliveryFixture, insertOutboundRow, type DeliveryFixture } from '../queue/delivery-harness.js';

const HOUR_MS = 60 * 60 * 1000;

let fixture: DeliveryFixture;

beforeEach(async () => {
  fixture = await createDeliveryFixture({ MAIL_MAX_PER_RECIPIENT_PER_DAY: '3', MAIL_MAX_PER_TASK_PER_HOUR: '2' });
});

afterEach(async () => {
  vi.restoreAllMocks();
  await fixture.cleanup();
});

describe('OutboxWriter', () => {
  it('marks many rows sent in one transaction', async () => {
    const rows = await Promise.all(Array.from({ length: 30 }, () => insertOutboundRow(fixture, { status: 'queued' })));
    const writer = new OutboxWriter(fixture.prisma);
    const transaction = vi.spyOn(fixture.prisma, '$transaction');

    await Promise.all(rows.map((row) => writer.markSent(row.id)));
    const stored = await fixture.prisma.outboundMessage.findMany({ where: { id: { in: rows.map((row) => row.id) } } });

    expect(transaction).toHaveBeenCalledTimes(1);
    expect(stored.every((row) => row.status === 'sent')).toBe(true);
    expect(stored.every((row) => row.attempts === 1)).toBe(true);
    expect(stored.every((row) => row.sentAt instanceof Date)).toBe(true);
  });

  it('leaves a closed row alone', async () => {
    const row = await insertOutboundRow(fixture, { status: 'failed' });

    await new OutboxWriter(fixture.prisma).markSent(row.id);
    const stored = await fixture.prisma.outboundMessage.findUniqueOrThrow({ where: { id: row.id } });

    expect(stored.status).toBe('failed');
    expect(stored.sentAt).toBeNull();
  });

  it('marks only pending rows queued', async () => {
    const pending = await insertOutboundRow(fixture);
    const sent = await insertOutboundRow(fixture, { status: 'sent', sentAt: new Date() });

    await new OutboxWriter(fixture.prisma).markQueued([pending.id, sent.id]);
    const stored = await fixture.prisma.outboundMessage.findMany({ where: { id: { in: [pending.id, sent.id] } } });

    expect(stored.find((row) => row.id === pending.id)).toMatchObject({ status: 'queued' });
    expect(stored.find((row) => row.id === pending.id)?.queuedAt).toBeInstanceOf(Date);
    expect(stored.find((row) => row.id === sent.id)).toMatchObject({ status: 'sent', queuedAt: null });
  });

  it('marks more rows than one statement takes', async () => {
    const ids = Array.from({ length: 1_200 }, (_unused, index) => `bulk-${index}`);
    await fixture.prisma.outboundMessage.createMany({
      data: ids.map((id) => ({ id, toAddress: fixture.customer.email, reason: 'test', event: 'comment.public', template: 'comment', payload: '{}', dedupeKey: id, messageId: `${id}@example.test` })),
    });

    await new OutboxWriter(fixture.prisma).markQueued(ids);

    expect(await fixture.prisma.outboundMessage.count({ where: { status: 'queued' } })).toBe(1_200);
  });

  it('survives a rollback of another transaction', async () => {
    // With the better-sqlite3 adapter a bare statement runs inside whatever transaction
    // is open on the connection; the writer must wait for it instead.
    const row = await insertOutboundRow(fixture, { status: 'queued' });
    const other = fixture.prisma
      .$transaction(async (tx) => {
        await tx.user.create({ data: { email: 'rolled-back@example.test' } });
        await new Promise((resolve) => setTimeout(resolve, 150));
        throw new Error('roll back');
      })
      .catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 20));

    await new OutboxWriter(fixture.prisma).markSent(row.id);
    await other;
    const stored = await fixture.prisma.outboundMessage.findUniqueOrThrow({ where: { id: row.id } });

    expect(stored.status).toBe('sent');
    expect(await fixture.prisma.user.count({ where: { email: 'rolled-back@example.test' } })).toBe(0);
  });
});

describe('DeliveryRowLoader', () => {
  it('returns null for a missing row', async () => {
    expect(await new DeliveryRowLoader(fixture.prisma).load('no-such-row')).toBeNull();
  });

  it('reads a row as Prisma does', async () => {
    const row = await insertOutboundRow(fixture, { inReplyTo: 'query@client.example.test' });

    const loaded = await new DeliveryRowLoader(fixture.prisma).load(row.id);
    const viaPrisma = await fixture.prisma.outboundMessage.findUniqueOrThrow({ where: { id: row.id } });

    expect(loaded?.row).toEqual(viaPrisma);
  });

  it('counts mails sent in each window', async () => {
    const now = Date.now();
    const otherTask = await fixture.prisma.task.create({ data: { subject: 'Other', authorId: fixture.customer.id } });
    await insertOutboundRow(fixture, { status: 'sent', sentAt: new Date(now - 0.5 * HOUR_MS) });
    await insertOutboundRow(fixture, { status: 'sent', sentAt: new Date(now - 2 * HOUR_MS) });
    await insertOutboundRow(fixture, { status: 'sent', sentAt: new Date(now - 25 * HOUR_MS) });
    await insertOutboundRow(fixture, { status: 'sent', sentAt: new Date(now - 0.5 * HOUR_MS), taskId: otherTask.id });
    await insertOutboundRow(fixture, { status: 'failed', sentAt: null });
    await insertOutboundRow(fixture, { status: 'sent', sentAt: new Date(now - 0.2 * HOUR_MS), toAddress: fixture.staff.email, recipientId: fixture.staff.id });
    const row = await insertOutboundRow(fixture);

    const loaded = await new DeliveryRowLoader(fixture.prisma).load(row.id);

    expect(loaded?.sentToRecipient).toBe(3);
    expect(loaded?.sentAboutTask).toBe(2);
  });

  it('reads many rows in one query', async () => {
    const rows = await Promise.all(Array.from({ length: 20 }, () => insertOutboundRow(fixture)));
    const loader = new DeliveryRowLoader(fixture.prisma);
    const query = vi.spyOn(fixture.prisma, '$queryRaw');

    const loaded = await Promise.all(rows.map((row) => loader.load(row.id)));

    expect(query).toHaveBeenCalledTimes(1);
    expect(loaded.map((entry) => entry?.row.id)).toEqual(rows.map((row) => row.id));
  });
});

describe('findExceededCap', () => {
  it('holds at the recipient limit', async () => {
    const row = await insertOutboundRow(fixture);

    const exceeded = findExceededCap({ row, sentToRecipient: 3, sentAboutTask: 0 }, fixture.config);

    expect(exceeded).toMatchObject({ cap: 'maxPerRecipientPerDay', limit: 3, sent: 3 });
    expect(exceeded?.description).toContain(row.toAddress);
  });

  it('holds at the task limit', async () => {
    const row = await insertOutboundRow(fixture);

    expect(findExceededCap({ row, sentToRecipient: 2, sentAboutTask: 2 }, fixture.config)).toMatchObject({ cap: 'maxPerTaskPerHour', limit: 2 });
  });

  it('passes below both limits', async () => {
    const row = await insertOutboundRow(fixture);

    expect(findExceededCap({ row, sentToRecipient: 2, sentAboutTask: 1 }, fixture.config)).toBeNull();
  });

  it('ignores the task limit without a task', async () => {
    const row = await insertOutboundRow(fixture, { taskId: null });

    expect(findExceededCap({ row, sentToRecipient: 0, sentAboutTask: 5 }, fixture.config)).toBeNull();
  });
});
