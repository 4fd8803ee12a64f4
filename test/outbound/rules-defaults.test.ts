import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/index.js';
import type { OutboundMessage, User } from '../../src/db/generated/client.js';
import { openDatabase, type PrismaClient } from '../../src/db/client.js';
import { applyCommands } from '../../src/inbound/commands/apply-commands.js';
import { splitCommands } from '../../src/inbound/commands/parse-commands.js';
import { createLogger } from '../../src/logger.js';
import { createOutboxSink } from '../../src/outbound/outbox-sink.js';
import { outboundPayloadSchema } from '../../src/outbound/payload.js';
import { renderOutbound } from '../../src/outbound/render.js';
import { seedDefaultRules } from '../../src/outbound/rules/defaults.js';
import { addComment } from '../../src/tasks/add-comment.js';
import { ChangeRunner, type Actor } from '../../src/tasks/change.js';
import { changeStatus } from '../../src/tasks/change-status.js';
import { createTask } from '../../src/tasks/create-task.js';
import { addWatcher, assignTask, setPriority } from '../../src/tasks/update-task.js';
import { createTestConfig } from '../helpers/app.js';

/** The default rules, each checked through the real domain functions and database. */
describe('default notification rules', () => {
  let config: Config;
  let prisma: PrismaClient;
  let runner: ChangeRunner;
  let cleanup: () => Promise<void>;
  let people: Record<'admin' | 'manager' | 'anna' | 'bob' | 'otto' | 'kim' | 'lee', User>;
  let supportId: number;

  async function setUp(env: Record<string, string> = {}) {
    const test = await createTestConfig(env);
    config = test.config;
    prisma = await openDatabase(config.databaseUrl);
    await seedDefaultRules(prisma);
    const logger = createLogger('silent');
    runner = new ChangeRunner(prisma, logger);
    runner.addSink(createOutboxSink({ config, logger, enqueue: () => undefined }));
    cleanup = async () => {
      await prisma.$disconnect();
      await test.cleanup();
    };

    const support = await prisma.department.create({ data: { name: 'Support', address: 'support@example.test' } });
    const sales = await prisma.department.create({ data: { name: 'Sales' } });
    supportId = support.id;
    const manager = await prisma.user.create({ data: { email: 'maria@example.test', name: 'Maria Manager', role: 'manager', departmentId: support.id } });
    people = {
      admin: await prisma.user.create({ data: { email: 'ada@example.test', name: 'Ada Admin', role: 'admin' } }),
      manager,
      anna: await prisma.user.create({ data: { email: 'anna@example.test', name: 'Anna', role: 'employee', departmentId: support.id, managerId: manager.id } }),
      bob: await prisma.user.create({ data: { email: 'bob@example.test', name: 'Bob', role: 'employee', departmentId: support.id } }),
      otto: await prisma.user.create({ data: { email: 'otto@example.test', name: 'Otto', role: 'employee', departmentId: sales.id } }),
      kim: await prisma.user.create({ data: { email: 'kim@customer.test', name: 'Kim', role: 'customer' } }),
      lee: await prisma.user.create({ data: { email: 'lee@customer.test', name: 'Lee', role: 'customer' } }),
    };
  }

  beforeEach(async () => {
    await setUp();
  });

  afterEach(async () => {
    await cleanup();
  });

  function actor(user: User): Actor {
    return { id: user.id, role: user.role };
  }

  async function openQuery(author: User, options: { priority?: 'normal' | 'urgent'; departmentId?: number | null; assigneeId?: number | null } = {}) {
    return runner.run(actor(author), 'email', async (change) => {
      const { task } = await createTask(change, {
        subject: 'Printer on fire',
        authorId: author.id,
        body: 'It smokes.',
        channel: 'email',
        priority: options.priority ?? 'normal',
        departmentId: options.departmentId === undefined ? supportId : options.departmentId,
        assigneeId: options.assigneeId ?? null,
      });
      return task.id;
    });
  }

  async function rowsFor(taskId: number, event: string): Promise<OutboundMessage[]> {
    return prisma.outboundMessage.findMany({ where: { taskId, event }, orderBy: { toAddress: 'asc' } });
  }

  function addresses(rows: readonly OutboundMessage[]): string[] {
    return rows.map((row) => row.toAddress).sort();
  }

  it('copies urgent queries to administrators only', async () => {
    const urgent = await openQuery(people.kim, { priority: 'urgent' });
    const normal = await openQuery(people.kim);
    await runner.run(actor(people.anna), 'web', (change) => setPriority(change, normal, 'high'));
    const raised = await openQuery(people.lee);
    await runner.run(actor(people.anna), 'web', (change) => setPriority(change, raised, 'urgent'));

    expect(addresses(await rowsFor(urgent, 'task.created'))).toContain(people.admin.email);
    expect(addresses(await rowsFor(normal, 'task.created'))).not.toContain(people.admin.email);
    expect(addresses(await rowsFor(normal, 'task.priority'))).not.toContain(people.admin.email);
    expect(addresses(await rowsFor(raised, 'task.priority'))).toEqual([people.admin.email]);
    const adminRows = await prisma.outboundMessage.findMany({ where: { recipientId: people.admin.id } });
    expect(adminRows.map((row) => row.taskId).sort()).toEqual([urgent, raised].sort());
  });

  it('mails the customer for public staff replies, never internal notes', async () => {
    const taskId = await openQuery(people.kim);

    await runner.run(actor(people.anna), 'web', (change) => addComment(change, { taskId, authorId: people.anna.id, body: 'Customer seems confused.', visibility: 'internal' }));
    await runner.run(actor(people.anna), 'web', (change) => addComment(change, { taskId, authorId: people.anna.id, body: 'Please unplug it.', visibility: 'public' }));

    expect(addresses(await rowsFor(taskId, 'comment.internal'))).not.toContain(people.kim.email);
    const publicRows = await rowsFor(taskId, 'comment.public');
    const toKim = publicRows.find((row) => row.toAddress === people.kim.email);
    expect(toKim?.template).toBe('comment');
    expect(toKim?.reason).toBe('author: public staff reply');
    expect(outboundPayloadSchema.parse(JSON.parse(toKim!.payload)).comment?.body).toBe('Please unplug it.');
  });

  it('keeps internal notes from customer watchers', async () => {
    const taskId = await openQuery(people.kim);
    await runner.run(actor(people.anna), 'web', (change) => addWatcher(change, taskId, people.lee.id));

    await runner.run(actor(people.anna), 'web', (change) => addComment(change, { taskId, authorId: people.anna.id, body: 'Internal only.', visibility: 'internal' }));

    const recipients = addresses(await rowsFor(taskId, 'comment.internal'));
    expect(recipients).not.toContain(people.lee.email);
    expect(recipients).not.toContain(people.kim.email);
  });

  it("mails the assignee's manager about status changes by others only", async () => {
    const taskId = await openQuery(people.kim, { assigneeId: people.anna.id });

    await runner.run(actor(people.anna), 'email', (change) => changeStatus(change, taskId, 'in_progress'));
    const byAnna = await rowsFor(taskId, 'task.status');
    await runner.run(actor(people.manager), 'web', (change) => changeStatus(change, taskId, 'waiting'));
    const all = await rowsFor(taskId, 'task.status');

    expect(addresses(byAnna)).toEqual([people.manager.email]);
    expect(byAnna[0]!.template).toBe('status-changed');
    expect(all.filter((row) => row.toAddress === people.manager.email)).toHaveLength(1);
  });

  it('mails the assignee about assignments and customer replies', async () => {
    const taskId = await openQuery(people.kim);

    await runner.run(actor(people.manager), 'web', (change) => assignTask(change, taskId, people.anna.id));
    await runner.run(actor(people.kim), 'email', (change) => addComment(change, { taskId, authorId: people.kim.id, body: 'Any news?', visibility: 'public' }));
    await runner.run(actor(people.anna), 'email', (change) => addComment(change, { taskId, authorId: people.anna.id, body: 'Working on it.', visibility: 'public' }));
    await runner.run(actor(people.anna), 'email', (change) => assignTask(change, taskId, people.bob.id));
    await runner.run(actor(people.bob), 'email', (change) => assignTask(change, taskId, people.bob.id));

    const assignments = await rowsFor(taskId, 'task.assignee');
    expect(assignments.filter((row) => row.toAddress === people.anna.email).map((row) => row.template)).toEqual(['assigned']);
    expect(assignments.filter((row) => row.toAddress === people.bob.email)).toHaveLength(1);
    const replies = await prisma.outboundMessage.findMany({ where: { taskId, event: 'comment.public' }, orderBy: { createdAt: 'asc' } });
    const customerReply = replies.filter((row) => JSON.parse(row.payload).actor.email === people.kim.email);
    expect(addresses(customerReply)).toEqual([people.anna.email]);
    const annaReply = replies.filter((row) => JSON.parse(row.payload).actor.email === people.anna.email);
    expect(addresses(annaReply)).toEqual([people.kim.email]);
  });

  it('tells the assignee of a task created already assigned', async () => {
    const taskId = await openQuery(people.kim, { assigneeId: people.bob.id });

    const rows = await rowsFor(taskId, 'task.created');

    expect(rows.find((row) => row.toAddress === people.bob.email)?.template).toBe('assigned');
    expect(addresses(rows)).not.toContain(people.anna.email);
  });

  it("sends a new unassigned query to its department's staff", async () => {
    const taskId = await openQuery(people.kim);

    const rows = await rowsFor(taskId, 'task.created');

    const staff = rows.filter((row) => row.template === 'task-created');
    expect(addresses(staff)).toEqual([people.anna.email, people.bob.email, people.manager.email].sort());
    expect(staff[0]!.reason).toBe('new unassigned query to department');
  });

  it('sends a query without a department to all employees and managers', async () => {
    const taskId = await openQuery(people.kim, { departmentId: null });

    const rows = await rowsFor(taskId, 'task.created');

    const staff = rows.filter((row) => row.template === 'task-created');
    expect(addresses(staff)).toEqual([people.anna.email, people.bob.email, people.manager.email, people.otto.email].sort());
  });

  it('sends one mail per person per event and merges the reasons', async () => {
    const taskId = await openQuery(people.kim, { assigneeId: people.anna.id });
    await runner.run(actor(people.manager), 'web', (change) => addWatcher(change, taskId, people.anna.id));
    await prisma.notificationRule.create({ data: { name: 'support staff: every reply', events: '["comment.public"]', recipients: '[{"type":"department-members"}]' } });

    await runner.run(actor(people.kim), 'email', (change) => addComment(change, { taskId, authorId: people.kim.id, body: 'Still smoking.', visibility: 'public' }));

    const rows = await rowsFor(taskId, 'comment.public');
    const toAnna = rows.filter((row) => row.toAddress === people.anna.email);
    expect(toAnna).toHaveLength(1);
    expect(toAnna[0]!.reason).toBe('assignee: customer reply, watchers: replies and status, support staff: every reply');
    expect(JSON.parse(toAnna[0]!.payload).reasons).toEqual(['assignee: customer reply: assignee', 'watchers: replies and status: watcher', "support staff: every reply: member of the task's department"]);
    expect(new Set(rows.map((row) => row.toAddress)).size).toBe(rows.length);
  });

  it('skips inactive users and records failing addresses', async () => {
    await prisma.user.update({ where: { id: people.bob.id }, data: { active: false } });
    await prisma.user.update({ where: { id: people.anna.id }, data: { emailFailingSince: new Date('2026-01-02T03:04:05Z') } });

    const taskId = await openQuery(people.kim);

    const recipients = addresses(await rowsFor(taskId, 'task.created'));
    expect(recipients).not.toContain(people.bob.email);
    expect(recipients).not.toContain(people.anna.email);
    expect(recipients).toContain(people.manager.email);
    const skipped = await prisma.taskEvent.findMany({ where: { taskId, kind: 'mail-skipped' } });
    expect(skipped.map((event) => event.toValue)).toEqual([people.anna.email]);
    expect(JSON.parse(skipped[0]!.details!)).toMatchObject({ event: 'task.created', reason: 'address-failing' });
  });

  it('writes nothing for changes that must notify nobody', async () => {
    const taskId = await runner.run(
      actor(people.kim),
      'email',
      async (change) => (await createTask(change, { subject: 'Imported', authorId: people.kim.id, body: 'Old mail.', channel: 'email', departmentId: supportId })).task.id,
      { notify: false },
    );

    expect(await prisma.outboundMessage.count({ where: { taskId } })).toBe(0);
  });

  describe('acknowledgement', () => {
    it('acknowledges a customer query with its number', async () => {
      const taskId = await openQuery(people.kim);

      const ack = (await rowsFor(taskId, 'task.created')).find((row) => row.template === 'acknowledgement');

      expect(ack?.toAddress).toBe(people.kim.email);
      expect(ack?.reason).toBe('acknowledge new query');
      const mail = await renderOutbound(ack!, config);
      expect(mail.subject).toBe(`[#${taskId}] Printer on fire`);
      expect(mail.text).toContain(`opened query [#${taskId}]`);
      expect(mail.text).toContain('It smokes.');
    });

    it('does not acknowledge a query opened by staff', async () => {
      const taskId = await openQuery(people.anna);

      const rows = await rowsFor(taskId, 'task.created');

      expect(rows.filter((row) => row.template === 'acknowledgement')).toHaveLength(0);
      expect(addresses(rows)).not.toContain(people.anna.email);
    });

    it('does not acknowledge automatic mail', async () => {
      const journal = await prisma.inboundMessage.create({
        data: { id: 'journal-auto-1', source: 'smtp', sha256: 'x', dedupeKey: 'auto-1', envelopeTo: '[]', size: 1, rawPath: 'none', receivedAt: new Date(), kind: 'auto-reply', status: 'processed' },
      });

      const taskId = await runner.run(actor(people.kim), 'email', async (change) => {
        const { task } = await createTask(change, { subject: 'Out of office', authorId: people.kim.id, body: 'I am away.', channel: 'email', departmentId: supportId, inboundMessageId: journal.id });
        return task.id;
      });

      const rows = await rowsFor(taskId, 'task.created');
      expect(rows.filter((row) => row.template === 'acknowledgement')).toHaveLength(0);
      const skipped = await prisma.taskEvent.findFirstOrThrow({ where: { taskId, kind: 'mail-skipped' } });
      expect(JSON.parse(skipped.details!)).toMatchObject({ reason: 'automatic-query' });
    });

    it('caps acknowledgements per sender per day', async () => {
      await cleanup();
      await setUp({ ACK_MAX_PER_SENDER_PER_DAY: '2' });

      const tasks = [await openQuery(people.kim), await openQuery(people.kim), await openQuery(people.kim), await openQuery(people.lee)];

      const acks = await prisma.outboundMessage.findMany({ where: { template: 'acknowledgement' }, orderBy: { createdAt: 'asc' } });
      expect(acks.filter((row) => row.toAddress === people.kim.email).map((row) => row.taskId)).toEqual(tasks.slice(0, 2));
      expect(acks.filter((row) => row.toAddress === people.lee.email)).toHaveLength(1);
      const skipped = await prisma.taskEvent.findFirstOrThrow({ where: { taskId: tasks[2], kind: 'mail-skipped' } });
      expect(JSON.parse(skipped.details!)).toMatchObject({ reason: 'acknowledgement-limit' });
      expect(addresses(await rowsFor(tasks[2]!, 'task.created'))).toContain(people.anna.email);
    });

    it('counts only acknowledgements of the last 24 hours', async () => {
      await cleanup();
      await setUp({ ACK_MAX_PER_SENDER_PER_DAY: '1' });
      const first = await openQuery(people.kim);
      await prisma.outboundMessage.updateMany({ where: { taskId: first }, data: { createdAt: new Date(Date.now() - 25 * 60 * 60 * 1000) } });

      const second = await openQuery(people.kim);

      expect((await rowsFor(second, 'task.created')).filter((row) => row.template === 'acknowledgement')).toHaveLength(1);
    });
  });

  describe('command replies', () => {
    async function runCommands(sender: User, taskId: number, text: string) {
      await runner.run(actor(sender), 'email', async (change) => {
        const { commands } = splitCommands(text);
        await applyCommands(change, taskId, sender, commands, { allowed: true });
      });
    }

    it('answers failed commands with line, reason and usage in one mail', async () => {
      const taskId = await openQuery(people.kim);

      await runCommands(people.anna, taskId, '#status finished\n#priority whenever\n#assign me\nBody.');

      const failed = await rowsFor(taskId, 'command.failed');
      expect(addresses(failed)).toEqual([people.anna.email]);
      expect(failed[0]!.template).toBe('command-failed');
      const payload = outboundPayloadSchema.parse(JSON.parse(failed[0]!.payload));
      expect(payload.commands?.failed.map((failure) => failure.line)).toEqual(['#status finished', '#priority whenever']);
      const mail = await renderOutbound(failed[0]!, config);
      expect(mail.text).toContain('2 commands in your reply');
      expect(mail.text).toContain('Command:  #status finished');
      expect(mail.text).toContain('Problem:  unknown status "finished"');
      expect(mail.text).toContain('Write it: #status <new|in-progress|waiting|blocked|done|closed>');
      expect(mail.text).toContain('Command:  #priority whenever');
      expect(mail.html).toContain('<code>#priority whenever</code>');
    });

    it('confirms applied commands to their sender', async () => {
      const taskId = await openQuery(people.kim);

      await runCommands(people.anna, taskId, '#assign me\n#priority high');

      const applied = await rowsFor(taskId, 'command.applied');
      expect(addresses(applied)).toEqual([people.anna.email]);
      const mail = await renderOutbound(applied[0]!, config);
      expect(mail.text).toContain('#assign me');
      expect(mail.text).toContain(`assigned to ${people.anna.email}`);
      expect(mail.text).toContain('#priority high');
    });
  });
});
