import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ruleCommand } from '../../src/cli/commands/rule.js';
import { UsageError, type CliDeps } from '../../src/cli/types.js';
import type { Config } from '../../src/config/index.js';
import { openDatabase, type PrismaClient } from '../../src/db/client.js';
import { createLogger } from '../../src/logger.js';
import { seedDefaultRules } from '../../src/outbound/rules/defaults.js';
import { parseRuleRow } from '../../src/outbound/rules/store.js';
import { createTestConfig } from '../helpers/app.js';

describe('rule command', () => {
  let config: Config;
  let prisma: PrismaClient;
  let cleanup: () => Promise<void>;
  let taskId: number;

  beforeAll(async () => {
    const test = await createTestConfig();
    config = test.config;
    prisma = await openDatabase(config.databaseUrl);
    cleanup = async () => {
      await prisma.$disconnect();
      await test.cleanup();
    };
    await seedDefaultRules(prisma);

    const support = await prisma.department.create({ data: { name: 'Support' } });
    await prisma.category.create({ data: { name: 'Billing' } });
    const manager = await prisma.user.create({ data: { email: 'maria@example.test', role: 'manager', departmentId: support.id } });
    const anna = await prisma.user.create({ data: { email: 'anna@example.test', role: 'employee', departmentId: support.id, managerId: manager.id } });
    await prisma.user.create({ data: { email: 'ada@example.test', role: 'admin' } });
    await prisma.user.create({ data: { email: 'bob@example.test', role: 'employee', departmentId: support.id, emailFailingSince: new Date('2026-03-01T00:00:00Z') } });
    const kim = await prisma.user.create({ data: { email: 'kim@customer.test', role: 'customer' } });
    const task = await prisma.task.create({ data: { subject: 'Printer', authorId: kim.id, departmentId: support.id, priority: 'urgent', assigneeId: anna.id } });
    await prisma.comment.create({ data: { taskId: task.id, authorId: kim.id, visibility: 'public', channel: 'email', body: 'Help.' } });
    taskId = task.id;
  });

  afterAll(async () => {
    await cleanup();
  });

  async function run(...args: string[]): Promise<{ code: number; lines: string[] }> {
    const lines: string[] = [];
    const deps: CliDeps = { config, prisma, logger: createLogger('silent'), out: (line) => lines.push(line) };
    const code = await ruleCommand.run(args, deps);
    return { code, lines };
  }

  it('lists the default rules', async () => {
    const { code, lines } = await run('list');

    expect(code).toBe(0);
    expect(lines[0]).toMatch(/^ID\s+NAME\s+ENABLED\s+EVENTS\s+RECIPIENTS\s+CONDITIONS\s+TEMPLATE$/);
    expect(lines.some((line) => line.includes('administration: urgent queries') && line.includes('role:admin') && line.includes('priority=urgent'))).toBe(true);
  });

  it('shows one rule', async () => {
    const { code, lines } = await run('show', 'acknowledge new query');

    expect(code).toBe(0);
    expect(lines).toContain('events:     task.created');
    expect(lines).toContain('conditions: actor-role=customer actor-is-recipient=yes');
    expect(lines).toContain('recipients: author');
    expect(lines).toContain('template:   acknowledgement');
  });

  it('adds, changes, disables, enables and removes a rule', async () => {
    const added = await run('add', 'billing copies', '--event', 'task.created', '--event', 'comment.public', '--recipient', 'department-managers:Support', '--recipient', 'users:ada@example.test', '--condition', 'category=Billing');
    expect(added.lines[0]).toMatch(/^added rule \d+ "billing copies" \(enabled\)$/);

    await run('set', 'billing copies', '--condition', 'priority=urgent', '--template', 'task-created', '--rename', 'billing and urgent');
    const changed = parseRuleRow(await prisma.notificationRule.findUniqueOrThrow({ where: { name: 'billing and urgent' } }));
    expect(changed.events).toEqual(['task.created', 'comment.public']);
    expect(changed.conditions).toEqual({ categories: ['Billing'], priorities: ['urgent'] });
    expect(changed.recipients).toEqual([{ type: 'department-managers', department: 'Support' }, { type: 'users', emails: ['ada@example.test'] }]);
    expect(changed.template).toBe('task-created');

    await run('set', String(changed.id), '--clear-conditions', '--template', 'default', '--recipient', 'watchers');
    const cleared = parseRuleRow(await prisma.notificationRule.findUniqueOrThrow({ where: { id: changed.id } }));
    expect(cleared.conditions).toEqual({});
    expect(cleared.template).toBeNull();
    expect(cleared.recipients).toEqual([{ type: 'watchers' }]);

    await run('disable', 'billing and urgent');
    expect((await prisma.notificationRule.findUniqueOrThrow({ where: { id: changed.id } })).enabled).toBe(false);
    await run('enable', `#${changed.id}`);
    expect((await prisma.notificationRule.findUniqueOrThrow({ where: { id: changed.id } })).enabled).toBe(true);
    const removed = await run('remove', 'billing and urgent');
    expect(removed.lines[0]).toBe(`removed rule ${changed.id} "billing and urgent"`);
    expect(await prisma.notificationRule.findUnique({ where: { id: changed.id } })).toBeNull();
  });

  it.each([
    [['add', 'x', '--recipient', 'author'], 'missing --event'],
    [['add', 'x', '--event', 'task.created'], 'missing --recipient'],
    [['add', 'x', '--event', 'task.exploded', '--recipient', 'author'], 'unknown event "task.exploded"'],
    [['add', 'x', '--event', 'task.created', '--recipient', 'everyone'], 'invalid recipient "everyone"'],
    [['add', 'x', '--event', 'task.created', '--recipient', 'department-members:Nowhere'], 'no department named "Nowhere"'],
    [['add', 'x', '--event', 'task.created', '--recipient', 'users:ghost@example.test'], 'no user with the address ghost@example.test'],
    [['add', 'x', '--event', 'task.created', '--recipient', 'author', '--condition', 'category=Unknown'], 'no category named "Unknown"'],
    [['add', 'x', '--event', 'task.created', '--recipient', 'author', '--template', 'fancy'], 'unknown --template "fancy"'],
    [['add', 'acknowledge new query', '--event', 'task.created', '--recipient', 'author'], 'exists already'],
    [['set', 'no such rule'], 'no rule named or numbered "no such rule"'],
    [['preview', '--event', 'task.created', '--task', '999'], 'task #999 not found'],
    [['preview', '--event', 'task.status', '--task', '1', '--visibility', 'public'], '--visibility applies only to comment'],
    [['frobnicate'], 'unknown subcommand "rule frobnicate"'],
  ])('rejects %j', async (args, message) => {
    await expect(run(...args)).rejects.toThrow(UsageError);
    await expect(run(...args)).rejects.toThrow(message);
  });

  it('previews who would be mailed and why', async () => {
    const { code, lines } = await run('preview', '--event', 'task.created', '--task', String(taskId));

    expect(code).toBe(0);
    expect(lines[0]).toBe(`task.created on #${taskId} by kim@customer.test (customer)`);
    const mailed = lines.slice(1);
    expect(mailed[0]).toMatch(/^MAILED\s+ROLE\s+TEMPLATE\s+WHY$/);
    expect(mailed.find((line) => line.startsWith('kim@customer.test'))).toContain('acknowledgement');
    expect(mailed.find((line) => line.startsWith('ada@example.test'))).toContain('administration: urgent queries: role admin');
    expect(mailed.find((line) => line.startsWith('anna@example.test'))).toContain('assignee: new assignment');
    expect(mailed).toHaveLength(4);
    expect(await prisma.outboundMessage.count()).toBe(0);
  });

  it('previews an internal note without the customer', async () => {
    const { lines } = await run('preview', '--event', 'comment.public', '--visibility', 'internal', '--task', String(taskId), '--actor', 'maria@example.test');

    expect(lines[0]).toBe(`comment.internal on #${taskId} by maria@example.test (manager)`);
    expect(lines.some((line) => line.startsWith('anna@example.test'))).toBe(true);
    expect(lines.some((line) => line.startsWith('kim@customer.test'))).toBe(false);
  });

  it('previews a failing address as not mailed', async () => {
    await prisma.notificationRule.create({ data: { name: 'support on status', events: '["task.status"]', recipients: '[{"type":"department-members"}]' } });

    const { lines } = await run('preview', '--event', 'task.status', '--task', String(taskId), '--actor', 'anna@example.test');

    const notMailed = lines.slice(lines.indexOf('') + 1);
    expect(notMailed[0]).toMatch(/^NOT MAILED\s+REASON\s+DETAIL\s+RULES$/);
    expect(notMailed.find((line) => line.startsWith('bob@example.test'))).toContain('address-failing');
    expect(lines.find((line) => line.startsWith('maria@example.test'))).toContain("assignee's manager: status changes by others");
    expect(lines.some((line) => line.startsWith('anna@example.test'))).toBe(false);
  });
});
