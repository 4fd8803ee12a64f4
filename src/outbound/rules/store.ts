import type { NotificationRule } from '../../db/generated/client.js';
import type { Db } from '../../db/client.js';
import { ruleDefinitionSchema, type RuleDefinition, type StoredRule } from './types.js';

/** Raised when a stored rule's JSON columns do not match the rule schema. */
export class InvalidRuleError extends Error {
  readonly code = 'RULE_INVALID';

  constructor(
    readonly ruleName: string,
    readonly problems: string[],
  ) {
    super(`notification rule "${ruleName}" is invalid: ${problems.join('; ')}`);
    this.name = 'InvalidRuleError';
  }
}

/** Parse a NotificationRule row. Throws InvalidRuleError naming every problem. */
export function parseRuleRow(row: NotificationRule): StoredRule {
  const json = (column: string, text: string): unknown => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new InvalidRuleError(row.name, [`${column} is not valid JSON`]);
    }
  };

  const parsed = ruleDefinitionSchema.safeParse({
    name: row.name,
    enabled: row.enabled,
    events: json('events', row.events),
    conditions: json('conditions', row.conditions),
    recipients: json('recipients', row.recipients),
    template: row.template,
  });
  if (!parsed.success) {
    throw new InvalidRuleError(row.name, parsed.error.issues.map((issue) => `${issue.path.join('.') || 'rule'}: ${issue.message}`));
  }
  return { id: row.id, ...parsed.data };
}

/** Convert a definition into the columns of a NotificationRule row. */
export function ruleToRow(rule: RuleDefinition) {
  return {
    name: rule.name,
    enabled: rule.enabled,
    events: JSON.stringify(rule.events),
    conditions: JSON.stringify(rule.conditions),
    recipients: JSON.stringify(rule.recipients),
    template: rule.template,
  };
}

/**
 * Load the enabled rules in id order, which decides the template when several rules
 * mail one person. Invalid rows go to `onInvalid` and are left out, so one broken rule
 * does not stop every other notification.
 */
export async function loadEnabledRules(db: Db, onInvalid: (error: InvalidRuleError) => void): Promise<StoredRule[]> {
  const rows = await db.notificationRule.findMany({ where: { enabled: true }, orderBy: { id: 'asc' } });
  const rules: StoredRule[] = [];
  for (const row of rows) {
    try {
      rules.push(parseRuleRow(row));
    } catch (error) {
      if (!(error instanceof InvalidRuleError)) throw error;
      onInvalid(error);
    }
  }
  return rules;
}
