import type { MessageKind } from './messages.js';
import type { ServerKind, ThroughputCase } from './smtp-cases.js';
import type { StallResult } from './smtp-stall-case.js';
import { round, toMiB } from './stats.js';

/** Postdesk's memory at 1x and at `factor` times the small message count. */
export interface MemoryGrowth {
  factor: number;
  oneTimes: ThroughputCase;
  manyTimes: ThroughputCase;
}

/** One target and whether this run met it. */
export interface TargetCheck {
  name: string;
  target: string;
  measured: string;
  pass: boolean;
}

/** The minimum share of the baseline's accept rate, by message kind, at the most connections. */
export const RATIO_TARGETS: Record<'small' | 'attachment', number> = { small: 0.25, attachment: 0.5 };
/** Highest p99 accept latency of small messages, in ms. */
export const P99_TARGET_MS = 20;
/** Most that peak RSS and heap after GC may rise from 1x to 4x the messages. */
export const MEMORY_GROWTH_LIMIT = 0.2;

/** Find the case of `server`, `kind` and `connections`. Throws when the run has none. */
export function findCase(cases: readonly ThroughputCase[], server: ServerKind, kind: MessageKind, connections: number): ThroughputCase {
  const found = cases.find((entry) => entry.server === server && entry.kind === kind && entry.connections === connections);
  if (!found) throw new Error(`no ${server} ${kind} case at ${connections} connections in this run`);
  return found;
}

/** Postdesk's accept rate divided by the baseline's for one kind and connection count. */
export function baselineRatio(cases: readonly ThroughputCase[], kind: MessageKind, connections: number): number {
  return findCase(cases, 'postdesk', kind, connections).messagesPerSecond / findCase(cases, 'baseline', kind, connections).messagesPerSecond;
}

/** Check the run against the intake targets. */
export function evaluateTargets(run: { cases: readonly ThroughputCase[]; options: { connections: number[] }; memory: MemoryGrowth; stall: StallResult }): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const maxConnections = Math.max(...run.options.connections);

  for (const kind of ['small', 'attachment'] as const) {
    const ratio = baselineRatio(run.cases, kind, maxConnections);
    checks.push({
      name: `${kind} messages, ${maxConnections} connections: accept rate vs baseline`,
      target: `>= ${RATIO_TARGETS[kind]}`,
      measured: `${round(ratio, 3)} (${round(findCase(run.cases, 'postdesk', kind, maxConnections).messagesPerSecond, 1)} vs ${round(findCase(run.cases, 'baseline', kind, maxConnections).messagesPerSecond, 1)} msg/s)`,
      pass: ratio >= RATIO_TARGETS[kind],
    });
  }

  for (const connections of run.options.connections) {
    const p99 = findCase(run.cases, 'postdesk', 'small', connections).acceptLatency.p99Ms;
    checks.push({ name: `small messages, ${connections} connection(s): p99 accept latency`, target: `< ${P99_TARGET_MS} ms`, measured: `${round(p99, 1)} ms`, pass: p99 < P99_TARGET_MS });
  }

  const { oneTimes, manyTimes, factor } = run.memory;
  const peakGrowth = manyTimes.use.peakRssBytes / oneTimes.use.peakRssBytes - 1;
  const heapGrowth = manyTimes.use.heapAfterGcBytes / oneTimes.use.heapAfterGcBytes - 1;
  checks.push({
    name: `memory at ${factor}x the messages (${manyTimes.messages} vs ${oneTimes.messages})`,
    target: `peak RSS and heap after GC each rise < ${MEMORY_GROWTH_LIMIT * 100}%`,
    measured: `peak RSS ${toMiB(oneTimes.use.peakRssBytes)} -> ${toMiB(manyTimes.use.peakRssBytes)} MiB (${formatPercent(peakGrowth)}), heap after GC ${toMiB(oneTimes.use.heapAfterGcBytes)} -> ${toMiB(manyTimes.use.heapAfterGcBytes)} MiB (${formatPercent(heapGrowth)})`,
    pass: peakGrowth < MEMORY_GROWTH_LIMIT && heapGrowth < MEMORY_GROWTH_LIMIT,
  });

  const during = run.stall.with.acceptLatencyDuringLarge;
  checks.push({
    name: 'small messages while a 25 MB message is sent and processed: p99 accept latency',
    target: `< ${P99_TARGET_MS} ms`,
    measured: `${round(during.p99Ms, 1)} ms over ${during.count} messages (max ${round(during.maxMs, 1)} ms; ${round(run.stall.without.acceptLatency.p99Ms, 1)} ms without it)`,
    pass: during.count > 0 && during.p99Ms < P99_TARGET_MS,
  });
  return checks;
}

function formatPercent(value: number): string {
  return `${value >= 0 ? '+' : ''}${round(value * 100, 1)}%`;
}
