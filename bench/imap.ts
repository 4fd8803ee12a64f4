import type { App } from '../src/app.js';
import { startImap, type ImapService } from '../src/imap/index.js';
import { createMailbox } from '../src/imap/mailbox-store.js';
import { createLogger } from '../src/logger.js';
import { createTestApp } from '../test/helpers/app.js';
import { startDovecot, type DovecotServer } from '../test/helpers/dovecot.js';
import { describeMachine, type MachineInfo } from './lib/machine.js';
import { MessageFactory } from './lib/messages.js';
import { nowMs, round, summarizeLatencies, toMiB, type LatencySummary } from './lib/stats.js';

/** Settings of the IMAP bench; every field has a default. */
export interface ImapBenchOptions {
  /** Short run with fewer messages (a smoke test, not a measurement). */
  quick?: boolean;
  /** Backlog sizes to import, smallest first; comparing their peak memory shows whether it grows with the backlog. Default 1,000 and 5,000; quick 100 and 500. */
  backlogs?: number[];
  /** Every this many messages one carries a 200 KiB attachment. Default 25. */
  attachmentEvery?: number;
  /** Messages appended one at a time for the latency case. Default 200; quick 30. */
  latencyCount?: number;
  /** Receives one line per step. Default: stderr. */
  progress?: (line: string) => void;
}

/** One backlog import. */
export interface BacklogCase {
  messages: number;
  megabytes: number;
  appendSeconds: number;
  /** From the poller's start to the last message journaled (synced to disk, row written) and moved. */
  journalSeconds: number;
  journalPerSecond: number;
  rssBeforeMiB: number;
  rssPeakMiB: number;
  heapPeakMiB: number;
  /** Heap still used after the import, less before it, both after a full GC; null unless Node.js runs with --expose-gc. */
  heapRetainedMiB: number | null;
}

/** Everything one run of the IMAP bench measured. */
export interface ImapBenchResult {
  bench: 'imap';
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  backlogs: BacklogCase[];
  /** Processing every backlog's journal entries into tasks, after the imports. */
  processing: { messages: number; seconds: number; perSecond: number };
  /** From APPEND's OK to the onJournaled call, for messages that arrive while the poller idles (IDLE). */
  appendToJournal: LatencySummary;
  /** From APPEND's OK to the task written (processedAt of the journal row). */
  appendToTask: LatencySummary;
}

/**
 * Measures the IMAP poller against a private Dovecot on loopback. It imports backlogs
 * of realistic messages into a Postdesk with a fresh SQLite data folder, recording
 * throughput and this process's peak RSS. Then it processes them into tasks, and
 * measures the delay from a message's APPEND to its journal entry and its task
 * while the poller idles. Dovecot, the poller and the processor share this machine.
 */
export async function runImapBench(input: ImapBenchOptions = {}): Promise<Record<string, unknown>> {
  const progress = input.progress ?? ((line: string) => process.stderr.write(`imap bench: ${line}\n`));
  const backlogs = input.backlogs ?? (input.quick ? [100, 500] : [1_000, 5_000]);
  const latencyCount = input.latencyCount ?? (input.quick ? 30 : 200);
  const startedAt = new Date().toISOString();
  const machine = describeMachine();

  const dovecot = await startDovecot();
  const { app, cleanup } = await createTestApp({}, ['inbound']);
  const messages = new MessageFactory();
  try {
    const cases: BacklogCase[] = [];
    for (const [index, size] of backlogs.entries()) {
      progress(`backlog of ${size} messages`);
      cases.push(await measureBacklog(dovecot, app, messages, `backlog${index}`, size, input.attachmentEvery ?? 25));
    }

    progress('processing the imported backlogs into tasks');
    const processing = await measureProcessing(app);
    progress(`latency of ${latencyCount} messages`);
    const latency = await measureLatency(dovecot, app, messages, latencyCount);
    const result: ImapBenchResult = { bench: 'imap', startedAt, finishedAt: new Date().toISOString(), machine, backlogs: cases, processing, ...latency };
    return { ...result };
  } finally {
    await cleanup();
    await dovecot.destroy();
  }
}

async function measureBacklog(dovecot: DovecotServer, app: App, messages: MessageFactory, user: string, size: number, attachmentEvery: number): Promise<BacklogCase> {
  await dovecot.addUser(user, 'secret');
  let bytes = 0;
  const appendStart = nowMs();
  // Built and appended 250 at a time, so that the messages do not sit in this process's memory.
  for (let first = 0; first < size; first += 250) {
    const raws = [];
    for (let index = first; index < Math.min(size, first + 250); index++) {
      raws.push(messages.build(index % attachmentEvery === attachmentEvery - 1 ? 'attachment' : 'small', index).raw);
    }
    bytes += raws.reduce((sum, raw) => sum + raw.length, 0);
    await dovecot.append(user, 'secret', raws);
  }
  const appendSeconds = (nowMs() - appendStart) / 1000;

  // The poller runs alone here, so that its rate and memory are not the processor's.
  const mailbox = await createMailbox(app.prisma, mailboxSettings(user, dovecot.port, true), app.config.credentialKey);
  const memory = sampleMemory();
  let journaled = 0;
  const start = nowMs();
  const service = await startService(app, () => journaled++, false);
  try {
    await waitUntil(() => journaled >= size, 600_000);
  } finally {
    await service.stop();
    await app.prisma.mailbox.update({ where: { id: mailbox.id }, data: { enabled: false } });
  }
  const journalSeconds = (nowMs() - start) / 1000;
  const peak = memory.stop();
  collectGarbage();
  const heapAfter = process.memoryUsage().heapUsed;

  return {
    messages: size,
    megabytes: round(bytes / 1e6, 1),
    appendSeconds: round(appendSeconds),
    journalSeconds: round(journalSeconds),
    journalPerSecond: round(size / journalSeconds, 1),
    rssBeforeMiB: toMiB(peak.rssBefore),
    rssPeakMiB: toMiB(peak.rss),
    heapPeakMiB: toMiB(peak.heap),
    heapRetainedMiB: typeof globalThis.gc === 'function' ? toMiB(heapAfter - peak.heapBefore) : null,
  };
}

/** Processes the journal entries the backlogs left pending, one after another as the processor does in production. */
async function measureProcessing(app: App): Promise<{ messages: number; seconds: number; perSecond: number }> {
  const pending = await app.prisma.inboundMessage.findMany({ where: { status: 'pending' }, orderBy: { id: 'asc' }, select: { id: true } });
  const start = nowMs();
  for (const { id } of pending) app.processor!.enqueue(id);
  await app.idle();
  const seconds = (nowMs() - start) / 1000;
  return { messages: pending.length, seconds: round(seconds), perSecond: round(pending.length / seconds, 1) };
}

async function measureLatency(dovecot: DovecotServer, app: App, messages: MessageFactory, count: number): Promise<Pick<ImapBenchResult, 'appendToJournal' | 'appendToTask'>> {
  const user = 'latency';
  await dovecot.addUser(user, 'secret');
  await createMailbox(app.prisma, mailboxSettings(user, dovecot.port, false), app.config.credentialKey);
  const journaledAt = new Map<string, number>();
  const service = await startService(app, (journalId) => journaledAt.set(journalId, Date.now()), true);
  const client = await dovecot.connect(user, 'secret');
  const appendedAt = new Map<string, number>();

  try {
    await waitUntil(() => service.health().some((health) => health.name === user && health.lastSuccessAt !== null && health.idle === true), 10_000);
    for (let index = 0; index < count; index++) {
      const message = messages.build('small', 100_000 + index);
      const before = journaledAt.size;
      await client.append('INBOX', message.raw);
      appendedAt.set(messageIdOf(message.raw), Date.now());
      await waitUntil(() => journaledAt.size > before, 10_000);
      await app.idle();
      // The poller starts IDLE 100 ms after a drain (autoIdleDelayMs); the pause makes
      // each message arrive while the connection idles, as mail usually does.
      await new Promise((resolve) => setTimeout(resolve, 250 + Math.random() * 250));
    }
  } finally {
    await client.logout();
    await service.stop();
  }

  const rows = await app.prisma.inboundMessage.findMany({ where: { mailbox: { name: user } }, select: { id: true, messageId: true, processedAt: true } });
  const toJournal: number[] = [];
  const toTask: number[] = [];
  for (const row of rows) {
    const appended = appendedAt.get(row.messageId ?? '');
    const journaled = journaledAt.get(row.id);
    if (appended === undefined || journaled === undefined) continue;
    toJournal.push(journaled - appended);
    if (row.processedAt) toTask.push(row.processedAt.getTime() - appended);
  }
  return { appendToJournal: summarizeLatencies(toJournal), appendToTask: summarizeLatencies(toTask) };
}

function mailboxSettings(user: string, port: number, importExisting: boolean) {
  return {
    name: user,
    host: '127.0.0.1',
    port,
    tls: false,
    user,
    authMethod: 'password' as const,
    secret: 'secret',
    folder: 'INBOX',
    processedAction: 'move' as const,
    processedFolder: 'Postdesk/Processed',
    importExisting,
    departmentId: null,
    address: 'support@example.test',
    enabled: true,
  };
}

function startService(app: App, onJournaled: (journalId: string) => void, process: boolean): Promise<ImapService> {
  return startImap({
    prisma: app.prisma,
    config: app.config,
    journal: app.journal,
    // Plain IMAP on loopback makes imapflow warn about the missing STARTTLS on every connection.
    logger: createLogger('error'),
    onJournaled: (journalId) => {
      onJournaled(journalId);
      if (process) app.processor?.enqueue(journalId);
    },
  });
}

/** Samples RSS and heap every 50 ms until stopped; returns the peaks and the values at the start. */
function sampleMemory(): { stop(): { rss: number; heap: number; rssBefore: number; heapBefore: number } } {
  collectGarbage();
  const { rss: rssBefore, heapUsed: heapBefore } = process.memoryUsage();
  let rss = rssBefore;
  let heap = 0;
  const timer = setInterval(() => {
    const usage = process.memoryUsage();
    rss = Math.max(rss, usage.rss);
    heap = Math.max(heap, usage.heapUsed);
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      return { rss, heap, rssBefore, heapBefore };
    },
  };
}

/** Runs a full GC when Node.js runs with --expose-gc, for comparable memory readings. */
function collectGarbage(): void {
  if (typeof globalThis.gc === 'function') globalThis.gc();
}

function messageIdOf(raw: Buffer): string {
  const match = /^Message-ID:\s*<([^>]+)>/im.exec(raw.subarray(0, 8192).toString('latin1'));
  return match?.[1] ?? '';
}

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`imap bench: condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Formats a result of runImapBench for the terminal. */
export function formatImapReport(result: ImapBenchResult): string {
  const lines = [
    'IMAP poller bench (private Dovecot on loopback; poller and processor in this process)',
    `machine: ${result.machine.cpuModel}, ${result.machine.cpus} CPUs, Node.js ${result.machine.node}`,
    '',
    'Backlog import (poller alone: fetch, journal, move):',
    'messages  MB     append s  import s  msg/s    RSS before  RSS peak    heap peak   heap kept after GC',
    ...result.backlogs.map((entry) =>
      [String(entry.messages).padEnd(9), String(entry.megabytes).padEnd(6), String(entry.appendSeconds).padEnd(9), String(entry.journalSeconds).padEnd(9), String(entry.journalPerSecond).padEnd(8), `${entry.rssBeforeMiB} MiB`.padEnd(11), `${entry.rssPeakMiB} MiB`.padEnd(11), `${entry.heapPeakMiB} MiB`.padEnd(11), entry.heapRetainedMiB === null ? 'n/a (run with --expose-gc)' : `${entry.heapRetainedMiB} MiB`].join(' '),
    ),
    `processing the imported messages into tasks afterwards: ${result.processing.messages} messages in ${result.processing.seconds} s, ${result.processing.perSecond} msg/s`,
    '',
    `APPEND to journal (IDLE): p50 ${round(result.appendToJournal.p50Ms)} ms, p99 ${round(result.appendToJournal.p99Ms)} ms, max ${round(result.appendToJournal.maxMs)} ms (${result.appendToJournal.count} messages)`,
    `APPEND to task:           p50 ${round(result.appendToTask.p50Ms)} ms, p99 ${round(result.appendToTask.p99Ms)} ms, max ${round(result.appendToTask.maxMs)} ms`,
  ];
  return lines.join('\n');
}
