import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type PrismaClient } from '../../src/db/client.js';
import { createTestConfig } from '../helpers/app.js';

describe('database client on SQLite', () => {
  let prisma: PrismaClient;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const setup = await createTestConfig();
    cleanup = setup.cleanup;
    prisma = await openDatabase(setup.config.databaseUrl);
  });

  afterAll(async () => {
    await prisma.$disconnect();
    await cleanup();
  });

  // Regression: with Prisma's better-sqlite3 adapter alone, the plain write below ran
  // inside the open transaction and was rolled back with it.
  it('keeps a write made while another transaction rolls back', async () => {
    let inTransaction!: () => void;
    const started = new Promise<void>((resolve) => (inTransaction = resolve));
    const failing = prisma.$transaction(async (tx) => {
      await tx.setting.create({ data: { key: 'rolled-back', value: '1' } });
      inTransaction();
      await new Promise((resolve) => setTimeout(resolve, 200));
      throw new Error('roll back');
    });

    await started;
    await prisma.setting.create({ data: { key: 'kept', value: '1' } });
    await expect(failing).rejects.toThrow('roll back');

    const keys = (await prisma.setting.findMany()).map((setting) => setting.key);
    expect(keys).toContain('kept');
    expect(keys).not.toContain('rolled-back');
  });

  it('lets a plain read wait for an open transaction', async () => {
    const order: string[] = [];
    const transaction = prisma.$transaction(async (tx) => {
      await tx.setting.create({ data: { key: 'committed-first', value: '1' } });
      await new Promise((resolve) => setTimeout(resolve, 100));
      order.push('commit');
    });
    await new Promise((resolve) => setTimeout(resolve, 20));

    const seen = await prisma.setting.findUnique({ where: { key: 'committed-first' } });
    order.push('read');
    await transaction;

    expect(seen?.value).toBe('1');
    expect(order).toEqual(['commit', 'read']);
  });
});
