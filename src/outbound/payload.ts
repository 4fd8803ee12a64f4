import { z } from 'zod';
import type { User } from '../db/generated/client.js';
import type { Db } from '../db/client.js';
import type { DomainEvent } from '../tasks/events.js';
import { STATUS_NAMES } from '../tasks/status.js';
import { isStaff } from '../tasks/users.js';
import type { EventFacts } from './rules/facts.js';
import type { PlannedDelivery } from './rules/plan.js';
import { RULE_EVENTS } from './rules/types.js';

const role = z.enum(['customer', 'employee', 'manager', 'admin']);
const person = z.object({ id: z.number().int(), name: z.string().nullable(), email: z.string(), role });
const comment = z.object({
  id: z.number().int(),
  body: z.string(),
  visibility: z.enum(['public', 'internal']),
  author: person.nullable(),
  createdAt: z.string(),
  attachments: z.array(z.object({ fileName: z.string(), contentType: z.string(), size: z.number().int() })),
});

/**
 * Values a notification shows, frozen when the change commits. Later edits to the task
 * or the comment do not change a mail that is waiting to be sent.
 */
export const outboundPayloadSchema = z.object({
  version: z.literal(1),
  event: z.enum(RULE_EVENTS),
  /** ISO time of the change. */
  occurredAt: z.string(),
  task: z.object({
    id: z.number().int(),
    subject: z.string(),
    status: z.string(),
    priority: z.string(),
    category: z.string().nullable(),
    department: z.string().nullable(),
    /** Helpdesk address of the task's department; replies go to its token form. */
    departmentAddress: z.string().nullable(),
    author: person,
    assignee: person.nullable(),
    resolutionDueAt: z.string().nullable(),
  }),
  actor: person.nullable(),
  recipient: person.extend({ staff: z.boolean() }),
  /** Why this person gets the mail: one `rule: selector` entry per match. */
  reasons: z.array(z.string()),
  /** The comment the event is about (a new query, reply or note). */
  comment: comment.nullable(),
  /** The task's first public comment, for events about a task that carry no comment of their own. */
  query: comment.nullable(),
  /** The changed field for status, assignee, priority, deadline and category events. */
  change: z.object({ from: z.string().nullable(), to: z.string().nullable(), reason: z.string().nullable() }).nullable(),
  commands: z
    .object({
      failed: z.array(z.object({ line: z.string(), reason: z.string(), usage: z.string().nullable() })),
      applied: z.array(z.object({ line: z.string(), summary: z.string() })),
    })
    .nullable(),
  delivery: z.object({ toAddress: z.string(), error: z.string().nullable() }).nullable(),
  prerequisiteId: z.number().int().nullable(),
  /** Message-IDs (without angle brackets) for the References header, oldest first. */
  references: z.array(z.string()),
});

/** The JSON stored in OutboundMessage.payload. */
export type OutboundPayload = z.infer<typeof outboundPayloadSchema>;

/** The part of a payload that is the same for every recipient of an event. */
export type EventContent = Omit<OutboundPayload, 'recipient' | 'reasons' | 'references'>;

/**
 * Gather what the mails about an event show. `group` contains the event and any events
 * merged into it: the failed commands of one message become one reply.
 */
export async function buildEventContent(db: Db, facts: EventFacts, group: readonly DomainEvent[]): Promise<EventContent> {
  const { event, task, actor } = facts;

  return {
    version: 1,
    event: event.name,
    occurredAt: new Date().toISOString(),
    task: {
      id: task.id,
      subject: task.subject,
      status: STATUS_NAMES[task.status],
      priority: task.priority,
      category: task.category?.name ?? null,
      department: task.department?.name ?? null,
      departmentAddress: task.department?.address ?? null,
      author: toPerson(task.author),
      assignee: task.assignee ? toPerson(task.assignee) : null,
      resolutionDueAt: task.resolutionDueAt?.toISOString() ?? null,
    },
    actor: actor ? toPerson(actor) : null,
    comment: await loadComment(db, numberField(event.data, 'commentId')),
    query: QUERY_EVENTS.includes(event.name) ? await loadQuery(db, task.id) : null,
    change: readChange(event),
    commands: readCommands(event, group),
    delivery: await loadDelivery(db, event),
    prerequisiteId: numberField(event.data, 'prerequisiteId'),
  };
}

/** Complete the content for one recipient, with the References of that recipient's thread. */
export function personalizePayload(content: EventContent, delivery: PlannedDelivery, references: readonly string[]): OutboundPayload {
  return { ...content, recipient: { ...toPerson(delivery.user), staff: isStaff(delivery.user.role) }, reasons: delivery.reasons, references: [...references] };
}

function toPerson(user: User) {
  return { id: user.id, name: user.name, email: user.email, role: user.role };
}

/** Events whose mails show the query, because the assignee has to act on it. */
const QUERY_EVENTS: readonly string[] = ['task.assignee', 'chain.unblocked', 'deadline.warning', 'deadline.breach'];

async function loadQuery(db: Db, taskId: number): Promise<OutboundPayload['query']> {
  const first = await db.comment.findFirst({ where: { taskId, visibility: 'public', automatic: false }, orderBy: { id: 'asc' }, select: { id: true } });
  return first ? loadComment(db, first.id) : null;
}

async function loadComment(db: Db, commentId: number | null): Promise<OutboundPayload['comment']> {
  if (commentId === null) return null;

  const comment = await db.comment.findUnique({ where: { id: commentId }, include: { author: true, attachments: { orderBy: { id: 'asc' } } } });
  if (!comment) return null;
  return {
    id: comment.id,
    body: comment.body,
    visibility: comment.visibility,
    author: comment.author ? toPerson(comment.author) : null,
    createdAt: comment.createdAt.toISOString(),
    attachments: comment.attachments.map((attachment) => ({ fileName: attachment.fileName, contentType: attachment.contentType, size: attachment.size })),
  };
}

const CHANGE_EVENTS: readonly string[] = ['task.status', 'task.assignee', 'task.priority', 'task.deadline', 'task.category'];

function readChange(event: DomainEvent): OutboundPayload['change'] {
  if (!CHANGE_EVENTS.includes(event.name)) return null;
  return { from: stringField(event.data, 'from'), to: stringField(event.data, 'to'), reason: stringField(event.data, 'reason') };
}

function readCommands(event: DomainEvent, group: readonly DomainEvent[]): OutboundPayload['commands'] {
  if (event.name === 'command.failed') {
    const failed = group.map((member) => ({ line: stringField(member.data, 'line') ?? '', reason: stringField(member.data, 'reason') ?? '', usage: stringField(member.data, 'usage') }));
    return { failed, applied: [] };
  }
  if (event.name === 'command.applied') {
    const applied = Array.isArray(event.data['applied']) ? (event.data['applied'] as unknown[]) : [];
    return {
      failed: [],
      applied: applied.map((entry) => {
        const record = (entry ?? {}) as Record<string, unknown>;
        return { line: stringField(record, 'line') ?? '', summary: stringField(record, 'summary') ?? '' };
      }),
    };
  }
  return null;
}

async function loadDelivery(db: Db, event: DomainEvent): Promise<OutboundPayload['delivery']> {
  if (event.name !== 'delivery.failed') return null;
  const outboundId = event.data['outboundId'];
  if (typeof outboundId !== 'string') return null;

  const original = await db.outboundMessage.findUnique({ where: { id: outboundId }, select: { toAddress: true, lastError: true } });
  return original ? { toAddress: original.toAddress, error: original.lastError } : null;
}

function stringField(data: Record<string, unknown>, key: string): string | null {
  const value = data[key];
  return typeof value === 'string' ? value : null;
}

function numberField(data: Record<string, unknown>, key: string): number | null {
  const value = data[key];
  return typeof value === 'number' && Number.isInteger(value) ? value : null;
}
