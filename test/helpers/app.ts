import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startApp, type App, type AppRole } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config/index.js';
import { applyMigrations } from '../../src/db/migrate.js';
import { createLogger } from '../../src/logger.js';

let templateDatabase: Promise<string> | null = null;

/**
 * A migrated, empty SQLite database made once per test process; each test copies it
 * instead of running the migrations again (the Prisma CLI takes about a second).
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

/** A data folder with a fresh database, and the configuration that points at it. */
export async function createTestConfig(env: Record<string, string> = {}): Promise<{ config: Config; dataDir: string; cleanup(): Promise<void> }> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'postdesk-test-'));
  await mkdir(dataDir, { recursive: true });
  await copyFile(await migratedTemplate(), path.join(dataDir, 'postdesk.db'));

  const config = loadConfig({
    POSTDESK_DATA_DIR: dataDir,
    SMTP_PORT: '0',
    HTTP_PORT: '0',
    MAIL_DOMAIN: 'example.test',
    MAIL_ADDRESSES: 'support@example.test=Support,billing@example.test=Billing',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...env,
  });
  return { config, dataDir, cleanup: () => rm(dataDir, { recursive: true, force: true }) };
}

/** Start Postdesk on a fresh data folder with the SMTP server on a free loopback port. */
export async function createTestApp(env: Record<string, string> = {}, roles?: readonly AppRole[]): Promise<{ app: App; config: Config; dataDir: string; cleanup(): Promise<void> }> {
  const { config, dataDir, cleanup } = await createTestConfig(env);
  const app = await startApp(config, createLogger(config.logLevel), roles);
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
