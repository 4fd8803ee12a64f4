import os from 'node:os';
import path from 'node:path';
import { closeClients, openClients, sendAll, sleep } from './load.js';
import { MessageFactory, type MessageKind } from './messages.js';
import type { ProcessingCounts, ServerStats } from './server-protocol.js';
import { ServerProcess } from './server-process.js';
import { nowMs, round, summarizeLatencies, type LatencySummary } from './stats.js';

/**
 * The servers the SMTP bench compares: the baseline, Postdesk with every role
 * (as `npm start` runs it), and two partial Postdesk servers that show where the
 * time goes (see bench/servers/postdesk-server.ts).
 */
export type ServerKind = 'baseline' | 'postdesk' | 'postdesk-smtp-only' | 'postdesk-intake-only';

/** Settings shared by every case of one bench run. */
export interface CaseContext {
  workDir: string;
  logLevel: string;
  progress(line: string): void;
}

/** Server resource use during one case. */
export interface ServerUse {
  startRssBytes: number;
  /** Peak RSS while the measured messages were sent and, for Postdesk, processed. */
  peakRssBytes: number;
  rssAfterGcBytes: number;
  heapAfterGcBytes: number;
  /** `process.memoryUsage().external` after GC: ArrayBuffers and WebAssembly memory. */
  externalAfterGcBytes: number;
  /** Server CPU time (user + system) per message during the send phase, in ms. */
  cpuMsPerMessageSending: number;
  /** Server CPU time per message over sending and processing, in ms. */
  cpuMsPerMessageTotal: number;
  /** Event-loop delay during the send phase. */
  eventLoopDelay: ServerStats['eventLoopDelay'];
  /** Step timings inside the server over the whole case (see the server scripts). */
  timings: ServerStats['timings'];
}

/** How long Postdesk took to turn the accepted messages into tasks. */
export interface ProcessingResult {
  /** From the first measured MAIL FROM until no measured message was pending, in seconds. */
  seconds: number;
  messagesPerSecond: number;
  /** Time still needed after the last 250, in seconds. */
  drainSecondsAfterSending: number;
  byStatus: Record<string, number>;
}

/** The server's memory at one moment of a case, with the work done by then. */
export interface MemoryPoint {
  /** Since the first measured MAIL FROM. */
  seconds: number;
  rssBytes: number;
  heapUsedBytes: number;
  externalBytes: number;
  /** Measured messages accepted so far. */
  accepted: number;
  /** Measured messages no longer pending (Postdesk with processing only). */
  processed: number | null;
}

/** One throughput case: a server, a kind of message, a number of connections. */
export interface ThroughputCase {
  server: ServerKind;
  kind: MessageKind;
  connections: number;
  messages: number;
  bytesPerMessage: number;
  errors: number;
  firstErrors: string[];
  seconds: number;
  messagesPerSecond: number;
  /** End-of-data line to its 250 reply. */
  acceptLatency: LatencySummary;
  /** MAIL FROM to the 250 after the data. */
  transactionLatency: LatencySummary;
  use: ServerUse;
  /** Postdesk only; for the smtp-only server this is the time until every row was registered. */
  processing: ProcessingResult | null;
  /** The machine's 1-minute load average at the start and end of the case: other work skews results. */
  loadAverage: [number, number];
  /** Memory every second of the case, when it was asked for. */
  memoryTimeline: MemoryPoint[];
}

const SCRIPTS: Record<ServerKind, { script: string; args(logLevel: string): string[] }> = {
  baseline: { script: 'baseline-server.ts', args: () => [] },
  postdesk: { script: 'postdesk-server.ts', args: (logLevel) => ['all', logLevel] },
  'postdesk-smtp-only': { script: 'postdesk-server.ts', args: (logLevel) => ['smtp', logLevel] },
  'postdesk-intake-only': { script: 'postdesk-server.ts', args: (logLevel) => ['intake-only', logLevel] },
};

/** Servers that write InboundMessage rows, whose progress the bench waits for. */
const STORING_SERVERS: ReadonlySet<ServerKind> = new Set(['postdesk', 'postdesk-smtp-only']);

/**
 * Return the folder where servers leave their data folders when they stop; the bench
 * removes it at the end. Removing thousands of files between cases made creating files
 * in the next case about three times as costly in system CPU. A CPU profile of such a
 * case put about a fifth of the machine's time in ext4's `recently_deleted` check
 * (fs/ext4/ialloc.c). It makes inode allocation skip inodes freed in the last 60
 * seconds, or 300 while their inode table block is not yet written back.
 */
export function trashDir(context: CaseContext): string {
  return path.join(context.workDir, 'trash');
}

/** Start a fresh server of `kind` in its own process. */
export function startServer(kind: ServerKind, context: CaseContext, label: string): Promise<ServerProcess> {
  const { script, args } = SCRIPTS[kind];
  return ServerProcess.start(script, [...args(context.logLevel), trashDir(context)], path.join(context.workDir, `${label}.log`));
}

/**
 * Send `count` messages of `kind` over `connections` kept-open connections to a
 * fresh server, after `warmup` unmeasured ones, then wait for Postdesk to process
 * them all.
 */
export async function runThroughputCase(
  spec: { server: ServerKind; kind: MessageKind; connections: number; count: number; warmup: number; trackMemory?: boolean },
  context: CaseContext,
): Promise<ThroughputCase> {
  const label = `${spec.server}-${spec.kind}-${spec.connections}c-${spec.count}`;
  const loadAtStart = os.loadavg()[0]!;
  context.progress(`${label}: starting (load average ${loadAtStart.toFixed(2)})`);
  const storing = STORING_SERVERS.has(spec.server);
  const server = await startServer(spec.server, context, label);
  try {
    const factory = new MessageFactory();
    const clients = await openClients(server.port, spec.connections);
    const warmup = Array.from({ length: spec.warmup }, (_, index) => factory.build(spec.kind, index));
    await sendAll(server.port, clients, warmup);
    if (storing) await waitForProcessing(server, spec.warmup, spec.server === 'postdesk');

    const messages = Array.from({ length: spec.count }, (_, index) => factory.build(spec.kind, spec.warmup + index));
    await server.stats(true);
    const sendStart = nowMs();
    const accepted = { count: 0 };
    const timeline = spec.trackMemory ? startMemoryTimeline(server, sendStart, accepted, spec.server === 'postdesk' ? spec.warmup : null) : null;
    const run = await sendAll(server.port, clients, messages, accepted);
    const sendEnd = nowMs();
    const sending = await server.stats(false);
    context.progress(`${label}: ${spec.count} sent in ${run.seconds.toFixed(1)} s`);

    let processing: ProcessingResult | null = null;
    if (storing) {
      const counts = await waitForProcessing(server, spec.warmup + spec.count - run.errors.length, spec.server === 'postdesk');
      const seconds = (nowMs() - sendStart) / 1000;
      processing = { seconds, messagesPerSecond: run.samples.length / seconds, drainSecondsAfterSending: (nowMs() - sendEnd) / 1000, byStatus: counts.byStatus };
      context.progress(`${label}: processed in ${seconds.toFixed(1)} s`);
    }
    const memoryTimeline = (await timeline?.stop()) ?? [];
    const whole = await server.stats(true);
    const afterGc = await server.collectGarbage();
    await closeClients(clients);

    return {
      server: spec.server,
      kind: spec.kind,
      connections: spec.connections,
      messages: spec.count,
      bytesPerMessage: Math.round(messages.reduce((sum, message) => sum + message.raw.length, 0) / messages.length),
      errors: run.errors.length,
      firstErrors: run.errors.slice(0, 5),
      seconds: run.seconds,
      messagesPerSecond: run.samples.length / run.seconds,
      acceptLatency: summarizeLatencies(run.samples.map((sample) => sample.acceptMs)),
      transactionLatency: summarizeLatencies(run.samples.map((sample) => sample.transactionMs)),
      use: {
        startRssBytes: server.startRssBytes,
        peakRssBytes: Math.max(sending.peakRssBytes, whole.peakRssBytes),
        rssAfterGcBytes: afterGc.rssBytes,
        heapAfterGcBytes: afterGc.heapUsedBytes,
        externalAfterGcBytes: afterGc.externalBytes,
        cpuMsPerMessageSending: (sending.cpuUserMs + sending.cpuSystemMs) / spec.count,
        cpuMsPerMessageTotal: (whole.cpuUserMs + whole.cpuSystemMs) / spec.count,
        eventLoopDelay: sending.eventLoopDelay,
        timings: whole.timings,
      },
      processing,
      loadAverage: [round(loadAtStart), round(os.loadavg()[0]!)],
      memoryTimeline,
    };
  } finally {
    await server.stop();
  }
}

const TIMELINE_INTERVAL_MS = 1000;

/**
 * Sample the server's memory every second until `stop()`. `processedOffset` is the
 * number of warm-up rows to subtract from the processed count, or null when the
 * server does not process.
 */
function startMemoryTimeline(server: ServerProcess, start: number, accepted: { count: number }, processedOffset: number | null): { stop(): Promise<MemoryPoint[]> } {
  const points: MemoryPoint[] = [];
  let sampling: Promise<void> = Promise.resolve();
  const sample = async () => {
    const memory = await server.memory();
    const counts = processedOffset === null ? null : await server.countProcessing();
    points.push({
      seconds: (nowMs() - start) / 1000,
      rssBytes: memory.rssBytes,
      heapUsedBytes: memory.heapUsedBytes,
      externalBytes: memory.externalBytes,
      accepted: accepted.count,
      processed: counts && processedOffset !== null ? counts.total - counts.pending - processedOffset : null,
    });
  };
  const timer = setInterval(() => {
    sampling = sampling.then(sample);
  }, TIMELINE_INTERVAL_MS);
  return {
    async stop() {
      clearInterval(timer);
      await sampling;
      await sample();
      return points;
    },
  };
}

const POLL_INTERVAL_MS = 100;
const STALL_TIMEOUT_MS = 120_000;

/**
 * Wait until the InboundMessage table has `expected` rows and, when `processed` is
 * set, none of them pending. Fails when the counts stop moving for two minutes.
 */
export async function waitForProcessing(server: ServerProcess, expected: number, processed: boolean): Promise<ProcessingCounts> {
  let last = '';
  let lastChange = nowMs();
  for (;;) {
    const counts = await server.countProcessing();
    if (counts.total >= expected && (!processed || counts.pending === 0)) return counts;
    const key = `${counts.total}/${counts.pending}`;
    if (key !== last) {
      last = key;
      lastChange = nowMs();
    } else if (nowMs() - lastChange > STALL_TIMEOUT_MS) {
      throw new Error(`processing made no progress for ${STALL_TIMEOUT_MS / 1000} s: ${counts.total} of ${expected} rows, ${counts.pending} pending`);
    }
    await sleep(POLL_INTERVAL_MS);
  }
}

/** Poll `condition` every 100 ms until it is true. Throws, naming `what`, after 10 minutes. */
export async function waitFor(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = nowMs() + STALL_TIMEOUT_MS * 5;
  while (!(await condition())) {
    if (nowMs() > deadline) throw new Error(`timed out after 10 minutes waiting for ${what}`);
    await sleep(POLL_INTERVAL_MS);
  }
}
