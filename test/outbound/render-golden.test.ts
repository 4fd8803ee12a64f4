import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/index.js';
import type { OutboundMessage } from '../../src/db/generated/client.js';
import type { OutboundPayload } from '../../src/outbound/payload.js';
import { renderOutbound, type RenderedMail } from '../../src/outbound/render.js';
import type { MailTemplate } from '../../src/outbound/rules/types.js';
import { createTestConfig } from '../helpers/app.js';

/**
 * Rendered notifications compared with the files in test/golden/mail. After an
 * intended change to a template, rewrite the files and review the diff:
 *
 *   UPDATE_GOLDEN=1 npx vitest run test/outbound/render-golden.test.ts
 *
 * Every input is fixed (ids, times, secret, instance id), so the output is stable.
 */
const GOLDEN_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'golden', 'mail');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

const kim = { id: 5, name: 'Kim Customer', email: 'kim@customer.test', role: 'customer' as const };
const anna = { id: 2, name: 'Anna Agent', email: 'anna@example.test', role: 'employee' as const };
const maria = { id: 3, name: 'Maria Manager', email: 'maria@example.test', role: 'manager' as const };

const queryBody = 'Hello,\n\nthe printer on floor 2 prints <blank> pages & smells of smoke.\nPlease help!\n\nKim';

function basePayload(): OutboundPayload {
  return {
    version: 1,
    event: 'comment.public',
    occurredAt: '2026-03-04T10:15:00.000Z',
    task: {
      id: 42,
      subject: 'Printer on fire',
      status: 'in-progress',
      priority: 'high',
      category: 'Hardware',
      department: 'Support',
      departmentAddress: 'support@example.test',
      author: kim,
      assignee: anna,
      resolutionDueAt: '2026-03-06T17:00:00.000Z',
    },
    actor: anna,
    recipient: { ...kim, staff: false },
    reasons: ['author: public staff reply: author of the task'],
    comment: null,
    query: null,
    change: null,
    commands: null,
    delivery: null,
    prerequisiteId: null,
    references: ['query-42@customer.test', '00000000-0000-4000-8000-000000000001@example.test'],
  };
}

const toAnna = { recipient: { ...anna, staff: true } };
const firstComment = { id: 100, body: queryBody, visibility: 'public' as const, author: kim, createdAt: '2026-03-04T09:00:00.000Z', attachments: [{ fileName: 'printer.jpg', contentType: 'image/jpeg', size: 48_213 }] };

/** One golden case: a template, the changes to the base payload, and whether it replies to an earlier message. */
const CASES: { name: string; template: MailTemplate; payload: Partial<OutboundPayload>; reply: boolean }[] = [
  { name: 'acknowledgement', template: 'acknowledgement', reply: true, payload: { event: 'task.created', actor: kim, reasons: ['acknowledge new query: author of the task'], comment: firstComment, references: ['query-42@customer.test'] } },
  {
    name: 'task-created-to-staff',
    template: 'task-created',
    reply: true,
    payload: { event: 'task.created', actor: kim, ...toAnna, reasons: ["new unassigned query to department: member of the task's department"], comment: firstComment, task: { ...basePayload().task, assignee: null, status: 'new' } },
  },
  {
    name: 'comment-public-to-customer',
    template: 'comment',
    reply: true,
    payload: { comment: { id: 101, body: 'Hi Kim,\n\nplease switch it off & unplug it.\n<b>Do not</b> open the cover.\n\nAnna', visibility: 'public', author: anna, createdAt: '2026-03-04T10:15:00.000Z', attachments: [] } },
  },
  {
    name: 'comment-internal-to-staff',
    template: 'comment',
    reply: true,
    payload: { event: 'comment.internal', actor: maria, ...toAnna, reasons: ['assignee: internal note: assignee'], comment: { id: 102, body: 'Facilities say the model is <recalled>.', visibility: 'internal', author: maria, createdAt: '2026-03-04T10:20:00.000Z', attachments: [] } },
  },
  { name: 'status-changed', template: 'status-changed', reply: true, payload: { event: 'task.status', ...toAnna, recipient: { ...maria, staff: true }, reasons: ["assignee's manager: status changes by others: assignee's manager"], change: { from: 'new', to: 'in-progress', reason: null } } },
  { name: 'assigned', template: 'assigned', reply: true, payload: { event: 'task.assignee', actor: maria, ...toAnna, reasons: ['assignee: new assignment: assignee'], change: { from: null, to: 'anna@example.test', reason: null }, query: firstComment } },
  { name: 'task-changed-deadline', template: 'task-changed', reply: true, payload: { event: 'task.deadline', actor: maria, ...toAnna, reasons: ['watchers: replies and status: watcher'], change: { from: null, to: '2026-03-06T17:00:00.000Z', reason: null } } },
  { name: 'chain-unblocked', template: 'chain-unblocked', reply: true, payload: { event: 'chain.unblocked', actor: null, ...toAnna, reasons: ['assignee: chain unblocked: assignee'], prerequisiteId: 41, query: firstComment } },
  {
    name: 'command-failed',
    template: 'command-failed',
    reply: true,
    payload: {
      event: 'command.failed',
      ...toAnna,
      reasons: ['failed command reply: sender of the change'],
      commands: {
        failed: [
          { line: '#status finished', reason: 'unknown status "finished"; use one of: new, in-progress, waiting, blocked, done, closed', usage: '#status <new|in-progress|waiting|blocked|done|closed>' },
          { line: '#frobnicate', reason: 'unknown command #frobnicate; known commands: #status, #assign, #priority, #deadline, #category, #internal', usage: null },
        ],
        applied: [],
      },
    },
  },
  { name: 'command-applied', template: 'command-applied', reply: true, payload: { event: 'command.applied', ...toAnna, reasons: ['applied command confirmation: sender of the change'], commands: { failed: [], applied: [{ line: '#assign me', summary: 'assigned to anna@example.test' }, { line: '#priority high', summary: 'priority set to high' }] } } },
  { name: 'delivery-failed', template: 'delivery-failed', reply: true, payload: { event: 'delivery.failed', actor: null, ...toAnna, reasons: ['delivery failure to assignee: assignee'], delivery: { toAddress: 'kim@customer.test', error: 'delivery report: 550 5.1.1 user unknown' } } },
  { name: 'deadline-breach', template: 'deadline', reply: false, payload: { event: 'deadline.breach', actor: null, ...toAnna, reasons: ['deadline warning and breach to assignee: assignee'], query: firstComment, references: [] } },
];

function row(template: MailTemplate, payload: OutboundPayload, reply: boolean): OutboundMessage {
  return {
    id: '00000000-0000-4000-8000-0000000000aa',
    taskId: payload.task.id,
    recipientId: payload.recipient.id,
    toAddress: payload.recipient.email,
    reason: 'golden',
    event: payload.event,
    template,
    payload: JSON.stringify(payload),
    dedupeKey: `golden:${payload.recipient.id}`,
    messageId: '00000000-0000-4000-8000-0000000000aa@example.test',
    inReplyTo: reply ? payload.references.at(-1) ?? null : null,
    status: 'pending',
    attempts: 0,
    lastError: null,
    sentAt: null,
    queuedAt: null,
    createdAt: new Date('2026-03-04T10:15:00.000Z'),
  };
}

function formatHeaders(mail: RenderedMail): string {
  const lines = [
    `From: ${mail.from}`,
    `To: ${mail.to}`,
    `Reply-To: ${mail.replyTo ?? ''}`,
    `Subject: ${mail.subject}`,
    `Message-ID: <${mail.messageId}>`,
    ...(mail.inReplyTo ? [`In-Reply-To: <${mail.inReplyTo}>`] : []),
    ...(mail.references.length > 0 ? [`References: ${mail.references.map((id) => `<${id}>`).join(' ')}`] : []),
    ...Object.entries(mail.headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return lines.join('\n');
}

async function compareGolden(file: string, actual: string): Promise<void> {
  const target = path.join(GOLDEN_DIR, file);
  if (UPDATE) {
    await writeFile(target, actual);
    return;
  }
  const expected = await readFile(target, 'utf8').catch(() => null);
  expect(expected, `${file} is missing; create it with UPDATE_GOLDEN=1`).not.toBeNull();
  expect(actual).toBe(expected);
}

describe('notification templates (golden files)', () => {
  let config: Config;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const test = await createTestConfig({
      THREAD_TOKEN_SECRET: 'golden-secret-golden-secret-golden-secret',
      POSTDESK_INSTANCE_ID: 'golden-instance',
      MAIL_FROM_NAME: 'Example "Help" Desk',
    });
    config = test.config;
    cleanup = test.cleanup;
  });

  afterAll(async () => {
    await cleanup();
  });

  it.each(CASES)('$name', async ({ name, template, payload, reply }) => {
    const full: OutboundPayload = { ...basePayload(), ...payload };

    const mail = await renderOutbound(row(template, full, reply), config);

    await compareGolden(`${name}.txt`, `${formatHeaders(mail)}\n\n${mail.text}`);
    await compareGolden(`${name}.html`, mail.html);
  });
});
