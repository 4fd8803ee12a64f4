import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { checkRedis, createNotificationQueue, enqueueOutbound, startNotificationWorker, type NotificationQueue, type NotificationWorker } from '../../src/queue/index.js';
import { SmtpSink } from '../helpers/smtp-sink.js';
import { createCapturingLogger, createDeliveryFixture, insertOutboundRow, standInRenderer, waitUntil, type DeliveryFixture } from './delivery-harness.js';

/** A redis-server of this test's own on a loopback port, so that it can be stopped. */
class PrivateRedis {
  private child: ChildProcess | null = null;

  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitUntil(
      () => checkRedis(this.url).then(() => true, () => false),
      (up) => up,
    );
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const cleanups: (() => Promise<void>)[] = [];
let redis: PrivateRedis | null = null;

afterEach(async () => {
  // The fixture's cleanup deletes its keys, so Redis has to be up for it.
  if (redis && !redis.running) await redis.start();
  // Every step runs even when one fails, so that no redis-server is left running.
  const errors: unknown[] = [];
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length > 0) throw errors[0];
});

describe('notification queue during a Redis outage', () => {
  let sink: SmtpSink;
  let fixture: DeliveryFixture;
  let queue: NotificationQueue;

  async function setUp(): Promise<void> {
    const server = new PrivateRedis(await freePort());
    redis = server;
    await server.start();
    cleanups.push(() => server.stop());
    sink = await SmtpSink.start();
    cleanups.push(() => sink.close());
    fixture = await createDeliveryFixture({ REDIS_URL: redis.url, SMTP_RELAY_URL: `smtp://127.0.0.1:${sink.port}` });
    cleanups.push(() => fixture.cleanup());
    const created = createNotificationQueue(fixture.config, { attempts: 3, backoffMs: 50 });
    // The connection errors while Redis is stopped are expected here.
    created.on('error', () => undefined);
    await created.waitUntilReady();
    queue = created;
    cleanups.push(() => created.close());
  }

  it('fails to enqueue at once', async () => {
    await setUp();
    const row = await insertOutboundRow(fixture);
    await redis!.stop();

    const started = performance.now();
    const error = await enqueueOutbound(queue, [row.id], fixture.prisma).then(
      () => null,
      (rejection: unknown) => rejection,
    );
    const elapsedMs = performance.now() - started;
    const stored = await fixture.prisma.outboundMessage.findUniqueOrThrow({ where: { id: row.id } });

    expect(error).toBeInstanceOf(Error);
    expect(elapsedMs).toBeLessThan(1_000);
    expect(stored.status).toBe('pending');
  });

  it('closes queue and worker during it', async () => {
    await setUp();
    const { logger } = createCapturingLogger();
    const worker = await startNotificationWorker({ prisma: fixture.prisma, config: fixture.config, logger, render: standInRenderer });
    await redis!.stop();

    const started = performance.now();
    await expect(queue.close()).resolves.toBeUndefined();
    await expect(worker.close()).resolves.toBeUndefined();

    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('sends the row once Redis is back', async () => {
    await setUp();
    const { logger } = createCapturingLogger();
    let worker: NotificationWorker | null = await startNotificationWorker({
      prisma: fixture.prisma,
      config: fixture.config,
      logger,
      render: standInRenderer,
      queueOptions: { attempts: 3, backoffMs: 50 },
      sweepIntervalMs: 300,
    });
    cleanups.push(() => worker?.close() ?? Promise.resolve());
    await redis!.stop();
    const row = await insertOutboundRow(fixture);
    await expect(enqueueOutbound(queue, [row.id], fixture.prisma)).rejects.toThrow();

    await redis!.start();
    await sink.waitForMessages(1, 20_000);
    const sent = await waitUntil(
      () => fixture.prisma.outboundMessage.findUniqueOrThrow({ where: { id: row.id } }),
      (value) => value.status === 'sent',
    );
    await worker.close();
    worker = null;

    expect(sink.messages[0]!.messageId).toBe(row.messageId);
    expect(sent.attempts).toBe(1);
  });
});
