import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/index.js';
import type { User } from '../../src/db/generated/client.js';
import { openDatabase, type PrismaClient } from '../../src/db/client.js';
import { createLogger } from '../../src/logger.js';
import { createOutboxSink } from '../../src/outbound/outbox-sink.js';
import { seedDefaultRules } from '../../src/outbound/rules/defaults.js';
import { addComment } from '../../src/tasks/add-comment.js';
import { ChangeRunner, type Actor } from '../../src/tasks/change.js';
import { createTask } from '../../src/tasks/create-task.js';
import type { DomainEvent } from '../../src/tasks/events.js';
import { createTestConfig } from '../helpers/app.js';

describe('outbox sink', () => {
  let config: Config;
  let prisma: PrismaClient;
  let runner: ChangeRunner;
  let cleanup: () => Promise<void>;
  let queued: string[][];
  let events: DomainEvent[];
  let enqueueError: Error | null;
  let kim: User;
  let anna: User;

  beforeEach(async () => {
    const test = await createTestConfig();
    config = test.config;
    prisma = await openDatabase(config.databaseUrl);
    await seedDefaultRules(prisma);
    queued = [];
    events = [];
    enqueueError = null;
    const logger = createLogger('silent');
    runner = new ChangeRunner(prisma, logger);
    runner.addSink(
      createOutboxSink({
        config,
        logger,
        enqueue: (ids) => {
          if (enqueueError) throw enqueueError;
          queued.push(ids);
        },
      }),
    );
    runner.addSink({ inTransaction: async (_tx, batch) => void events.push(...batch) });
    cleanup = async () => {
      await prisma.$disconnect();
      await test.cleanup();
    };
    kim = await prisma.user.create({ data: { email: 'kim@customer.test', name: 'Kim', role: 'customer' } });
    anna = await prisma.user.create({ data: { email: 'anna@example.test', name: 'Anna', role: 'employee' } });
  });

  afterEach(async () => {
    await cleanup();
  });

  function actor(user: User): Actor {
    return { id: user.id, role: user.role };
  }

  async function openQuery(messageId?: string) {
    return runner.run(actor(kim), 'email', async (change) => {
      const { task } = await createTask(change, { subject: 'Invoice missing', authorId: kim.id, body: 'Where is it?', channel: 'email' });
      if (messageId) await change.tx.threadMessage.create({ data: { messageId, taskId: task.id, outbound: false } });
      return task.id;
    });
  }

  it('writes pending rows and queues them after the commit', async () => {
    const taskId = await openQuery();

    const rows = await prisma.outboundMessage.findMany({ where: { taskId }, orderBy: { toAddress: 'asc' } });
    expect(rows.map((row) => [row.toAddress, row.template])).toEqual([
      ['anna@example.test', 'task-created'],
      ['kim@customer.test', 'acknowledgement'],
    ]);
    expect(queued).toHaveLength(1);
    expect([...queued[0]!].sort()).toEqual(rows.map((row) => row.id).sort());
    const created = events.find((event) => event.name === 'task.created')!;
    for (const row of rows) {
      expect(row.status).toBe('pending');
      expect(row.messageId).toBe(`${row.id}@example.test`);
      expect(row.dedupeKey).toBe(`${created.id}:${row.recipientId}`);
      expect(row.event).toBe('task.created');
      const thread = await prisma.threadMessage.findUnique({ where: { messageId: row.messageId } });
      expect(thread).toMatchObject({ taskId, outbound: true });
    }
  });

  it('writes nothing when the change rolls back', async () => {
    const failure = runner.run(actor(kim), 'email', async (change) => {
      await createTask(change, { subject: 'Rolled back', authorId: kim.id, body: 'x', channel: 'email' });
      throw new Error('work failed after the task was created');
    });

    await expect(failure).rejects.toThrow('work failed');
    expect(await prisma.outboundMessage.count()).toBe(0);
    expect(await prisma.threadMessage.count()).toBe(0);
    expect(queued).toHaveLength(0);
  });

  it('rolls the change back when writing the outbox fails', async () => {
    const failing = new ChangeRunner(prisma, createLogger('silent'));
    failing.addSink(createOutboxSink({ config, logger: createLogger('silent'), enqueue: () => undefined }));
    failing.addSink({
      inTransaction: async () => {
        throw new Error('a later sink failed');
      },
    });

    await expect(failing.run(actor(kim), 'email', (change) => createTask(change, { subject: 'Lost', authorId: kim.id, body: 'x', channel: 'email' }))).rejects.toThrow('a later sink failed');

    expect(await prisma.task.count()).toBe(0);
    expect(await prisma.outboundMessage.count()).toBe(0);
  });

  it('keeps committed rows pending when queueing fails', async () => {
    enqueueError = new Error('redis is down');

    const taskId = await openQuery();

    const rows = await prisma.outboundMessage.findMany({ where: { taskId } });
    expect(rows).toHaveLength(2);
    expect(rows.every((row) => row.status === 'pending')).toBe(true);
  });

  it('threads each mail on what its recipient has', async () => {
    const taskId = await openQuery('query-1@customer.test');
    const ack = await prisma.outboundMessage.findFirstOrThrow({ where: { taskId, template: 'acknowledgement' } });
    const toAnna = await prisma.outboundMessage.findFirstOrThrow({ where: { taskId, recipientId: anna.id } });

    await runner.run(actor(anna), 'email', (change) => addComment(change, { taskId, authorId: anna.id, body: 'Attached.', visibility: 'public' }));

    expect(ack.inReplyTo).toBe('query-1@customer.test');
    expect(toAnna.inReplyTo).toBe('query-1@customer.test');
    const reply = await prisma.outboundMessage.findFirstOrThrow({ where: { taskId, event: 'comment.public' } });
    expect(reply.toAddress).toBe(kim.email);
    expect(reply.inReplyTo).toBe(ack.messageId);
    expect(JSON.parse(reply.payload).references).toEqual(['query-1@customer.test', ack.messageId]);
    expect(JSON.parse(reply.payload).references).not.toContain(toAnna.messageId);
  });

  it('does not answer mail of the same change', async () => {
    const taskId = await openQuery();

    const rows = await prisma.outboundMessage.findMany({ where: { taskId } });

    expect(rows.map((row) => row.inReplyTo)).toEqual([null, null]);
  });

  it('skips invalid rules and applies the others', async () => {
    await prisma.notificationRule.create({ data: { name: 'broken', events: '["task.created"]', recipients: '[{"type":"everyone"}]' } });

    const taskId = await openQuery();

    expect(await prisma.outboundMessage.count({ where: { taskId } })).toBe(2);
  });

  it('ignores disabled rules', async () => {
    await prisma.notificationRule.update({ where: { name: 'acknowledge new query' }, data: { enabled: false } });

    const taskId = await openQuery();

    const rows = await prisma.outboundMessage.findMany({ where: { taskId } });
    expect(rows.map((row) => row.toAddress)).toEqual([anna.email]);
  });

  it('never mails helpdesk or no-reply addresses', async () => {
    const own = await prisma.user.create({ data: { email: 'billing@example.test', role: 'customer' } });
    const robot = await prisma.user.create({ data: { email: 'no-reply@shop.test', role: 'customer' } });

    for (const author of [own, robot]) {
      await runner.run(actor(author), 'email', (change) => createTask(change, { subject: 'Robot', authorId: author.id, body: 'x', channel: 'email' }));
    }

    const rows = await prisma.outboundMessage.findMany();
    expect(rows.map((row) => row.toAddress)).toEqual([anna.email, anna.email]);
  });
});
