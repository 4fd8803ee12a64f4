import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { startApp, type App, type AppOptions, type AppRole } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config/index.js';
import { applyMigrations } from '../../src/db/migrate.js';
import { createLogger } from '../../src/logger.js';

let templateDatabase: Promise<string> | null = null;

/**
 * Make a migrated, empty SQLite database once per test process. Each test copies it
 * instead of running the migrations again, because the Prisma CLI takes about a second.
 */
function migratedTemplate(): Promise<string> {
  templateDatabase ??= (async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'postdesk-template-'));
    const file = path.join(directory, 'template.db');
    await applyMigrations(`file:${file}`);
    return file;
  })();
  return templateDatabase;
}

/** Create a data folder with a fresh database, and the configuration that points at it. */
export async function createTestConfig(env: Record<string, string> = {}): Promise<{ config: Config; env: Record<string, string>; dataDir: string; cleanup(): Promise<void> }> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'postdesk-test-'));
  await mkdir(dataDir, { recursive: true });
  await copyFile(await migratedTemplate(), path.join(dataDir, 'postdesk.db'));

  const fullEnv: Record<string, string> = {
    POSTDESK_DATA_DIR: dataDir,
    SMTP_PORT: '0',
    HTTP_PORT: '0',
    MAIL_DOMAIN: 'example.test',
    MAIL_ADDRESSES: 'support@example.test=Support,billing@example.test=Billing',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // A queue prefix of its own, so tests never see each other's jobs in the shared Redis.
    QUEUE_PREFIX: `postdesk-test-${process.pid}-${randomBytes(4).toString('hex')}`,
    ...env,
  };
  const config = loadConfig(fullEnv);
  return {
    config,
    env: fullEnv,
    dataDir,
    async cleanup() {
      await deleteRedisKeys(config.redisUrl, `${config.queuePrefix}:*`);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Start Postdesk on a fresh data folder with the SMTP server on a free loopback port. */
export async function createTestApp(env: Record<string, string> = {}, roles?: readonly AppRole[], options?: AppOptions): Promise<{ app: App; config: Config; dataDir: string; cleanup(): Promise<void> }> {
  const { config, dataDir, cleanup } = await createTestConfig(env);
  const app = await startApp(config, createLogger(config.logLevel), roles, options);
  return {
    app,
    config,
    dataDir,
    async cleanup() {
      await app.stop();
      await cleanup();
    },
  };
}

/** Delete the keys matching `pattern`, such as one test's queues. */
export async function deleteRedisKeys(url: string, pattern: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
