import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../src/db/generated/client.js';
import { buildReplyAddress } from '../../src/mail/reply-address.js';
import { createTestApp } from '../helpers/app.js';
import { handwrittenMessage } from '../helpers/messages.js';
import { sendRaw } from '../helpers/smtp-client.js';

describe('mail commands', () => {
  let harness: Awaited<ReturnType<typeof createTestApp>>;
  let agent: User;
  let colleague: User;

  beforeAll(async () => {
    harness = await createTestApp();
    agent = await harness.app.prisma.user.create({ data: { email: 'agent@example.test', name: 'Agent', role: 'employee' } });
    colleague = await harness.app.prisma.user.create({ data: { email: 'colleague@example.test', role: 'employee' } });
    await harness.app.prisma.category.create({ data: { name: 'Billing' } });
  });

  afterAll(async () => {
    await harness.cleanup();
  });

  async function deliver(from: string, to: string, subject: string, text: string) {
    const message = handwrittenMessage({ from, to, subject, text });
    await sendRaw(harness.app.smtp!.port, message.raw, { from, to: [to] });
    await harness.app.idle();
    return harness.app.prisma.inboundMessage.findFirstOrThrow({ where: { messageId: message.messageId } });
  }

  async function openTask(subject: string) {
    const entry = await deliver('kim@customer.test', 'support@example.test', subject, 'Please help.');
    return entry.taskId!;
  }

  it('applies commands from the staff member the token was issued to', async () => {
    const taskId = await openTask('Commands applied');
    const address = buildReplyAddress(harness.config, taskId, agent.id);

    const entry = await deliver('agent@example.test', address, 'Re: Commands applied', `#status in-progress\n#assign ${colleague.email}\n#priority urgent\n#deadline 2099-12-20\n#category billing\n\nWe are on it.\n\nOn Tue, Kim wrote:\n> Please help.`);

    const task = await harness.app.prisma.task.findUniqueOrThrow({ where: { id: taskId }, include: { events: true, category: true } });
    expect(task.status).toBe('in_progress');
    expect(task.assigneeId).toBe(colleague.id);
    expect(task.priority).toBe('urgent');
    expect(task.resolutionDueAt?.toISOString()).toBe('2099-12-20T23:59:59.000Z');
    expect(task.category?.name).toBe('Billing');
    const kinds = task.events.filter((event) => event.channel === 'email' && event.actorId === agent.id).map((event) => event.kind);
    expect(kinds).toEqual(expect.arrayContaining(['status', 'assignee', 'priority', 'deadline', 'category']));
    const comment = await harness.app.prisma.comment.findUniqueOrThrow({ where: { inboundMessageId: entry.id } });
    expect(comment.body).toBe('We are on it.');
    expect(comment.visibility).toBe('public');
    expect(task.firstRespondedAt).not.toBeNull();
  });

  it('assigns an unassigned task to the first staff member who answers', async () => {
    const taskId = await openTask('First answer assigns');
    const address = buildReplyAddress(harness.config, taskId, agent.id);

    await deliver('agent@example.test', address, 'Re: First answer assigns', 'Here is the answer.');

    const task = await harness.app.prisma.task.findUniqueOrThrow({ where: { id: taskId } });
    expect(task.assigneeId).toBe(agent.id);
  });

  it('makes a reply internal with #internal', async () => {
    const taskId = await openTask('Internal note');
    const address = buildReplyAddress(harness.config, taskId, agent.id);

    const entry = await deliver('agent@example.test', address, 'Re: Internal note', '#internal\nThe customer is on the old plan.');

    const comment = await harness.app.prisma.comment.findUniqueOrThrow({ where: { inboundMessageId: entry.id } });
    expect(comment.visibility).toBe('internal');
    expect(comment.body).toBe('The customer is on the old plan.');
  });

  it('records a bad command with its reason and changes nothing', async () => {
    const taskId = await openTask('Bad commands');
    const address = buildReplyAddress(harness.config, taskId, agent.id);

    const entry = await deliver('agent@example.test', address, 'Re: Bad commands', '#status finished\n#priority whenever\n#deadline 2026-02-30\n#assign kim@customer.test\n#frobnicate\nText.');

    const task = await harness.app.prisma.task.findUniqueOrThrow({ where: { id: taskId }, include: { events: { where: { kind: 'command-failed' } } } });
    expect(task.status).toBe('new');
    expect(task.priority).toBe('normal');
    expect(task.resolutionDueAt).toBeNull();
    expect(task.assigneeId).toBeNull();
    const reasons = task.events.map((event) => JSON.parse(event.details!) as { line: string; reason: string });
    expect(reasons.map((reason) => reason.line)).toEqual(['#status finished', '#priority whenever', '#deadline 2026-02-30', '#assign kim@customer.test', '#frobnicate']);
    expect(reasons[0]!.reason).toContain('unknown status "finished"');
    expect(reasons[3]!.reason).toContain('not an active staff member');
    expect(reasons[4]!.reason).toContain('unknown command #frobnicate');
    const comment = await harness.app.prisma.comment.findUniqueOrThrow({ where: { inboundMessageId: entry.id } });
    expect(comment.visibility).toBe('internal');
  });

  it('refuses commands from staff replying with someone else\'s token', async () => {
    const taskId = await openTask('Wrong token');
    const customerAddress = buildReplyAddress(harness.config, taskId, (await harness.app.prisma.task.findUniqueOrThrow({ where: { id: taskId } })).authorId);

    await deliver('agent@example.test', customerAddress, 'Re: Wrong token', '#status done\nClosing.');

    const task = await harness.app.prisma.task.findUniqueOrThrow({ where: { id: taskId }, include: { events: { where: { kind: 'command-failed' } } } });
    expect(task.status).toBe('new');
    expect(task.events).toHaveLength(1);
    expect(task.events[0]!.details).toContain('your own notification');
  });

  it('refuses commands sent to the plain address with a forged From', async () => {
    const taskId = await openTask('Forged From');

    await deliver('agent@example.test', 'support@example.test', `Re: [#${taskId}] Forged From`, '#status closed');

    const task = await harness.app.prisma.task.findUniqueOrThrow({ where: { id: taskId } });
    expect(task.status).toBe('new');
  });

  it('keeps command-like lines from customers as text', async () => {
    const taskId = await openTask('Customer hashtag');
    const task = await harness.app.prisma.task.findUniqueOrThrow({ where: { id: taskId } });
    const address = buildReplyAddress(harness.config, taskId, task.authorId);

    const entry = await deliver('kim@customer.test', address, 'Re: Customer hashtag', '#status done please\nI think it is fixed.');

    expect((await harness.app.prisma.task.findUniqueOrThrow({ where: { id: taskId } })).status).toBe('new');
    const comment = await harness.app.prisma.comment.findUniqueOrThrow({ where: { inboundMessageId: entry.id } });
    expect(comment.body).toBe('#status done please\nI think it is fixed.');
  });
});
