import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory, SqlQuery, Transaction } from '@prisma/driver-adapter-utils';

/**
 * A first-in, first-out lock: `acquire` resolves with the function that releases it.
 */
class Lock {
  private tail: Promise<void> = Promise.resolve();

  acquire(): Promise<() => void> {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const acquired = this.tail.then(() => release);
    this.tail = this.tail.then(() => released);
    return acquired;
  }
}

/**
 * Wrap Prisma's better-sqlite3 adapter so that a query outside a transaction waits
 * for the open interactive transaction to end. The adapter (6.19.3) runs every query
 * on one connection and locks only transactions against each other: a plain query
 * issued while another request's transaction is open runs inside that transaction
 * and is rolled back with it, silently.
 */
export function serializeSqliteAdapter(factory: SqlMigrationAwareDriverAdapterFactory): SqlMigrationAwareDriverAdapterFactory {
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => serialize(await factory.connect()),
    connectToShadowDb: async () => serialize(await factory.connectToShadowDb()),
  };
}

function serialize(adapter: SqlDriverAdapter): SqlDriverAdapter {
  const lock = new Lock();

  async function exclusive<T>(work: () => Promise<T>): Promise<T> {
    const release = await lock.acquire();
    try {
      return await work();
    } finally {
      release();
    }
  }

  return new Proxy(adapter, {
    get(target, property, receiver) {
      if (property === 'queryRaw') return (query: SqlQuery) => exclusive(() => target.queryRaw(query));
      if (property === 'executeRaw') return (query: SqlQuery) => exclusive(() => target.executeRaw(query));
      if (property === 'executeScript') return (script: string) => exclusive(() => target.executeScript(script));
      if (property === 'startTransaction') {
        return async (...args: Parameters<SqlDriverAdapter['startTransaction']>) => {
          const release = await lock.acquire();
          try {
            return releaseOnEnd(await target.startTransaction(...args), release);
          } catch (error) {
            release();
            throw error;
          }
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Release the lock when the transaction commits or rolls back. */
function releaseOnEnd(transaction: Transaction, release: () => void): Transaction {
  let released = false;
  const releaseOnce = () => {
    if (!released) release();
    released = true;
  };

  return new Proxy(transaction, {
    get(target, property, receiver) {
      if (property === 'commit' || property === 'rollback') {
        return async () => {
          try {
            await target[property]();
          } finally {
            releaseOnce();
          }
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
