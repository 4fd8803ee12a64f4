import { parseStatus, STATUS_NAMES } from '../../tasks/status.js';
import { ruleConditionsSchema, recipientSelectorSchema, type RecipientSelector, type RuleConditions } from './types.js';

/**
 * The command-line forms of recipients and conditions, such as `role:admin` and
 * `priority=urgent,high`. Lists are comma-separated, so names in them cannot contain
 * a comma.
 */

/** Raised for a recipient or condition that cannot be read; the message names it and shows the form. */
export class RuleSpecError extends Error {
  readonly code = 'RULE_SPEC_INVALID';
}

/** Recipient forms, for help text. */
export const RECIPIENT_FORMS = [
  'author',
  'assignee',
  'previous-assignee',
  'watchers',
  'actor',
  'assignee-manager',
  'role:ROLE',
  'department-members[:DEPARTMENT]',
  'department-managers[:DEPARTMENT]',
  'users:ADDRESS[,ADDRESS...]',
] as const;

/** Condition forms, for help text. */
export const CONDITION_FORMS = [
  'priority=low|normal|high|urgent[,...]',
  'status=new|in-progress|waiting|blocked|done|closed[,...]',
  'category=NAME[,...]',
  'department=NAME[,...]',
  'actor-role=customer|employee|manager|admin|system[,...]',
  'actor=ADDRESS[,...]',
  'assigned=yes|no',
  'visibility=public|internal',
  'actor-is-recipient=yes|no|any',
] as const;

const CONDITION_KEYS: Record<string, keyof RuleConditions> = {
  priority: 'priorities',
  status: 'statuses',
  category: 'categories',
  department: 'departments',
  'actor-role': 'actorRoles',
  actor: 'actors',
  assigned: 'assigned',
  visibility: 'visibility',
  'actor-is-recipient': 'actorIsRecipient',
};

/** Parse `role:admin`, `department-members:Support` or `users:a@example.com,b@example.com`. */
export function parseRecipientSpec(spec: string): RecipientSelector {
  const colon = spec.indexOf(':');
  const type = (colon === -1 ? spec : spec.slice(0, colon)).trim().toLowerCase();
  const argument = colon === -1 ? undefined : spec.slice(colon + 1).trim();

  let candidate: Record<string, unknown> = { type };
  if (type === 'role') candidate = { type, role: argument?.toLowerCase() };
  else if (type === 'users') candidate = { type, emails: splitList(argument ?? '').map((email) => email.toLowerCase()) };
  else if ((type === 'department-members' || type === 'department-managers') && argument) candidate = { type, department: argument };
  else if (argument !== undefined) throw new RuleSpecError(`recipient "${spec}" takes no argument after ":"; recipient forms: ${RECIPIENT_FORMS.join(', ')}`);

  const parsed = recipientSelectorSchema.safeParse(candidate);
  if (!parsed.success) throw new RuleSpecError(`invalid recipient "${spec}"; recipient forms: ${RECIPIENT_FORMS.join(', ')}`);
  return parsed.data;
}

/**
 * Apply `KEY=VALUE` condition forms to `base`. An empty value (`priority=`) removes
 * that condition. Returns the new conditions.
 */
export function applyConditionSpecs(base: RuleConditions, specs: readonly string[]): RuleConditions {
  const next: Record<string, unknown> = { ...base };

  for (const spec of specs) {
    const equals = spec.indexOf('=');
    const key = CONDITION_KEYS[(equals === -1 ? spec : spec.slice(0, equals)).trim().toLowerCase()];
    if (equals === -1 || !key) throw new RuleSpecError(`invalid condition "${spec}"; condition forms: ${CONDITION_FORMS.join(', ')}`);

    const value = spec.slice(equals + 1).trim();
    if (value === '') delete next[key];
    else next[key] = readConditionValue(key, value, spec);
  }

  const parsed = ruleConditionsSchema.safeParse(next);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new RuleSpecError(`invalid conditions (${problems}); condition forms: ${CONDITION_FORMS.join(', ')}`);
  }
  return parsed.data;
}

/** Format a recipient selector in its command-line form. */
export function formatRecipientSpec(selector: RecipientSelector): string {
  switch (selector.type) {
    case 'role':
      return `role:${selector.role}`;
    case 'users':
      return `users:${selector.emails.join(',')}`;
    case 'department-members':
    case 'department-managers':
      return selector.department ? `${selector.type}:${selector.department}` : selector.type;
    default:
      return selector.type;
  }
}

/** Format a rule's conditions in their command-line forms, or `-` when it has none. */
export function formatConditionSpecs(conditions: RuleConditions): string {
  const parts: string[] = [];
  for (const [spec, key] of Object.entries(CONDITION_KEYS)) {
    const value = key === 'statuses' ? conditions.statuses?.map((status) => STATUS_NAMES[status]) : conditions[key];
    if (value === undefined) continue;
    parts.push(`${spec}=${Array.isArray(value) ? value.join(',') : typeof value === 'boolean' ? (value ? 'yes' : 'no') : value}`);
  }
  return parts.length > 0 ? parts.join(' ') : '-';
}

function readConditionValue(key: keyof RuleConditions, value: string, spec: string): unknown {
  switch (key) {
    case 'assigned':
      if (value === 'yes' || value === 'no') return value === 'yes';
      throw new RuleSpecError(`invalid condition "${spec}"; use assigned=yes or assigned=no`);
    case 'visibility':
    case 'actorIsRecipient':
      return value.toLowerCase();
    case 'categories':
    case 'departments':
      return splitList(value);
    case 'statuses':
      return splitList(value).map((entry) => {
        const status = parseStatus(entry);
        if (!status) throw new RuleSpecError(`invalid status "${entry}" in "${spec}"; use one of: ${Object.values(STATUS_NAMES).join(', ')}`);
        return status;
      });
    default:
      return splitList(value).map((entry) => entry.toLowerCase());
  }
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}
