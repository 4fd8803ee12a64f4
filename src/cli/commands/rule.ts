import { parseArgs } from 'node:util';
import type { NotificationRule } from '../../db/generated/client.js';
import { previewNotifications, PreviewError } from '../../outbound/preview.js';
import { InvalidRuleError, parseRuleRow, ruleToRow } from '../../outbound/rules/store.js';
import { applyConditionSpecs, CONDITION_FORMS, formatConditionSpecs, formatRecipientSpec, parseRecipientSpec, RECIPIENT_FORMS, RuleSpecError } from '../../outbound/rules/spec.js';
import { DEFAULT_TEMPLATES, MAIL_TEMPLATES, RULE_EVENTS, ruleDefinitionSchema, type MailTemplate, type RuleDefinition, type StoredRule } from '../../outbound/rules/types.js';
import type { DomainEventName } from '../../tasks/events.js';
import { formatTable } from '../format.js';
import { UsageError, type CliCommand, type CliDeps } from '../types.js';

const OPTIONS = {
  event: { type: 'string', multiple: true },
  recipient: { type: 'string', multiple: true },
  condition: { type: 'string', multiple: true },
  template: { type: 'string' },
  rename: { type: 'string' },
  disabled: { type: 'boolean' },
  'clear-conditions': { type: 'boolean' },
  task: { type: 'string' },
  actor: { type: 'string' },
  visibility: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

/** `postdesk rule ...`: list, change and preview the notification rules. */
export const ruleCommand: CliCommand = {
  name: 'rule',
  summary: 'list, add, change and preview notification rules',
  usage: [
    'rule list',
    'rule show RULE',
    'rule add NAME --event EVENT... --recipient RECIPIENT... [--condition KEY=VALUE...] [--template NAME] [--disabled]',
    'rule set RULE [--event EVENT...] [--recipient RECIPIENT...] [--condition KEY=VALUE...] [--clear-conditions] [--template NAME|default] [--rename NAME]',
    'rule enable|disable|remove RULE',
    'rule preview --event EVENT --task NUMBER [--actor ADDRESS] [--visibility public|internal]',
    '',
    'RULE is a rule name or id. --event, --recipient and --condition may be repeated; on',
    '"set" the given events and recipients replace the old ones, and conditions are merged',
    '(KEY= with no value removes one).',
    `events: ${RULE_EVENTS.join(', ')}`,
    `recipients: ${RECIPIENT_FORMS.join(', ')}`,
    `conditions: ${CONDITION_FORMS.join(', ')}`,
    `templates: ${MAIL_TEMPLATES.join(', ')} (default: chosen by the event)`,
  ].join('\n'),
  async run(args, deps) {
    const [sub, ...rest] = args;
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: OPTIONS });

    try {
      switch (sub) {
        case 'list':
          return await listRules(deps);
        case 'show':
          return await showRule(deps, positionals[0]);
        case 'add':
          return await addRule(deps, positionals[0], values);
        case 'set':
          return await setRule(deps, positionals[0], values);
        case 'enable':
        case 'disable':
          return await toggleRule(deps, positionals[0], sub === 'enable');
        case 'remove':
          return await removeRule(deps, positionals[0]);
        case 'preview':
          return await previewRule(deps, values);
        default:
          throw new UsageError(sub ? `unknown subcommand "rule ${sub}"` : 'missing subcommand');
      }
    } catch (error) {
      if (error instanceof RuleSpecError || error instanceof PreviewError) throw new UsageError(error.message);
      throw error;
    }
  },
};

async function listRules(deps: CliDeps): Promise<number> {
  const rows = await deps.prisma.notificationRule.findMany({ orderBy: { id: 'asc' } });
  const table = rows.map((row) => {
    const rule = tryParse(row);
    if (!rule) return [row.id, row.name, row.enabled ? 'yes' : 'no', 'INVALID: run "rule show" for details', '', '', ''];
    return [rule.id, rule.name, rule.enabled ? 'yes' : 'no', rule.events.join(','), rule.recipients.map(formatRecipientSpec).join(','), formatConditionSpecs(rule.conditions), rule.template ?? 'default'];
  });
  for (const line of formatTable(['ID', 'NAME', 'ENABLED', 'EVENTS', 'RECIPIENTS', 'CONDITIONS', 'TEMPLATE'], table)) deps.out(line);
  return 0;
}

async function showRule(deps: CliDeps, reference: string | undefined): Promise<number> {
  const row = await findRule(deps, reference);
  deps.out(`rule ${row.id} "${row.name}" (${row.enabled ? 'enabled' : 'disabled'})`);

  let rule: StoredRule;
  try {
    rule = parseRuleRow(row);
  } catch (error) {
    if (!(error instanceof InvalidRuleError)) throw error;
    deps.out(`invalid: ${error.problems.join('; ')}`);
    deps.out(`events:     ${row.events}`);
    deps.out(`conditions: ${row.conditions}`);
    deps.out(`recipients: ${row.recipients}`);
    return 1;
  }

  deps.out(`events:     ${rule.events.join(', ')}`);
  deps.out(`conditions: ${formatConditionSpecs(rule.conditions)}`);
  deps.out(`recipients: ${rule.recipients.map(formatRecipientSpec).join(', ')}`);
  deps.out(`template:   ${rule.template ?? `default (${[...new Set(rule.events.map((event) => DEFAULT_TEMPLATES[event]))].join(', ')})`}`);
  deps.out(`updated:    ${row.updatedAt.toISOString()}`);
  return 0;
}

async function addRule(deps: CliDeps, name: string | undefined, values: Values): Promise<number> {
  if (!name?.trim()) throw new UsageError('missing rule name');
  if (await deps.prisma.notificationRule.findUnique({ where: { name: name.trim() } })) throw new UsageError(`a rule named "${name.trim()}" exists already; use "rule set" to change it`);
  if (!values.event?.length) throw new UsageError('missing --event; give at least one');
  if (!values.recipient?.length) throw new UsageError('missing --recipient; give at least one');

  const rule = validate({
    name: name.trim(),
    enabled: !values.disabled,
    events: parseEvents(values.event),
    conditions: applyConditionSpecs({}, values.condition ?? []),
    recipients: values.recipient.map(parseRecipientSpec),
    template: parseTemplate(values.template) ?? null,
  });
  await checkReferences(deps, rule);

  const row = await deps.prisma.notificationRule.create({ data: ruleToRow(rule) });
  deps.out(`added rule ${row.id} "${row.name}" (${row.enabled ? 'enabled' : 'disabled'})`);
  return 0;
}

async function setRule(deps: CliDeps, reference: string | undefined, values: Values): Promise<number> {
  const row = await findRule(deps, reference);
  const current = tryParse(row);
  if (!current && !(values.event && values.recipient)) {
    throw new UsageError(`rule "${row.name}" is invalid as stored; give both --event and --recipient to replace it`);
  }

  const rename = values.rename?.trim();
  if (rename && rename !== row.name && (await deps.prisma.notificationRule.findUnique({ where: { name: rename } }))) throw new UsageError(`a rule named "${rename}" exists already`);
  const base = values['clear-conditions'] || !current ? {} : current.conditions;
  const template = parseTemplate(values.template);

  const rule = validate({
    name: rename || row.name,
    enabled: row.enabled,
    events: values.event ? parseEvents(values.event) : current!.events,
    conditions: applyConditionSpecs(base, values.condition ?? []),
    recipients: values.recipient ? values.recipient.map(parseRecipientSpec) : current!.recipients,
    template: template === undefined ? (current?.template ?? null) : template,
  });
  await checkReferences(deps, rule);

  await deps.prisma.notificationRule.update({ where: { id: row.id }, data: ruleToRow(rule) });
  deps.out(`updated rule ${row.id} "${rule.name}"`);
  return 0;
}

async function toggleRule(deps: CliDeps, reference: string | undefined, enabled: boolean): Promise<number> {
  const row = await findRule(deps, reference);
  await deps.prisma.notificationRule.update({ where: { id: row.id }, data: { enabled } });
  deps.out(`${enabled ? 'enabled' : 'disabled'} rule ${row.id} "${row.name}"`);
  return 0;
}

async function removeRule(deps: CliDeps, reference: string | undefined): Promise<number> {
  const row = await findRule(deps, reference);
  await deps.prisma.notificationRule.delete({ where: { id: row.id } });
  deps.out(`removed rule ${row.id} "${row.name}"`);
  return 0;
}

async function previewRule(deps: CliDeps, values: Values): Promise<number> {
  if (values.event?.length !== 1) throw new UsageError('give exactly one --event');
  let event = parseEvents(values.event)[0]!;
  if (values.visibility !== undefined) {
    if (!event.startsWith('comment.')) throw new UsageError('--visibility applies only to comment.public and comment.internal');
    if (values.visibility !== 'public' && values.visibility !== 'internal') throw new UsageError(`invalid --visibility "${values.visibility}"; use public or internal`);
    event = values.visibility === 'public' ? 'comment.public' : 'comment.internal';
  }
  const taskId = Number((values.task ?? '').replace(/^#/, ''));
  if (!Number.isInteger(taskId) || taskId < 1) throw new UsageError(`invalid or missing --task "${values.task ?? ''}"; give a task number`);

  const result = await previewNotifications(deps.prisma, deps.config, { event, taskId, ...(values.actor !== undefined ? { actorAddress: values.actor } : {}) });

  const actor = result.actor ? `${result.actor.email} (${result.actor.role})` : 'the system';
  deps.out(`${event} on #${taskId} by ${actor}`);
  for (const error of result.invalidRules) deps.out(`warning: ${error.message}; it is ignored`);
  if (result.plan.deliveries.length === 0) deps.out('nobody would be mailed');
  else {
    const rows = result.plan.deliveries.map((delivery) => [delivery.user.email, delivery.user.role, delivery.template, delivery.reasons.join('; ')]);
    for (const line of formatTable(['MAILED', 'ROLE', 'TEMPLATE', 'WHY'], rows)) deps.out(line);
  }
  if (result.plan.skipped.length > 0) {
    deps.out('');
    const rows = result.plan.skipped.map((skip) => [skip.user.email, skip.reason, skip.detail, skip.rules.join('; ')]);
    for (const line of formatTable(['NOT MAILED', 'REASON', 'DETAIL', 'RULES'], rows)) deps.out(line);
  }
  return 0;
}

async function findRule(deps: CliDeps, reference: string | undefined): Promise<NotificationRule> {
  const key = reference?.trim();
  if (!key) throw new UsageError('missing rule name or id');

  const byName = await deps.prisma.notificationRule.findUnique({ where: { name: key } });
  if (byName) return byName;
  const id = Number(key.replace(/^#/, ''));
  const byId = Number.isInteger(id) && id > 0 ? await deps.prisma.notificationRule.findUnique({ where: { id } }) : null;
  if (byId) return byId;
  throw new UsageError(`no rule named or numbered "${key}"; see "rule list"`);
}

function parseEvents(names: readonly string[]): DomainEventName[] {
  const events = names.flatMap((name) => name.split(',')).map((name) => name.trim());
  for (const event of events) {
    if (!(RULE_EVENTS as readonly string[]).includes(event)) throw new UsageError(`unknown event "${event}"; use one of: ${RULE_EVENTS.join(', ')}`);
  }
  return [...new Set(events as DomainEventName[])];
}

/** Parse the --template option: undefined when absent, null for `default`. */
function parseTemplate(value: string | undefined): MailTemplate | null | undefined {
  if (value === undefined) return undefined;
  if (value === 'default') return null;
  const template = MAIL_TEMPLATES.find((name) => name === value);
  if (!template) throw new UsageError(`unknown --template "${value}"; use one of: ${MAIL_TEMPLATES.join(', ')}, default`);
  return template;
}

function validate(candidate: RuleDefinition): RuleDefinition {
  const parsed = ruleDefinitionSchema.safeParse(candidate);
  if (!parsed.success) throw new UsageError(`invalid rule: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  return parsed.data;
}

/** Reject names of departments, categories and users that do not exist, which would silently match nothing. */
async function checkReferences(deps: CliDeps, rule: RuleDefinition): Promise<void> {
  const departments = new Set(rule.conditions.departments ?? []);
  for (const selector of rule.recipients) {
    if ((selector.type === 'department-members' || selector.type === 'department-managers') && selector.department) departments.add(selector.department);
  }
  const known = (await deps.prisma.department.findMany({ select: { name: true } })).map((department) => department.name);
  for (const name of departments) {
    const exact = selectorUsesExactName(rule, name);
    const found = exact ? known.includes(name) : known.some((entry) => entry.toLowerCase() === name.toLowerCase());
    if (!found) throw new UsageError(`no department named "${name}"; create it with "department create"`);
  }

  const categories = (await deps.prisma.category.findMany({ select: { name: true } })).map((category) => category.name.toLowerCase());
  for (const name of rule.conditions.categories ?? []) {
    if (!categories.includes(name.toLowerCase())) throw new UsageError(`no category named "${name}"; create it with "category create"`);
  }

  const addresses = [...(rule.conditions.actors ?? []), ...rule.recipients.flatMap((selector) => (selector.type === 'users' ? selector.emails : []))];
  for (const address of addresses) {
    if (!(await deps.prisma.user.findUnique({ where: { email: address.toLowerCase() } }))) throw new UsageError(`no user with the address ${address}; create it with "user create"`);
  }
}

/** Recipient selectors look departments up by exact name; conditions compare without case. */
function selectorUsesExactName(rule: RuleDefinition, name: string): boolean {
  return rule.recipients.some((selector) => (selector.type === 'department-members' || selector.type === 'department-managers') && selector.department === name);
}

function tryParse(row: NotificationRule): StoredRule | null {
  try {
    return parseRuleRow(row);
  } catch (error) {
    if (error instanceof InvalidRuleError) return null;
    throw error;
  }
}
