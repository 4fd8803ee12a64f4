import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { checkRedis, redactRedisUrl, RedisUnavailableError } from '../../src/queue/index.js';
import { TEST_REDIS_URL } from './delivery-harness.js';

/** Return a loopback port that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function timed(promise: Promise<unknown>): Promise<{ error: unknown; elapsedMs: number }> {
  const started = performance.now();
  try {
    await promise;
    return { error: null, elapsedMs: performance.now() - started };
  } catch (error) {
    return { error, elapsedMs: performance.now() - started };
  }
}

describe('checkRedis', () => {
  it('passes against the test Redis', async () => {
    await expect(checkRedis(TEST_REDIS_URL)).resolves.toBeUndefined();
  });

  it('names the URL and the fix for a closed port', async () => {
    const port = await closedPort();

    const { error, elapsedMs } = await timed(checkRedis(`redis://127.0.0.1:${port}`));

    expect(error).toBeInstanceOf(RedisUnavailableError);
    expect((error as Error).message).toBe(`Redis at redis://127.0.0.1:${port} is not reachable: start redis-server or set REDIS_URL`);
    expect(elapsedMs).toBeLessThan(3_000);
  });

  it('gives up on a silent server within 3 s', async () => {
    // Accepts the connection and never replies, like a peer that hangs after the handshake.
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;

    const { error, elapsedMs } = await timed(checkRedis(`redis://127.0.0.1:${port}`));
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));

    expect(error).toBeInstanceOf(RedisUnavailableError);
    expect(elapsedMs).toBeLessThan(3_200);
  });
});

describe('redactRedisUrl', () => {
  it('hides the password', () => {
    expect(redactRedisUrl('redis://:hunter2@127.0.0.1:6379/2')).toBe('redis://:***@127.0.0.1:6379/2');
  });

  it('keeps a URL without password', () => {
    expect(redactRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });
});
