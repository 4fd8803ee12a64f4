import { Redis, type RedisOptions } from 'ioredis';

/** How long checkRedis waits for a PONG before it gives up. */
const CHECK_TIMEOUT_MS = 2_500;

/** Thrown when no Redis server replies at the configured URL. */
export class RedisUnavailableError extends Error {
  readonly code = 'REDIS_UNAVAILABLE';

  constructor(url: string, options?: { cause?: unknown }) {
    super(`Redis at ${redactRedisUrl(url)} is not reachable: start redis-server or set REDIS_URL`, options);
    this.name = 'RedisUnavailableError';
  }
}

/**
 * Options for a BullMQ connection. BullMQ requires `maxRetriesPerRequest: null` so that
 * a command waits for a reconnect instead of failing a blocking worker call.
 */
export function bullConnectionOptions(url: string): RedisOptions & { url: string } {
  return { url, maxRetriesPerRequest: null };
}

/**
 * Connect to `url`, send PING and disconnect. Throws RedisUnavailableError, whose message
 * names the URL (without its password) and what to do, when no PONG arrives within 2.5 s.
 */
export async function checkRedis(url: string): Promise<void> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: CHECK_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // ioredis emits 'error' for every failed connect; the awaited calls below report it.
  client.on('error', () => undefined);

  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no PONG within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([client.connect().then(() => client.ping()), deadline]);
  } catch (error) {
    throw new RedisUnavailableError(url, { cause: error });
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}

/** Return the URL with its password masked, for messages and logs. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return 'the configured REDIS_URL';
  }
}
