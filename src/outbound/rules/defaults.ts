import { createHash } from 'node:crypto';
import type { PrismaClient } from '../../db/client.js';
import { parseRuleRow, ruleToRow } from './store.js';
import type { RuleDefinition } from './types.js';

/**
 * The rules a new installation starts with. Administrators change them from the
 * command line; seeding never undoes their changes.
 */
export const DEFAULT_RULES: readonly RuleDefinition[] = [
  {
    name: 'acknowledge new query',
    enabled: true,
    events: ['task.created'],
    conditions: { actorRoles: ['customer'], actorIsRecipient: 'yes' },
    recipients: [{ type: 'author' }],
    template: 'acknowledgement',
  },
  {
    name: 'new unassigned query to department',
    enabled: true,
    events: ['task.created'],
    conditions: { assigned: false },
    recipients: [{ type: 'department-members' }],
    template: null,
  },
  {
    name: 'assignee: new assignment',
    enabled: true,
    events: ['task.created', 'task.assignee'],
    conditions: { assigned: true },
    recipients: [{ type: 'assignee' }],
    template: 'assigned',
  },
  {
    name: 'assignee: customer reply',
    enabled: true,
    events: ['comment.public'],
    conditions: { actorRoles: ['customer'] },
    recipients: [{ type: 'assignee' }],
    template: null,
  },
  {
    name: 'assignee: internal note',
    enabled: true,
    events: ['comment.internal'],
    conditions: {},
    recipients: [{ type: 'assignee' }],
    template: null,
  },
  {
    name: 'author: public staff reply',
    enabled: true,
    events: ['comment.public'],
    conditions: { actorRoles: ['employee', 'manager', 'admin'], visibility: 'public' },
    recipients: [{ type: 'author' }],
    template: null,
  },
  {
    name: "assignee's manager: status changes by others",
    enabled: true,
    events: ['task.status'],
    conditions: {},
    recipients: [{ type: 'assignee-manager' }],
    template: null,
  },
  {
    name: 'administration: urgent queries',
    enabled: true,
    events: ['task.created', 'task.priority'],
    conditions: { priorities: ['urgent'] },
    recipients: [{ type: 'role', role: 'admin' }],
    template: null,
  },
  {
    name: 'watchers: replies and status',
    enabled: true,
    events: ['comment.public', 'comment.internal', 'task.status'],
    conditions: {},
    recipients: [{ type: 'watchers' }],
    template: null,
  },
  {
    name: 'assignee: chain unblocked',
    enabled: true,
    events: ['chain.unblocked'],
    conditions: {},
    recipients: [{ type: 'assignee' }],
    template: null,
  },
  {
    name: 'deadline warning and breach to assignee',
    enabled: true,
    events: ['deadline.warning', 'deadline.breach'],
    conditions: {},
    recipients: [{ type: 'assignee' }],
    template: null,
  },
  {
    name: "deadline breach to assignee's manager",
    enabled: true,
    events: ['deadline.breach'],
    conditions: {},
    recipients: [{ type: 'assignee-manager' }],
    template: null,
  },
  {
    name: 'delivery failure to assignee',
    enabled: true,
    events: ['delivery.failed'],
    conditions: {},
    recipients: [{ type: 'assignee' }],
    template: null,
  },
  {
    name: 'failed command reply',
    enabled: true,
    events: ['command.failed'],
    conditions: { actorIsRecipient: 'yes' },
    recipients: [{ type: 'actor' }],
    template: null,
  },
  {
    name: 'applied command confirmation',
    enabled: true,
    events: ['command.applied'],
    conditions: { actorIsRecipient: 'yes' },
    recipients: [{ type: 'actor' }],
    template: null,
  },
];

/** Setting that stores, per default rule, a fingerprint of the definition last seeded. */
export const SEEDED_RULES_SETTING = 'notification-rules.seeded';

/** Outcome of seeding: the names of the rules created, updated and kept. */
export interface SeedResult {
  created: string[];
  updated: string[];
  /** Defaults left as they are because an administrator changed or removed them. */
  keptByAdmin: string[];
}

/**
 * Create the default rules that were never seeded, and update a seeded rule to a newer
 * default only while it still matches what was seeded. A rule an administrator
 * changed, disabled or removed stays as the administrator left it. Safe to run at
 * every start and from several processes.
 */
export async function seedDefaultRules(prisma: PrismaClient, defaults: readonly RuleDefinition[] = DEFAULT_RULES): Promise<SeedResult> {
  return prisma.$transaction(async (tx) => {
    // Write first: SQLite then takes the write lock before this transaction reads
    // anything, so a second process waits here instead of failing on a stale read.
    await tx.setting.updateMany({ where: { key: SEEDED_RULES_SETTING }, data: { key: SEEDED_RULES_SETTING } });
    const setting = await tx.setting.findUnique({ where: { key: SEEDED_RULES_SETTING } });
    const seeded = setting ? (JSON.parse(setting.value) as Record<string, string>) : {};
    const result: SeedResult = { created: [], updated: [], keptByAdmin: [] };

    for (const rule of defaults) {
      const fingerprint = fingerprintRule(rule);
      const row = await tx.notificationRule.findUnique({ where: { name: rule.name } });

      if (seeded[rule.name] === undefined) {
        // A rule of the same name made by an administrator before this default existed wins.
        if (row) result.keptByAdmin.push(rule.name);
        else {
          await tx.notificationRule.create({ data: ruleToRow(rule) });
          result.created.push(rule.name);
        }
        seeded[rule.name] = fingerprint;
        continue;
      }

      if (seeded[rule.name] === fingerprint) continue;
      if (!row || fingerprintStored(row) !== seeded[rule.name]) {
        result.keptByAdmin.push(rule.name);
        continue;
      }
      await tx.notificationRule.update({ where: { id: row.id }, data: ruleToRow(rule) });
      seeded[rule.name] = fingerprint;
      result.updated.push(rule.name);
    }

    const value = JSON.stringify(seeded);
    await tx.setting.upsert({ where: { key: SEEDED_RULES_SETTING }, create: { key: SEEDED_RULES_SETTING, value }, update: { value } });
    return result;
  });
}

function fingerprintStored(row: Parameters<typeof parseRuleRow>[0]): string | null {
  try {
    return fingerprintRule(parseRuleRow(row));
  } catch {
    // An invalid stored rule cannot equal a seeded one, so it counts as changed by hand.
    return null;
  }
}

/** Hash the behaviour of a rule, independent of key order in its JSON. */
function fingerprintRule(rule: RuleDefinition): string {
  const canonical = stableStringify({ enabled: rule.enabled, events: rule.events, conditions: rule.conditions, recipients: rule.recipients, template: rule.template });
  return createHash('sha256').update(canonical).digest('hex');
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, entry]) => entry !== undefined)
      .sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([key, entry]) => `${JSON.stringify(key)}:${stableStringify(entry)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
