import { z } from 'zod';
import type { DomainEventName } from '../../tasks/events.js';

/** Every domain event a rule can listen to. */
export const RULE_EVENTS = [
  'task.created',
  'comment.public',
  'comment.internal',
  'task.status',
  'task.assignee',
  'task.priority',
  'task.deadline',
  'task.category',
  'deadline.warning',
  'deadline.breach',
  'chain.unblocked',
  'command.failed',
  'command.applied',
  'delivery.failed',
] as const satisfies readonly DomainEventName[];

/** Mail templates under templates/mail, each a .txt and .html pair. */
export const MAIL_TEMPLATES = [
  'acknowledgement',
  'task-created',
  'comment',
  'status-changed',
  'assigned',
  'task-changed',
  'chain-unblocked',
  'command-failed',
  'command-applied',
  'delivery-failed',
  'deadline',
] as const;

/** Name of a mail template. */
export type MailTemplate = (typeof MAIL_TEMPLATES)[number];

/** The template a rule without its own template uses for each event. */
export const DEFAULT_TEMPLATES: Record<DomainEventName, MailTemplate> = {
  'task.created': 'task-created',
  'comment.public': 'comment',
  'comment.internal': 'comment',
  'task.status': 'status-changed',
  'task.assignee': 'assigned',
  'task.priority': 'task-changed',
  'task.deadline': 'task-changed',
  'task.category': 'task-changed',
  'deadline.warning': 'deadline',
  'deadline.breach': 'deadline',
  'chain.unblocked': 'chain-unblocked',
  'command.failed': 'command-failed',
  'command.applied': 'command-applied',
  'delivery.failed': 'delivery-failed',
};

const role = z.enum(['customer', 'employee', 'manager', 'admin']);
const priority = z.enum(['low', 'normal', 'high', 'urgent']);
const status = z.enum(['new', 'in_progress', 'waiting', 'blocked', 'done', 'closed']);
const nonEmptyList = <T extends z.ZodTypeAny>(item: T) => z.array(item).min(1);

/**
 * Conditions of a rule; all given ones must hold. Lists match when the value is any
 * of their entries. Names and addresses compare without regard to case.
 */
export const ruleConditionsSchema = z
  .object({
    /** The task's current priority. */
    priorities: nonEmptyList(priority).optional(),
    /** The task's current status (after a status change, the new one). */
    statuses: nonEmptyList(status).optional(),
    /** Category names. */
    categories: nonEmptyList(z.string().min(1)).optional(),
    /** Department names of the task. */
    departments: nonEmptyList(z.string().min(1)).optional(),
    /** Role of the person who acted; `system` when nobody did (a timer, an import). */
    actorRoles: nonEmptyList(z.union([role, z.literal('system')])).optional(),
    /** Addresses of the people whose changes count. */
    actors: nonEmptyList(z.string().email()).optional(),
    /** Whether the task has an assignee. */
    assigned: z.boolean().optional(),
    /** Visibility of the comment; events that are not comments ignore this condition. */
    visibility: z.enum(['public', 'internal']).optional(),
    /**
     * Whether the recipient must (`yes`) or must not (`no`) be the person who acted,
     * or either (`any`). Without it the actor is never mailed about their own change.
     */
    actorIsRecipient: z.enum(['yes', 'no', 'any']).optional(),
  })
  .strict();

/** Recipient selector of a rule. Each selector names users, and one person is mailed once per event. */
export const recipientSelectorSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('author') }).strict(),
  z.object({ type: z.literal('assignee') }).strict(),
  z.object({ type: z.literal('previous-assignee') }).strict(),
  z.object({ type: z.literal('watchers') }).strict(),
  z.object({ type: z.literal('actor') }).strict(),
  z.object({ type: z.literal('assignee-manager') }).strict(),
  z.object({ type: z.literal('role'), role }).strict(),
  z.object({ type: z.literal('department-members'), department: z.string().min(1).optional() }).strict(),
  z.object({ type: z.literal('department-managers'), department: z.string().min(1).optional() }).strict(),
  z.object({ type: z.literal('users'), emails: nonEmptyList(z.string().email()) }).strict(),
]);

/** A notification rule as stored in NotificationRule, with its JSON columns parsed. */
export const ruleDefinitionSchema = z.object({
  name: z.string().trim().min(1).max(100),
  enabled: z.boolean(),
  events: nonEmptyList(z.enum(RULE_EVENTS)),
  conditions: ruleConditionsSchema,
  recipients: nonEmptyList(recipientSelectorSchema),
  template: z.enum(MAIL_TEMPLATES).nullable(),
});

/** Conditions of a rule. */
export type RuleConditions = z.infer<typeof ruleConditionsSchema>;

/** One recipient selector of a rule. */
export type RecipientSelector = z.infer<typeof recipientSelectorSchema>;

/** A validated notification rule. */
export type RuleDefinition = z.infer<typeof ruleDefinitionSchema>;

/** A rule loaded from the database. */
export interface StoredRule extends RuleDefinition {
  id: number;
}
