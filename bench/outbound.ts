import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import { pino } from 'pino';
import { loadConfig, type Config } from '../src/config/index.js';
import { openDatabase, type PrismaClient } from '../src/db/client.js';
import { applyMigrations } from '../src/db/migrate.js';
import { createLogger, type Logger } from '../src/logger.js';
import { composeMessage } from '../src/outbound/delivery/compose.js';
import { createOutboxSink } from '../src/outbound/outbox-sink.js';
import { renderOutbound } from '../src/outbound/render.js';
import { seedDefaultRules } from '../src/outbound/rules/defaults.js';
import { createNotificationQueue, enqueueOutbound, startNotificationWorker, type NotificationQueue } from '../src/queue/index.js';
import { addComment } from '../src/tasks/add-comment.js';
import { ChangeRunner } from '../src/tasks/change.js';
import { SmtpSink } from '../test/helpers/smtp-sink.js';
import { describeMachine, type MachineInfo } from './lib/machine.js';
import { round, summarizeLatencies, type LatencySummary } from './lib/stats.js';

/** Settings of the outbound bench; every field has a default. */
export interface OutboundBenchOptions {
  /** Short run (a smoke test, not a measurement). */
  quick?: boolean;
  /** Mails in the burst and in the bare nodemailer run. Default 2,000, quick 200. */
  count?: number;
  /** Seconds of the paced run, which commits changes at half the burst rate. Default 5, quick 1. */
  pacedSeconds?: number;
  /** Worker jobs in parallel. Default 50, the worker's default. */
  concurrency?: number;
  /** Receives one line per step. Default: stderr. */
  progress?: (line: string) => void;
}

/** Rate and latency of one way of sending. */
export interface SendRun {
  mails: number;
  seconds: number;
  perSecond: number;
  /** From the commit of the row (or the sendMail call, for bare nodemailer) to the sink's 250. */
  latency: LatencySummary;
  /** CPU time of this process (user and system) per mail, the sink's share included. */
  cpuMsPerMail: number;
}

/** Everything one run of the outbound bench measured. */
export interface OutboundBenchResult {
  bench: 'outbound';
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  options: Required<Omit<OutboundBenchOptions, 'progress'>>;
  /** All rows committed as fast as possible, while the worker drains them. */
  pipeline: SendRun;
  /** Changes committed at half the burst rate, each queued after its commit: latency without a backlog. */
  paced: SendRun & { offeredPerSecond: number };
  /** A nodemailer pool of the same size sending the same rendered mails, all at once. */
  bare: SendRun;
  /** pipeline.perSecond / bare.perSecond; the target is at least 0.5. */
  ratio: number;
  targetMet: boolean;
}

/** Rows written per transaction in the burst, as a change with ten recipients writes them. */
const ROWS_PER_CHANGE = 10;
const RECIPIENTS = 1000;
/** Connections of both nodemailer pools: the transport's default. */
const POOL_CONNECTIONS = 5;

/**
 * Measure mail out: OutboundMessage rows written as the outbox sink writes them, queued,
 * rendered with the real templates, sent by the notification worker over pooled SMTP to
 * a loopback smtp-server sink, and recorded as sent.
 *
 * - burst: every row is committed first and then queued at once, so the rate is the
 *   worker's own (commit cost excluded) and the latency is mostly backlog.
 * - paced: changes of ten rows committed at half the burst rate, each queued after its
 *   commit as the outbox sink does. Its latency runs from the commit to the sink's 250.
 * - bare: a nodemailer pool of the same size sends the burst's rendered mails to the
 *   same sink, all at once.
 *
 * Everything runs in this one process against the Redis at 127.0.0.1:6379, as `npm
 * start` runs the worker beside the rest. The sink's CPU time counts in every run.
 */
export async function runOutboundBench(input: OutboundBenchOptions = {}): Promise<OutboundBenchResult> {
  const quick = input.quick ?? false;
  const options = {
    quick,
    count: input.count ?? (quick ? 200 : 2000),
    pacedSeconds: input.pacedSeconds ?? (quick ? 1 : 5),
    concurrency: input.concurrency ?? 50,
  };
  const progress = input.progress ?? ((line: string) => process.stderr.write(`outbound bench: ${line}\n`));
  const startedAt = new Date().toISOString();
  const machine = describeMachine();

  const sink = await SmtpSink.start({ keepRaw: false });
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'postdesk-bench-outbound-'));
  const config = await createBenchConfig(workDir, sink.port);
  const prisma = await openDatabase(config.databaseUrl);
  // Production logs at info; the lines go to /dev/null so that only their cost is measured.
  const logger = createLogger('info', pino.destination({ dest: '/dev/null', sync: false }));
  const queue = createNotificationQueue(config);

  try {
    progress('seeding');
    const template = await seedTemplateRow(prisma, config, logger, Math.ceil(options.count / ROWS_PER_CHANGE) + 1);
    const worker = await startNotificationWorker({ prisma, config, logger, concurrency: options.concurrency });
    try {
      progress(`burst of ${options.count} mails through the worker`);
      const pipeline = await runBurst(prisma, queue, sink, template, options.count);

      const offeredPerSecond = Math.max(1, Math.round(pipeline.perSecond / 2));
      progress(`paced run at ${offeredPerSecond} mails/s for ${options.pacedSeconds} s`);
      const paced = await runPaced(prisma, queue, sink, template, offeredPerSecond, options.pacedSeconds);

      progress(`bare nodemailer pool, ${options.count} mails`);
      const bare = await runBare(prisma, config, sink, options.count);

      const ratio = round(pipeline.perSecond / bare.perSecond, 3);
      return { bench: 'outbound', startedAt, finishedAt: new Date().toISOString(), machine, options, pipeline, paced: { ...paced, offeredPerSecond }, bare, ratio, targetMet: ratio >= 0.5 };
    } finally {
      await worker.close();
    }
  } finally {
    await queue.obliterate({ force: true });
    await queue.close();
    await prisma.$disconnect();
    await sink.close();
    await rm(workDir, { recursive: true, force: true });
  }
}

/** Print the result as a short table. */
export function formatOutboundReport(result: OutboundBenchResult): string {
  const line = (name: string, run: SendRun) =>
    `${name.padEnd(26)} ${String(round(run.perSecond, 1)).padStart(8)} ${String(round(run.latency.p50Ms, 1)).padStart(9)} ${String(round(run.latency.p99Ms, 1)).padStart(9)} ${String(run.cpuMsPerMail).padStart(8)}  (${run.mails} mails in ${round(run.seconds, 2)} s)`;
  return [
    `Outbound mail (${result.machine.cpus} CPUs, ${result.machine.cpuModel}, Node ${result.machine.node})`,
    `${'run'.padEnd(26)} ${'mails/s'.padStart(8)} ${'p50 ms'.padStart(9)} ${'p99 ms'.padStart(9)} ${'CPU ms'.padStart(8)}`,
    line('worker, burst', result.pipeline),
    line(`worker, paced ${result.paced.offeredPerSecond}/s`, result.paced),
    line('bare nodemailer pool', result.bare),
    `worker / bare: ${result.ratio} (target at least 0.5: ${result.targetMet ? 'met' : 'NOT met'})`,
  ].join('\n');
}

async function createBenchConfig(workDir: string, sinkPort: number): Promise<Config> {
  const config = loadConfig({
    POSTDESK_DATA_DIR: workDir,
    MAIL_DOMAIN: 'example.test',
    MAIL_ADDRESSES: 'support@example.test',
    SMTP_RELAY_URL: `smtp://127.0.0.1:${sinkPort}`,
    QUEUE_PREFIX: `postdesk-bench-${process.pid}-${Date.now()}`,
    // The bench mails the same few people; the loop limits would hold most of it.
    MAIL_MAX_PER_RECIPIENT_PER_DAY: '100000000',
    MAIL_MAX_PER_TASK_PER_HOUR: '100000000',
    LOG_LEVEL: 'info',
  });
  await applyMigrations(config.databaseUrl);
  return config;
}

/** A row the outbox sink wrote for a staff reply; the bench's rows copy its payload. */
interface TemplateRow {
  template: string;
  event: string;
  payload: Record<string, unknown>;
  /** Tasks the rows are spread over, ROWS_PER_CHANGE rows to a task in turn. */
  taskIds: number[];
  customers: { id: number; email: string; name: string }[];
}

async function seedTemplateRow(prisma: PrismaClient, config: Config, logger: Logger, taskCount: number): Promise<TemplateRow> {
  await seedDefaultRules(prisma);
  const customers = await Promise.all(
    Array.from({ length: RECIPIENTS }, (_unused, index) => prisma.user.create({ data: { email: `customer-${index}@client.example.test`, name: `Customer ${index}` } })),
  );
  const staff = await prisma.user.create({ data: { email: 'agent@example.test', name: 'Agent', role: 'employee' } });
  const task = await prisma.task.create({ data: { subject: 'Benchmark query', authorId: customers[0]!.id, assigneeId: staff.id } });

  const runner = new ChangeRunner(prisma, logger);
  runner.addSink(createOutboxSink({ config, logger, enqueue: () => undefined }));
  await runner.run({ id: staff.id, role: 'employee' }, 'web', (context) =>
    addComment(context, { taskId: task.id, authorId: staff.id, body: 'Thank you for your message. We have looked into it and fixed the problem.', visibility: 'public' }),
  );

  const row = await prisma.outboundMessage.findFirstOrThrow({ where: { taskId: task.id, recipientId: customers[0]!.id } });
  // The seed row itself is never sent; the worker's start-up sweep would otherwise pick it up.
  await prisma.outboundMessage.deleteMany({});
  await prisma.task.createMany({ data: Array.from({ length: taskCount }, (_unused, index) => ({ subject: `Benchmark query ${index}`, authorId: customers[index % customers.length]!.id, assigneeId: staff.id })) });
  const tasks = await prisma.task.findMany({ where: { id: { not: task.id } }, select: { id: true }, orderBy: { id: 'asc' } });
  return {
    template: row.template,
    event: row.event,
    payload: JSON.parse(row.payload) as Record<string, unknown>,
    taskIds: tasks.map((entry) => entry.id),
    customers: customers.map((customer) => ({ id: customer.id, email: customer.email, name: customer.name ?? '' })),
  };
}

let nextTask = 0;

/** Commit `count` rows on one task in one transaction, as the outbox sink writes a change's rows. */
async function commitRows(prisma: PrismaClient, template: TemplateRow, count: number): Promise<{ id: string; messageId: string }[]> {
  const taskId = template.taskIds[nextTask++ % template.taskIds.length]!;
  const rows = Array.from({ length: count }, (_unused, index) => {
    const customer = template.customers[index % template.customers.length]!;
    const id = randomUUID();
    const payload = { ...template.payload, recipient: { id: customer.id, name: customer.name, email: customer.email, role: 'customer', staff: false } };
    return {
      id,
      taskId,
      recipientId: customer.id,
      toAddress: customer.email,
      reason: 'bench',
      event: template.event,
      template: template.template,
      payload: JSON.stringify(payload),
      dedupeKey: `bench:${id}`,
      messageId: `${id}@example.test`,
    };
  });

  await prisma.$transaction(async (tx) => {
    await tx.outboundMessage.createMany({ data: rows });
    await tx.threadMessage.createMany({ data: rows.map((row) => ({ messageId: row.messageId, taskId, outbound: true })) });
  });
  return rows;
}

/**
 * Commit every row first, then queue them all at once as their changes' afterCommit
 * would: the rate is the worker's, not the cost of writing the rows. Latency here is
 * mostly time spent waiting in the backlog; the paced run measures it without one.
 */
async function runBurst(prisma: PrismaClient, queue: NotificationQueue, sink: SmtpSink, template: TemplateRow, count: number): Promise<SendRun> {
  sink.messages.splice(0);
  const ids: string[] = [];
  for (let done = 0; done < count; done += ROWS_PER_CHANGE) {
    ids.push(...(await commitRows(prisma, template, Math.min(ROWS_PER_CHANGE, count - done))).map((row) => row.id));
  }

  const commitTimes = new Map<string, number>();
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  for (const id of ids) commitTimes.set(`${id}@example.test`, started);
  for (let index = 0; index < ids.length; index += ROWS_PER_CHANGE) await enqueueOutbound(queue, ids.slice(index, index + ROWS_PER_CHANGE), prisma);
  await sink.waitForMessages(count, 600_000);
  return summarizeRun(sink, commitTimes, started, cpuStart);
}

/** Commit changes of ROWS_PER_CHANGE rows at `perSecond` rows a second, each queued right after its commit. */
async function runPaced(prisma: PrismaClient, queue: NotificationQueue, sink: SmtpSink, template: TemplateRow, perSecond: number, seconds: number): Promise<SendRun> {
  sink.messages.splice(0);
  const commitTimes = new Map<string, number>();
  const changes = Math.max(1, Math.round((perSecond * seconds) / ROWS_PER_CHANGE));
  const intervalMs = (1000 * ROWS_PER_CHANGE) / perSecond;
  const cpuStart = process.cpuUsage();
  const started = performance.now();

  for (let index = 0; index < changes; index++) {
    const wait = started + index * intervalMs - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const rows = await commitRows(prisma, template, ROWS_PER_CHANGE);
    const committedAt = performance.now();
    for (const row of rows) commitTimes.set(row.messageId, committedAt);
    await enqueueOutbound(queue, rows.map((row) => row.id), prisma);
  }
  await sink.waitForMessages(changes * ROWS_PER_CHANGE, 600_000);
  return summarizeRun(sink, commitTimes, started, cpuStart);
}

/** Send rows the burst rendered through a plain nodemailer pool, all at once, with fresh Message-IDs. */
async function runBare(prisma: PrismaClient, config: Config, sink: SmtpSink, count: number): Promise<SendRun> {
  const rows = await prisma.outboundMessage.findMany({ take: count });
  const messages: SendMailOptions[] = [];
  for (const row of rows) {
    const rendered = await renderOutbound(row, config);
    messages.push(composeMessage({ ...rendered, messageId: `bare-${row.id}@example.test` }, config.instanceId));
  }

  const transporter = nodemailer.createTransport({ host: '127.0.0.1', port: sink.port, secure: false, pool: true, maxConnections: POOL_CONNECTIONS });
  sink.messages.splice(0);
  const commitTimes = new Map<string, number>();
  const cpuStart = process.cpuUsage();
  const started = performance.now();
  try {
    await Promise.all(
      messages.map(async (message) => {
        commitTimes.set(String(message.messageId), performance.now());
        await transporter.sendMail(message);
      }),
    );
    await sink.waitForMessages(messages.length, 600_000);
  } finally {
    transporter.close();
  }
  return summarizeRun(sink, commitTimes, started, cpuStart);
}

function summarizeRun(sink: SmtpSink, commitTimes: Map<string, number>, started: number, cpuStart: NodeJS.CpuUsage): SendRun {
  const cpu = process.cpuUsage(cpuStart);
  const latencies: number[] = [];
  let lastAccepted = started;
  for (const message of sink.messages) {
    const committedAt = message.messageId ? commitTimes.get(message.messageId) : undefined;
    if (committedAt === undefined) continue;
    latencies.push(message.acceptedAt - committedAt);
    lastAccepted = Math.max(lastAccepted, message.acceptedAt);
  }
  const seconds = (lastAccepted - started) / 1000;
  return {
    mails: latencies.length,
    seconds: round(seconds, 3),
    perSecond: round(latencies.length / seconds, 1),
    latency: roundSummary(summarizeLatencies(latencies)),
    cpuMsPerMail: round((cpu.user + cpu.system) / 1000 / Math.max(1, latencies.length), 3),
  };
}

function roundSummary(summary: LatencySummary): LatencySummary {
  return { count: summary.count, meanMs: round(summary.meanMs), p50Ms: round(summary.p50Ms), p90Ms: round(summary.p90Ms), p99Ms: round(summary.p99Ms), maxMs: round(summary.maxMs) };
}
