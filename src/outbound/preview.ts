import type { Config } from '../config/index.js';
import type { User } from '../db/generated/client.js';
import type { Db } from '../db/client.js';
import { createEvent, type DomainEvent, type DomainEventName } from '../tasks/events.js';
import { STATUS_NAMES } from '../tasks/status.js';
import { normalizeAddress } from '../tasks/users.js';
import { planNotifications, type NotificationPlan } from './rules/plan.js';
import { loadEnabledRules, type InvalidRuleError } from './rules/store.js';

/** Request for a preview: an event on a task, made by someone or by the system. */
export interface PreviewRequest {
  event: DomainEventName;
  taskId: number;
  /** Address of the user who acts; by default the author for task.created and the system otherwise. */
  actorAddress?: string;
}

/** Result of a preview: who would be mailed, who would not, and the rules that could not be read. */
export interface PreviewResult {
  event: DomainEvent;
  actor: User | null;
  plan: NotificationPlan;
  invalidRules: InvalidRuleError[];
}

/** Raised for a preview of a task or actor that does not exist. */
export class PreviewError extends Error {
  readonly code = 'PREVIEW_INVALID';
}

/**
 * Find who would be mailed, and why, for an event on a task as it is now, using the
 * enabled rules. Writes nothing. The event's details are taken from the task:
 * comment events use its latest comment of that visibility, change events use the
 * current value as the new one.
 */
export async function previewNotifications(db: Db, config: Config, request: PreviewRequest): Promise<PreviewResult> {
  const task = await db.task.findUnique({ where: { id: request.taskId } });
  if (!task) throw new PreviewError(`task #${request.taskId} not found`);

  const actor = await findActor(db, request, task.authorId);
  const data = await sampleEventData(db, request.event, task, actor);
  const event = createEvent(request.event, task.id, actor?.id ?? null, 'system', data);

  const invalidRules: InvalidRuleError[] = [];
  const rules = await loadEnabledRules(db, (error) => invalidRules.push(error));
  const plan = await planNotifications(db, event, rules, {
    maxAcknowledgementsPerSenderPerDay: config.outbound.maxAcknowledgementsPerSenderPerDay,
    helpdeskAddresses: config.mail.addresses,
    catchAllDomains: config.mail.catchAllDomains,
    now: new Date(),
  });
  return { event, actor, plan, invalidRules };
}

async function findActor(db: Db, request: PreviewRequest, authorId: number): Promise<User | null> {
  if (request.actorAddress === undefined) {
    return request.event === 'task.created' ? db.user.findUnique({ where: { id: authorId } }) : null;
  }
  const actor = await db.user.findUnique({ where: { email: normalizeAddress(request.actorAddress) } });
  if (!actor) throw new PreviewError(`no user with the address ${request.actorAddress}`);
  return actor;
}

type TaskRow = NonNullable<Awaited<ReturnType<Db['task']['findUnique']>>>;

async function sampleEventData(db: Db, name: DomainEventName, task: TaskRow, actor: User | null): Promise<Record<string, unknown>> {
  switch (name) {
    case 'task.created':
      return { commentId: (await db.comment.findFirst({ where: { taskId: task.id }, orderBy: { id: 'asc' }, select: { id: true } }))?.id ?? null };
    case 'comment.public':
    case 'comment.internal': {
      const visibility = name === 'comment.public' ? 'public' : 'internal';
      const latest = await db.comment.findFirst({ where: { taskId: task.id, visibility }, orderBy: { id: 'desc' }, select: { id: true } });
      return { commentId: latest?.id ?? null };
    }
    case 'task.status':
      return { from: STATUS_NAMES[task.status], to: STATUS_NAMES[task.status] };
    case 'task.assignee':
      return { from: null, to: null, previousAssigneeId: null, assigneeId: task.assigneeId };
    case 'task.priority':
      return { from: task.priority, to: task.priority };
    case 'task.deadline':
      return { from: null, to: task.resolutionDueAt?.toISOString() ?? null };
    case 'task.category':
      return { from: null, to: null };
    case 'chain.unblocked':
      return { prerequisiteId: task.prerequisiteId };
    case 'command.failed':
      return { line: '(preview)', reason: '(preview)', usage: null, recipientId: actor?.id ?? null };
    case 'command.applied':
      return { applied: [], recipientId: actor?.id ?? null };
    case 'delivery.failed':
      return { outboundId: (await db.outboundMessage.findFirst({ where: { taskId: task.id }, orderBy: { createdAt: 'desc' }, select: { id: true } }))?.id ?? null };
    case 'deadline.warning':
    case 'deadline.breach':
      return {};
  }
}
