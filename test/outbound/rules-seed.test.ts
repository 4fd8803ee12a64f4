import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type PrismaClient } from '../../src/db/client.js';
import { DEFAULT_RULES, SEEDED_RULES_SETTING, seedDefaultRules } from '../../src/outbound/rules/defaults.js';
import { parseRuleRow } from '../../src/outbound/rules/store.js';
import type { RuleDefinition } from '../../src/outbound/rules/types.js';
import { createTestConfig } from '../helpers/app.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Run a Node.js process from the project folder; resolves with its standard output. */
function runNode(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { cwd: projectRoot, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`node ${args.join(' ')} failed: ${stderr}`, { cause: error }));
      else resolve(stdout);
    });
  });
}

describe('seedDefaultRules', () => {
  let prisma: PrismaClient;
  let cleanup: () => Promise<void>;
  let databaseUrl: string;

  beforeEach(async () => {
    const test = await createTestConfig();
    databaseUrl = test.config.databaseUrl;
    prisma = await openDatabase(test.config.databaseUrl);
    cleanup = async () => {
      await prisma.$disconnect();
      await test.cleanup();
    };
  });

  afterEach(async () => {
    await cleanup();
  });

  it('creates every default rule once', async () => {
    const first = await seedDefaultRules(prisma);
    const second = await seedDefaultRules(prisma);

    expect(first.created).toEqual(DEFAULT_RULES.map((rule) => rule.name));
    expect(second).toEqual({ created: [], updated: [], keptByAdmin: [] });
    const rows = await prisma.notificationRule.findMany({ orderBy: { id: 'asc' } });
    expect(rows.map((row) => row.name)).toEqual(DEFAULT_RULES.map((rule) => rule.name));
    for (const [index, row] of rows.entries()) expect(parseRuleRow(row)).toMatchObject(DEFAULT_RULES[index]!);
  });

  it('includes the rules the product promises', () => {
    const names = DEFAULT_RULES.map((rule) => rule.name);

    expect(names).toContain('acknowledge new query');
    expect(names).toContain('administration: urgent queries');
    expect(names).toContain('author: public staff reply');
    expect(names).toContain("assignee's manager: status changes by others");
    expect(names).toContain('new unassigned query to department');
    expect(names).toContain('failed command reply');
    expect(DEFAULT_RULES.find((rule) => rule.name === 'applied command confirmation')?.enabled).toBe(true);
  });

  it('keeps rules an administrator changed, disabled or removed', async () => {
    await seedDefaultRules(prisma);
    await prisma.notificationRule.update({ where: { name: 'acknowledge new query' }, data: { enabled: false } });
    await prisma.notificationRule.update({ where: { name: 'author: public staff reply' }, data: { recipients: '[{"type":"watchers"}]' } });
    await prisma.notificationRule.delete({ where: { name: 'failed command reply' } });

    const result = await seedDefaultRules(prisma);

    expect(result.created).toEqual([]);
    expect((await prisma.notificationRule.findUniqueOrThrow({ where: { name: 'acknowledge new query' } })).enabled).toBe(false);
    expect((await prisma.notificationRule.findUniqueOrThrow({ where: { name: 'author: public staff reply' } })).recipients).toBe('[{"type":"watchers"}]');
    expect(await prisma.notificationRule.findUnique({ where: { name: 'failed command reply' } })).toBeNull();
  });

  it('updates an unchanged rule to a newer default only', async () => {
    await seedDefaultRules(prisma);
    await prisma.notificationRule.update({ where: { name: 'assignee: internal note' }, data: { enabled: false } });
    const newer: RuleDefinition[] = DEFAULT_RULES.map((rule) =>
      rule.name === 'assignee: chain unblocked' || rule.name === 'assignee: internal note' ? { ...rule, recipients: [{ type: 'assignee' }, { type: 'watchers' }] } : rule,
    );

    const result = await seedDefaultRules(prisma, newer);

    expect(result.updated).toEqual(['assignee: chain unblocked']);
    expect(result.keptByAdmin).toEqual(['assignee: internal note']);
    const chain = parseRuleRow(await prisma.notificationRule.findUniqueOrThrow({ where: { name: 'assignee: chain unblocked' } }));
    expect(chain.recipients).toEqual([{ type: 'assignee' }, { type: 'watchers' }]);
    const note = parseRuleRow(await prisma.notificationRule.findUniqueOrThrow({ where: { name: 'assignee: internal note' } }));
    expect(note.recipients).toEqual([{ type: 'assignee' }]);
  });

  it('adds a new default without touching a same-named rule an administrator made', async () => {
    await prisma.notificationRule.create({ data: { name: 'failed command reply', enabled: false, events: '["command.failed"]', recipients: '[{"type":"assignee"}]' } });

    const result = await seedDefaultRules(prisma);

    expect(result.keptByAdmin).toEqual(['failed command reply']);
    expect((await prisma.notificationRule.findUniqueOrThrow({ where: { name: 'failed command reply' } })).enabled).toBe(false);
    const seeded = JSON.parse((await prisma.setting.findUniqueOrThrow({ where: { key: SEEDED_RULES_SETTING } })).value) as Record<string, string>;
    expect(Object.keys(seeded).sort()).toEqual(DEFAULT_RULES.map((rule) => rule.name).sort());
  });

  it('seeds once when several processes start together', async () => {
    const script = path.join(await mkdtemp(path.join(os.tmpdir(), 'postdesk-seed-')), 'seed.mts');
    await writeFile(
      script,
      [
        `import { openDatabase } from ${JSON.stringify(pathToFileURL(path.join(projectRoot, 'src/db/client.ts')).href)};`,
        `import { seedDefaultRules } from ${JSON.stringify(pathToFileURL(path.join(projectRoot, 'src/outbound/rules/defaults.ts')).href)};`,
        'const prisma = await openDatabase(process.argv[2]);',
        'const result = await seedDefaultRules(prisma);',
        'process.stdout.write(String(result.created.length));',
        'await prisma.$disconnect();',
      ].join('\n'),
    );

    const outputs = await Promise.all([1, 2, 3].map(() => runNode(['--import', 'tsx', script, databaseUrl])));

    expect(outputs.map(Number).sort()).toEqual([0, 0, DEFAULT_RULES.length]);
    expect(await prisma.notificationRule.count()).toBe(DEFAULT_RULES.length);
    await rm(path.dirname(script), { recursive: true, force: true });
  });
});
