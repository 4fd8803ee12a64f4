import { describe, expect, it } from 'vitest';
import type { NotificationRule, User } from '../../src/db/generated/client.js';
import { allowsRecipient, matchesConditions } from '../../src/outbound/rules/conditions.js';
import type { EventFacts } from '../../src/outbound/rules/facts.js';
import { applyConditionSpecs, formatConditionSpecs, formatRecipientSpec, parseRecipientSpec, RuleSpecError } from '../../src/outbound/rules/spec.js';
import { InvalidRuleError, parseRuleRow, ruleToRow } from '../../src/outbound/rules/store.js';
import type { RuleConditions } from '../../src/outbound/rules/types.js';
import { createEvent, type DomainEventName } from '../../src/tasks/events.js';

function user(id: number, role: User['role'], email = `user${id}@example.test`): User {
  const now = new Date('2026-01-01T00:00:00Z');
  return { id, email, name: null, role, passwordHash: null, active: true, emailFailingSince: null, managerId: null, departmentId: null, createdAt: now, updatedAt: now };
}

const customer = user(1, 'customer', 'kim@customer.test');
const VISIBILITY: Partial<Record<DomainEventName, 'public' | 'internal'>> = { 'comment.public': 'public', 'comment.internal': 'internal' };
const agent = user(2, 'employee', 'anna@example.test');

function facts(overrides: { event?: DomainEventName; actor?: User | null; priority?: 'normal' | 'urgent'; assigneeId?: number | null; category?: string; department?: string } = {}): EventFacts {
  const now = new Date('2026-01-01T00:00:00Z');
  const name = overrides.event ?? 'comment.public';
  const actor = overrides.actor === undefined ? agent : overrides.actor;
  return {
    event: createEvent(name, 7, actor?.id ?? null, 'email'),
    actor,
    visibility: VISIBILITY[name] ?? null,
    task: {
      id: 7,
      subject: 'Printer',
      status: 'in_progress',
      priority: overrides.priority ?? 'normal',
      channel: 'email',
      categoryId: overrides.category ? 3 : null,
      departmentId: overrides.department ? 4 : null,
      authorId: customer.id,
      assigneeId: overrides.assigneeId === undefined ? agent.id : overrides.assigneeId,
      prerequisiteId: null,
      firstResponseDueAt: null,
      resolutionDueAt: null,
      firstRespondedAt: null,
      resolvedAt: null,
      closedAt: null,
      waitingSince: null,
      waitingSeconds: 0,
      createdAt: now,
      updatedAt: now,
      category: overrides.category ? { id: 3, name: overrides.category, departmentId: null, createdAt: now } : null,
      department: overrides.department ? { id: 4, name: overrides.department, address: null, createdAt: now } : null,
      author: customer,
      assignee: agent,
    },
  };
}

describe('rule conditions', () => {
  it('matches everything without conditions', () => {
    expect(matchesConditions({}, facts())).toBe(true);
  });

  it.each<[string, RuleConditions, Parameters<typeof facts>[0], boolean]>([
    ['priority matches', { priorities: ['urgent'] }, { priority: 'urgent' }, true],
    ['priority differs', { priorities: ['urgent', 'high'] }, { priority: 'normal' }, false],
    ['category ignores case', { categories: ['billing'] }, { category: 'Billing' }, true],
    ['category missing', { categories: ['Billing'] }, {}, false],
    ['department matches', { departments: ['Support'] }, { department: 'Support' }, true],
    ['department differs', { departments: ['Sales'] }, { department: 'Support' }, false],
    ['actor role matches', { actorRoles: ['employee'] }, {}, true],
    ['actor role differs', { actorRoles: ['customer'] }, {}, false],
    ['system actor', { actorRoles: ['system'] }, { actor: null }, true],
    ['actor address', { actors: ['ANNA@example.test'] }, {}, true],
    ['assigned', { assigned: true }, {}, true],
    ['unassigned wanted', { assigned: false }, {}, false],
    ['unassigned task', { assigned: false }, { assigneeId: null }, true],
    ['visibility matches', { visibility: 'public' }, { event: 'comment.public' }, true],
    ['visibility differs', { visibility: 'internal' }, { event: 'comment.public' }, false],
    ['visibility ignored for other events', { visibility: 'internal' }, { event: 'task.status' }, true],
  ])('%s', (_name, conditions, input, expected) => {
    expect(matchesConditions(conditions, facts(input))).toBe(expected);
  });

  it('leaves the actor out unless a rule says otherwise', () => {
    const input = facts();

    expect(allowsRecipient({}, input, agent.id)).toBe(false);
    expect(allowsRecipient({}, input, customer.id)).toBe(true);
    expect(allowsRecipient({ actorIsRecipient: 'yes' }, input, agent.id)).toBe(true);
    expect(allowsRecipient({ actorIsRecipient: 'yes' }, input, customer.id)).toBe(false);
    expect(allowsRecipient({ actorIsRecipient: 'any' }, input, agent.id)).toBe(true);
  });

  it('allows everyone when nobody acted', () => {
    expect(allowsRecipient({}, facts({ actor: null }), agent.id)).toBe(true);
  });
});

describe('rule command-line forms', () => {
  it.each([
    ['author', { type: 'author' }],
    ['assignee-manager', { type: 'assignee-manager' }],
    ['role:admin', { type: 'role', role: 'admin' }],
    ['department-members', { type: 'department-members' }],
    ['department-managers:Support', { type: 'department-managers', department: 'Support' }],
    ['users:A@example.test,b@example.test', { type: 'users', emails: ['a@example.test', 'b@example.test'] }],
  ])('parses recipient %s', (spec, expected) => {
    expect(parseRecipientSpec(spec)).toEqual(expected);
    expect(parseRecipientSpec(formatRecipientSpec(parseRecipientSpec(spec)))).toEqual(expected);
  });

  it.each(['everyone', 'role:boss', 'role', 'users:not-an-address', 'author:x'])('rejects recipient %s', (spec) => {
    expect(() => parseRecipientSpec(spec)).toThrow(RuleSpecError);
  });

  it('parses and formats conditions', () => {
    const conditions = applyConditionSpecs({}, ['priority=urgent,high', 'status=in-progress', 'actor-role=customer', 'assigned=no', 'visibility=public', 'actor-is-recipient=any', 'category=Billing']);

    expect(conditions).toEqual({ priorities: ['urgent', 'high'], statuses: ['in_progress'], actorRoles: ['customer'], assigned: false, visibility: 'public', actorIsRecipient: 'any', categories: ['Billing'] });
    expect(formatConditionSpecs(conditions)).toBe('priority=urgent,high status=in-progress category=Billing actor-role=customer assigned=no visibility=public actor-is-recipient=any');
    expect(formatConditionSpecs({})).toBe('-');
  });

  it('removes a condition given without a value', () => {
    expect(applyConditionSpecs({ priorities: ['urgent'], assigned: true }, ['priority='])).toEqual({ assigned: true });
  });

  it.each(['priority=whenever', 'colour=red', 'assigned=maybe', 'status=finished', 'visibility=secret', 'priority'])('rejects condition %s', (spec) => {
    expect(() => applyConditionSpecs({}, [spec])).toThrow(RuleSpecError);
  });
});

describe('stored rules', () => {
  function row(fields: Partial<NotificationRule>): NotificationRule {
    const now = new Date('2026-01-01T00:00:00Z');
    return { id: 1, name: 'test', enabled: true, events: '["task.created"]', conditions: '{}', recipients: '[{"type":"author"}]', template: null, createdAt: now, updatedAt: now, ...fields };
  }

  it('parses a valid row and writes it back the same', () => {
    const rule = parseRuleRow(row({ conditions: '{"priorities":["urgent"]}', template: 'acknowledgement' }));

    expect(rule).toMatchObject({ id: 1, events: ['task.created'], conditions: { priorities: ['urgent'] }, recipients: [{ type: 'author' }], template: 'acknowledgement' });
    expect(ruleToRow(rule)).toMatchObject({ events: '["task.created"]', conditions: '{"priorities":["urgent"]}', recipients: '[{"type":"author"}]' });
  });

  it.each([
    ['bad JSON', { events: '[task.created' }, 'events is not valid JSON'],
    ['unknown event', { events: '["task.exploded"]' }, 'events.0'],
    ['no recipients', { recipients: '[]' }, 'recipients'],
    ['unknown condition', { conditions: '{"colour":"red"}' }, 'conditions'],
    ['unknown template', { template: 'fancy' }, 'template'],
  ])('rejects %s', (_name, fields, problem) => {
    expect(() => parseRuleRow(row(fields))).toThrow(InvalidRuleError);
    expect(() => parseRuleRow(row(fields))).toThrow(problem);
  });
});
