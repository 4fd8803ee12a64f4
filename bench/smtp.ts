import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { probeDisk, type DiskProbe } from './lib/disk-probe.js';
import { describeMachine, type MachineInfo } from './lib/machine.js';
import { digestSource, type SourceDigest } from './lib/source-digest.js';
import { runThroughputCase, trashDir, type CaseContext, type ThroughputCase } from './lib/smtp-cases.js';
import { runStallCase, type StallResult } from './lib/smtp-stall-case.js';
import { evaluateTargets, findCase, type MemoryGrowth, type TargetCheck } from './lib/smtp-targets.js';

export { formatSmtpReport } from './lib/smtp-report.js';

/** Settings of the SMTP intake bench; every field has a default. */
export interface SmtpBenchOptions {
  /** Short run with fewer messages (a smoke test, not a measurement). */
  quick?: boolean;
  /** Small (~2 KB) messages per case. Default 2,000, quick 200. */
  smallCount?: number;
  /** Messages with a 200 KiB attachment per case. Default 400, quick 50. */
  attachmentCount?: number;
  /** Connection counts to measure. Default 1 and 4; the targets use the largest. */
  connections?: number[];
  /** The memory case sends this many times the small count. Default 4. */
  memoryFactor?: number;
  /** 25 MB messages in the stall case. Default 2, quick 1. */
  hugeCount?: number;
  /** Duration of the stall case's run without the large message, in seconds. Default 8, quick 3. */
  stallSeconds?: number;
  /** Postdesk's log level; pino writes to a file in the work folder. Default info. */
  logLevel?: string;
  /** Keep the work folder with the server logs. Default false. */
  keepLogs?: boolean;
  /** Receives one line per step. Default: stderr. */
  progress?: (line: string) => void;
}

/** Everything one run of the SMTP bench measured. */
export interface SmtpBenchResult {
  bench: 'smtp';
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  /** The code measured; the working tree may differ from the last commit. */
  source: SourceDigest;
  options: Required<Omit<SmtpBenchOptions, 'progress'>>;
  disk: DiskProbe;
  cases: ThroughputCase[];
  memory: MemoryGrowth;
  stall: StallResult;
  targets: TargetCheck[];
  /** Folder with the server logs, when kept. */
  workDir: string | null;
}

/**
 * Measure the SMTP intake against a baseline. The baseline is a bare smtp-server
 * with simpleParser; Postdesk is startApp with every role on a fresh data folder
 * with the real journal. Both get small and attachment messages
 * over kept-open connections. Then Postdesk's memory at 1x and 4x the message
 * count, and its small-message latency beside a 25 MB message, are measured.
 * Each server runs in its own process.
 */
export async function runSmtpBench(input: SmtpBenchOptions = {}): Promise<SmtpBenchResult> {
  const options = resolveOptions(input);
  const progress = input.progress ?? ((line: string) => process.stderr.write(`smtp bench: ${line}\n`));
  const startedAt = new Date().toISOString();
  const machine = describeMachine();
  const source = await digestSource();
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'postdesk-bench-smtp-'));
  const context: CaseContext = { workDir, logLevel: options.logLevel, progress };

  try {
    progress('timing fsync on the temp folder');
    const disk = await probeDisk(200, trashDir(context));

    const cases: ThroughputCase[] = [];
    for (const kind of ['small', 'attachment'] as const) {
      const count = kind === 'small' ? options.smallCount : options.attachmentCount;
      const warmup = Math.max(10, Math.round(count / 20));
      for (const connections of options.connections) {
        for (const server of ['baseline', 'postdesk'] as const) {
          cases.push(await runThroughputCase({ server, kind, connections, count, warmup, trackMemory: server === 'postdesk' }, context));
        }
      }
    }

    // Where the time goes: the same small load without processing, then without
    // the database row as well (only the journal's spool write before the 250).
    const maxConnections = Math.max(...options.connections);
    const smallWarmup = Math.max(10, Math.round(options.smallCount / 20));
    for (const server of ['postdesk-smtp-only', 'postdesk-intake-only'] as const) {
      cases.push(await runThroughputCase({ server, kind: 'small', connections: maxConnections, count: options.smallCount, warmup: smallWarmup }, context));
    }

    const oneTimes = findCase(cases, 'postdesk', 'small', maxConnections);
    const manyTimes = await runThroughputCase(
      { server: 'postdesk', kind: 'small', connections: maxConnections, count: options.smallCount * options.memoryFactor, warmup: smallWarmup, trackMemory: true },
      context,
    );
    const memory: MemoryGrowth = { factor: options.memoryFactor, oneTimes, manyTimes };

    // Offer half of what the processor managed, so that the queue stays short and
    // the large message's processing is not delayed behind a backlog.
    const processingRate = oneTimes.processing?.messagesPerSecond ?? 50;
    const offeredRate = Math.min(200, Math.max(10, Math.round(processingRate / 2)));
    const stall = await runStallCase({ smallConnections: 3, offeredRate, seconds: options.stallSeconds, hugeCount: options.hugeCount, warmup: smallWarmup }, context);

    const result: SmtpBenchResult = {
      bench: 'smtp',
      startedAt,
      finishedAt: new Date().toISOString(),
      machine,
      source,
      options,
      disk,
      cases,
      memory,
      stall,
      targets: [],
      workDir: options.keepLogs ? workDir : null,
    };
    result.targets = evaluateTargets(result);
    return result;
  } finally {
    if (options.keepLogs) await rm(trashDir(context), { recursive: true, force: true });
    else await rm(workDir, { recursive: true, force: true });
  }
}

function resolveOptions(input: SmtpBenchOptions): SmtpBenchResult['options'] {
  const quick = input.quick ?? false;
  const connections = input.connections ?? [1, 4];
  if (connections.length === 0 || connections.some((count) => !Number.isInteger(count) || count < 1)) {
    throw new Error(`invalid connections ${JSON.stringify(connections)}: expected positive integers`);
  }
  return {
    quick,
    smallCount: input.smallCount ?? (quick ? 200 : 2000),
    attachmentCount: input.attachmentCount ?? (quick ? 50 : 400),
    connections,
    memoryFactor: input.memoryFactor ?? 4,
    hugeCount: input.hugeCount ?? (quick ? 1 : 2),
    stallSeconds: input.stallSeconds ?? (quick ? 3 : 8),
    logLevel: input.logLevel ?? 'info',
    keepLogs: input.keepLogs ?? false,
  };
}
