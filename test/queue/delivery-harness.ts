import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Config } from '../../src/config/index.js';
import { openDatabase, type PrismaClient } from '../../src/db/client.js';
import type { OutboundMessage } from '../../src/db/generated/client.js';
import { createLogger, type Logger } from '../../src/logger.js';
import type { RenderedMail, RenderOutbound } from '../../src/outbound/delivery/types.js';
import { createTestConfig } from '../helpers/app.js';

/** Redis used by the tests; the machines of this project run one here. */
export const TEST_REDIS_URL = 'redis://127.0.0.1:6379';

/** One pino line as written, parsed. */
export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** Create a logger that keeps its lines in memory, for tests that check what was logged. */
export function createCapturingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim()) lines.push(JSON.parse(line) as LogLine);
      }
      callback();
    },
  });
  return { logger: createLogger('debug', destination), lines };
}

/** A fresh database with a customer, a staff member and a task; the queue prefix is the test's own. */
export interface DeliveryFixture {
  config: Config;
  prisma: PrismaClient;
  customer: { id: number; email: string };
  staff: { id: number; email: string };
  taskId: number;
  cleanup(): Promise<void>;
}

/** Build a DeliveryFixture; `env` adds settings such as SMTP_RELAY_URL. */
export async function createDeliveryFixture(env: Record<string, string> = {}): Promise<DeliveryFixture> {
  const { config, cleanup } = await createTestConfig({ REDIS_URL: TEST_REDIS_URL, ...env });
  const prisma = await openDatabase(config.databaseUrl);

  const customer = await prisma.user.create({ data: { email: 'customer@client.example.test', name: 'Casey Customer', role: 'customer' } });
  const staff = await prisma.user.create({ data: { email: 'agent@example.test', name: 'Alex Agent', role: 'employee' } });
  const task = await prisma.task.create({ data: { subject: 'Printer on fire', authorId: customer.id, assigneeId: staff.id } });

  return {
    config,
    prisma,
    customer,
    staff,
    taskId: task.id,
    async cleanup() {
      await prisma.$disconnect();
      await cleanup();
    },
  };
}

/** Write an outbox row (and its ThreadMessage) as the outbox sink would, in one transaction. */
export async function insertOutboundRow(fixture: DeliveryFixture, fields: Partial<OutboundMessage> = {}): Promise<OutboundMessage> {
  const id = fields.id ?? randomUUID();
  const messageId = fields.messageId ?? `${id}@${fixture.config.mail.domain}`;
  const taskId = fields.taskId === undefined ? fixture.taskId : fields.taskId;

  return fixture.prisma.$transaction(async (tx) => {
    const row = await tx.outboundMessage.create({
      data: {
        id,
        taskId,
        recipientId: fields.recipientId === undefined ? fixture.customer.id : fields.recipientId,
        toAddress: fields.toAddress ?? fixture.customer.email,
        reason: fields.reason ?? 'test',
        event: fields.event ?? 'comment.public',
        template: fields.template ?? 'comment',
        payload: fields.payload ?? JSON.stringify({ text: `Body of ${id}` }),
        dedupeKey: fields.dedupeKey ?? `test:${id}`,
        messageId,
        inReplyTo: fields.inReplyTo ?? null,
        status: fields.status ?? 'pending',
        attempts: fields.attempts ?? 0,
        sentAt: fields.sentAt ?? null,
      },
    });
    if (taskId !== null) await tx.threadMessage.create({ data: { messageId, taskId, outbound: true } });
    return row;
  });
}

/**
 * Stand-in for renderOutbound (src/outbound/render.ts) in the delivery tests, so that
 * retries, limits and idempotency are tested apart from templates and payloads. The
 * header and round-trip tests use the real renderer.
 */
export const standInRenderer: RenderOutbound = async (row, config) => {
  const payload = JSON.parse(row.payload) as { text?: string };
  return {
    from: `"${config.mail.fromName}" <${config.mail.addresses[0]!.address}>`,
    to: row.toAddress,
    replyTo: null,
    subject: `[#${row.taskId ?? 0}] stand-in`,
    text: payload.text ?? '',
    html: `<p>${payload.text ?? ''}</p>`,
    headers: { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' },
    messageId: row.messageId,
    inReplyTo: row.inReplyTo,
    references: row.inReplyTo ? [row.inReplyTo] : [],
  } satisfies RenderedMail;
};

/** Poll `read` until `done` holds for its value, or fail after `timeoutMs`. */
export async function waitUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
