import { spawn } from 'node:child_process';
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDatabase } from './client.js';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const migrationsDir = path.join(projectRoot, 'prisma', 'migrations');

/**
 * Apply pending migrations. The Prisma CLI runs only when a migration is missing,
 * because it takes a second or two to start. Also, `migrate deploy` cannot lock a
 * database that a running server has open, so the administration command must not
 * call it on every run.
 */
export async function migrateIfNeeded(databaseUrl: string): Promise<string[]> {
  const pending = await listPendingMigrations(databaseUrl);
  if (pending.length > 0) await applyMigrations(databaseUrl);
  return pending;
}

/** Names of the migrations in prisma/migrations that the database has not finished. */
export async function listPendingMigrations(databaseUrl: string): Promise<string[]> {
  const available = (await readdir(migrationsDir, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  // SQLite creates the database file, but not the folder it goes in.
  if (databaseUrl.startsWith('file:')) await mkdir(path.dirname(path.resolve(databaseUrl.slice('file:'.length))), { recursive: true });
  const prisma = await openDatabase(databaseUrl);
  try {
    const tables = await prisma.$queryRawUnsafe<{ name: string }[]>("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_prisma_migrations'");
    if (tables.length === 0) return available;
    const applied = await prisma.$queryRawUnsafe<{ migration_name: string }[]>('SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL');
    const names = new Set(applied.map((row) => row.migration_name));
    return available.filter((name) => !names.has(name));
  } finally {
    await prisma.$disconnect();
  }
}

/**
 * Apply pending migrations with the Prisma CLI (`prisma migrate deploy`), run
 * offline through scripts/prisma.mjs. Resolves when the schema is current.
 */
export function applyMigrations(databaseUrl: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(projectRoot, 'scripts', 'prisma.mjs'), 'migrate', 'deploy'], {
      cwd: projectRoot,
      env: { ...process.env, DATABASE_URL: databaseUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`prisma migrate deploy failed with exit code ${code}:\n${output.trim()}`));
    });
  });
}
