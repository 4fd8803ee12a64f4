import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReplyAddress } from '../../src/mail/reply-address.js';
import { createTestApp } from '../helpers/app.js';
import { handwrittenMessage, type HandwrittenMessage } from '../helpers/messages.js';
import { sendRaw } from '../helpers/smtp-client.js';

describe('inbound routing', () => {
  let harness: Awaited<ReturnType<typeof createTestApp>>;

  beforeAll(async () => {
    harness = await createTestApp();
  });

  afterAll(async () => {
    await harness.cleanup();
  });

  async function deliver(fields: HandwrittenMessage, envelopeTo = [fields.to]) {
    const message = handwrittenMessage(fields);
    const from = /<([^>]+)>/.exec(fields.from)?.[1] ?? fields.from;
    await sendRaw(harness.app.smtp!.port, message.raw, { from, to: envelopeTo });
    await harness.app.idle();
    const entry = await harness.app.prisma.inboundMessage.findFirstOrThrow({ where: { messageId: message.messageId } });
    return { ...message, entry };
  }

  async function openTask(subject: string, from = 'carol@customer.test') {
    const { entry } = await deliver({ from, to: 'support@example.test', subject, text: `First message of ${subject}.` });
    return harness.app.prisma.task.findUniqueOrThrow({ where: { id: entry.taskId! }, include: { author: true } });
  }

  it('routes a reply by the thread token and strips the quote', async () => {
    const task = await openTask('Token routing');
    const address = buildReplyAddress(harness.config, task.id, task.authorId);

    const { entry } = await deliver({ from: 'carol@customer.test', to: address, subject: 'Re: something else', text: 'Thanks, that helped.\n\nOn Mon, 1 Dec 2026 at 10:00, Support <support@example.test> wrote:\n> Try turning it off and on.\n' });

    expect(entry.routedBy).toBe('token');
    expect(entry.taskId).toBe(task.id);
    const comment = await harness.app.prisma.comment.findUniqueOrThrow({ where: { inboundMessageId: entry.id } });
    expect(comment.body).toBe('Thanks, that helped.');
    expect(comment.visibility).toBe('public');
  });

  it('finds the token in Cc when the envelope lost it', async () => {
    const task = await openTask('Token in Cc');
    const address = buildReplyAddress(harness.config, task.id, task.authorId);

    const { entry } = await deliver({ from: 'carol@customer.test', to: 'support@example.test', subject: 'Forwarded by a rule', text: 'Reply through a transport rule.', headers: { Cc: address } }, ['support@example.test']);

    expect(entry.routedBy).toBe('token');
    expect(entry.taskId).toBe(task.id);
  });

  it('ignores an altered token', async () => {
    const task = await openTask('Altered token');
    const address = buildReplyAddress(harness.config, task.id, task.authorId);
    const forged = address.replace(/-(\d+)-/, (_, userId: string) => `-${Number(userId) + 1}-`);

    const { entry } = await deliver({ from: 'mallory@attacker.test', to: forged, subject: 'Injected', text: 'Let me in.' });

    expect(entry.routedBy).toBe('new');
    expect(entry.taskId).not.toBe(task.id);
  });

  it('routes by In-Reply-To to a message we received', async () => {
    const first = await deliver({ from: 'dave@customer.test', to: 'support@example.test', subject: 'Threading by references', text: 'Question.' });

    const { entry } = await deliver({ from: 'dave@customer.test', to: 'support@example.test', subject: 'Re: Threading by references', text: 'One more detail.', inReplyTo: first.messageId });

    expect(entry.routedBy).toBe('references');
    expect(entry.taskId).toBe(first.entry.taskId);
  });

  it('routes by subject tag only for participants', async () => {
    const task = await openTask('Subject tag', 'erin@customer.test');

    const own = await deliver({ from: 'erin@customer.test', to: 'support@example.test', subject: `Re: [#${task.id}] Subject tag`, text: 'Me again.' });
    const stranger = await deliver({ from: 'frank@other.test', to: 'support@example.test', subject: `Re: [#${task.id}] Subject tag`, text: 'Not mine.' });

    expect(own.entry.routedBy).toBe('subject');
    expect(own.entry.taskId).toBe(task.id);
    expect(stranger.entry.routedBy).toBe('new');
    expect(stranger.entry.taskId).not.toBe(task.id);
  });

  it('routes a stranger with a valid token to a new task', async () => {
    const task = await openTask('Forwarded notification', 'gina@customer.test');
    const address = buildReplyAddress(harness.config, task.id, task.authorId);

    const { entry } = await deliver({ from: 'henry@elsewhere.test', to: address, subject: 'Re: Forwarded notification', text: 'I got this forwarded.' });

    expect(entry.taskId).not.toBe(task.id);
    const notes = await harness.app.prisma.comment.findMany({ where: { taskId: task.id, visibility: 'internal', channel: 'system' } });
    expect(notes).toHaveLength(1);
    expect(notes[0]!.body).toContain(`#${entry.taskId}`);
  });

  it('reopens a done task when the customer replies', async () => {
    const task = await openTask('Reopen on reply', 'ida@customer.test');
    await harness.app.prisma.task.update({ where: { id: task.id }, data: { status: 'done', resolvedAt: new Date() } });
    const address = buildReplyAddress(harness.config, task.id, task.authorId);

    await deliver({ from: 'ida@customer.test', to: address, subject: 'Re: Reopen on reply', text: 'It broke again.' });

    const reopened = await harness.app.prisma.task.findUniqueOrThrow({ where: { id: task.id }, include: { events: true } });
    expect(reopened.status).toBe('new');
    expect(reopened.events.some((event) => event.kind === 'status' && event.fromValue === 'done' && event.channel === 'email')).toBe(true);
  });
});
