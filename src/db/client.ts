import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaClient } from './generated/client.js';
import { serializeSqliteAdapter } from './serialized-adapter.js';

export type { Prisma } from './generated/client.js';
export { PrismaClient } from './generated/client.js';

/** A transaction client, as passed to `$transaction(async (tx) => ...)`. */
export type Tx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

/** Either the client itself or a transaction client. */
export type Db = PrismaClient | Tx;

/**
 * Open the database. SQLite runs in WAL mode with synchronous=FULL, so a commit is
 * on disk when the call returns: the journal and the processing results rely on it.
 */
export async function openDatabase(databaseUrl: string): Promise<PrismaClient> {
  const adapter = serializeSqliteAdapter(new PrismaBetterSQLite3({ url: databaseUrl, timeout: 10_000 }));
  const prisma = new PrismaClient({ adapter });

  await prisma.$queryRawUnsafe('PRAGMA journal_mode = WAL');
  await prisma.$executeRawUnsafe('PRAGMA synchronous = FULL');
  await prisma.$executeRawUnsafe('PRAGMA foreign_keys = ON');
  return prisma;
}
