import type { SmtpBenchResult } from '../smtp.js';
import type { ThroughputCase } from './smtp-cases.js';
import { baselineRatio } from './smtp-targets.js';
import { round, toMiB, type LatencySummary } from './stats.js';

/** Format a run of the SMTP bench as a plain-text report. */
export function formatSmtpReport(result: SmtpBenchResult): string {
  const lines: string[] = [];
  const { machine, disk, options } = result;

  lines.push(`SMTP intake bench, ${result.startedAt} to ${result.finishedAt}${options.quick ? ' (quick run: a smoke test, not a measurement)' : ''}`);
  lines.push(`Machine: ${machine.cpuModel}, ${machine.cpus} CPUs, Node.js ${machine.node}, load average at start ${machine.loadAverage.join(' ')}`);
  lines.push(`Disk: ${machine.disk.split('\n').slice(-2).join(' | ')}`);
  lines.push(`Code: src/ sha256 ${result.source.srcSha256.slice(0, 16)} (${result.source.srcFiles} files), commit ${result.source.gitHead ?? 'none yet'}`);
  lines.push('');

  lines.push(`fsync on ${disk.folder} (ms, p50 / p99):`);
  lines.push(`  write 2 KiB + fsync        ${latency(disk.writeAndFsync2k)}`);
  lines.push(`  fsync of the folder        ${latency(disk.fsyncDirectory)}`);
  lines.push(`  journal commit of 2 KiB    ${latency(disk.spoolCommit2k)}  (Spool.writeBuffer: one data sync, then a folder sync)`);
  lines.push(`  Spool.writeStream 2 KiB    ${latency(disk.spoolWriteStream2k)}  (the SMTP accept path's call, alone in the process)`);
  const concurrent = disk.spoolWriteStream2kConcurrent4;
  lines.push(`  the same, 4 in flight      ${latency(concurrent)}  (${round(concurrent.callsPerSecond, 0)} calls/s)`);
  lines.push('');

  lines.push('Accept rate and latency over kept-open connections (accept latency: end-of-data line to its 250 reply, client side):');
  const header = ['server', 'kind', 'conns', 'msgs', 'msg/s', 'accept p50', 'p99', 'max', 'peak RSS', 'CPU/msg', 'processed/s', 'errors', 'load'];
  const rows = result.cases.map((entry) => [
    entry.server,
    entry.kind,
    String(entry.connections),
    String(entry.messages),
    round(entry.messagesPerSecond, 1).toString(),
    `${round(entry.acceptLatency.p50Ms, 2)} ms`,
    `${round(entry.acceptLatency.p99Ms, 2)} ms`,
    `${round(entry.acceptLatency.maxMs, 1)} ms`,
    `${toMiB(entry.use.peakRssBytes)} MiB`,
    `${round(entry.use.cpuMsPerMessageSending, 2)} ms`,
    entry.processing && entry.server === 'postdesk' ? round(entry.processing.messagesPerSecond, 1).toString() : '-',
    String(entry.errors),
    entry.loadAverage.join('>'),
  ]);
  lines.push(...table(header, rows).map((line) => `  ${line}`));
  lines.push('  CPU/msg: server CPU time per message while sending. load: 1-minute load average at the start>end of the case.');
  lines.push('');

  lines.push('Postdesk accept rate / baseline accept rate:');
  for (const kind of ['small', 'attachment'] as const) {
    const ratios = options.connections.map((connections) => `${connections} conn ${round(baselineRatio(result.cases, kind, connections), 3)}`);
    lines.push(`  ${kind.padEnd(10)} ${ratios.join(', ')}`);
  }
  lines.push('');

  lines.push('Inside the servers (ms, p50 / p99 over the case):');
  for (const entry of result.cases) {
    const steps = Object.entries(entry.use.timings).map(([step, summary]) => `${step} ${latency(summary)}`);
    const loop = entry.use.eventLoopDelay;
    lines.push(`  ${caseLabel(entry)}: ${steps.join('; ')}; event-loop delay while sending p99 ${round(loop.p99Ms, 1)} / max ${round(loop.maxMs, 1)}`);
    if (entry.processing) {
      lines.push(`    rows ${JSON.stringify(entry.processing.byStatus)}, all rows done ${round(entry.processing.seconds, 1)} s after the first send (${round(entry.processing.drainSecondsAfterSending, 1)} s after the last 250)`);
    }
    if (entry.errors > 0) lines.push(`    first errors: ${entry.firstErrors.join(' | ')}`);
  }
  lines.push('');

  const { oneTimes, manyTimes, factor } = result.memory;
  lines.push(`Postdesk memory, small messages, ${oneTimes.connections} connections (RSS sampled every 50 ms while sending and processing):`);
  for (const entry of [oneTimes, manyTimes]) {
    lines.push(
      `  ${String(entry.messages).padStart(6)} messages: RSS at start ${toMiB(entry.use.startRssBytes)} MiB, peak ${toMiB(entry.use.peakRssBytes)} MiB; after GC: RSS ${toMiB(entry.use.rssAfterGcBytes)} MiB, heap ${toMiB(entry.use.heapAfterGcBytes)} MiB, external ${toMiB(entry.use.externalAfterGcBytes)} MiB`,
    );
  }
  lines.push(`  during the ${factor}x run (seconds: accepted / processed messages, RSS, heap, external):`);
  for (const point of pickEvenly(manyTimes.memoryTimeline, 8)) {
    lines.push(`    ${round(point.seconds, 0).toString().padStart(4)} s: ${point.accepted} / ${point.processed ?? '-'}, RSS ${toMiB(point.rssBytes)} MiB, heap ${toMiB(point.heapUsedBytes)} MiB, external ${toMiB(point.externalBytes)} MiB`);
  }
  lines.push(`  (${factor}x run: ${round(manyTimes.messagesPerSecond, 1)} msg/s accepted, ${round(manyTimes.processing?.messagesPerSecond ?? Number.NaN, 1)} msg/s processed)`);
  lines.push('');

  const { stall } = result;
  lines.push(`Small messages beside a 25 MB message (Postdesk, ${stall.smallConnections} connections offering ${stall.offeredMessagesPerSecond} msg/s in all):`);
  lines.push(`  without it:            accept ${latencyLong(stall.without.acceptLatency)}`);
  lines.push(`  whole run with it:     accept ${latencyLong(stall.with.acceptLatency)}`);
  lines.push(`  while it is sent and processed (${round(stall.with.largeWindowSeconds, 1)} s): accept ${latencyLong(stall.with.acceptLatencyDuringLarge)}`);
  lines.push(`  ${stall.with.hugeMessages} x ${toMiB(stall.with.hugeBytes)} MiB: accept ${stall.with.hugeAcceptMs.map((ms) => `${round(ms, 0)} ms`).join(', ')}; whole transaction ${stall.with.hugeTransactionMs.map((ms) => `${round(ms, 0)} ms`).join(', ')}; replies ${stall.with.hugeReplies.join(' | ')}`);
  lines.push(`  event-loop delay p99 / max: ${round(stall.eventLoopDelayWithout.p99Ms, 1)} / ${round(stall.eventLoopDelayWithout.maxMs, 1)} ms without it, ${round(stall.eventLoopDelayWith.p99Ms, 1)} / ${round(stall.eventLoopDelayWith.maxMs, 1)} ms with it; peak RSS with it ${toMiB(stall.peakRssWithBytes)} MiB`);
  const steps = Object.entries(stall.timingsWith).map(([step, summary]) => `${step} ${latency(summary)} (max ${round(summary.maxMs, 0)})`);
  lines.push(`  steps: ${steps.join('; ')}`);
  lines.push('');

  const failed = result.cases.filter((entry) => (entry.processing?.byStatus.failed ?? 0) > 0);
  for (const entry of failed) {
    lines.push(`WARNING: ${entry.processing!.byStatus.failed} message(s) failed processing in ${caseLabel(entry)}; see "message processing failed" in the server log (--keep-logs).`);
  }
  if (failed.length > 0) lines.push('');

  lines.push('Targets:');
  for (const check of result.targets) lines.push(`  ${check.pass ? 'PASS' : 'FAIL'}  ${check.name}: ${check.measured} (target ${check.target})`);
  if (result.workDir) lines.push(`Server logs kept in ${result.workDir}`);
  return lines.join('\n');
}

/** Up to `count` entries spread evenly over `list`, always with the last one. */
function pickEvenly<T>(list: readonly T[], count: number): T[] {
  if (list.length <= count) return [...list];
  const step = (list.length - 1) / (count - 1);
  return Array.from({ length: count }, (_, index) => list[Math.round(index * step)]!);
}

function caseLabel(entry: ThroughputCase): string {
  return `${entry.server} ${entry.kind} ${entry.connections}c ${entry.messages}`;
}

function latency(summary: LatencySummary): string {
  return `${round(summary.p50Ms, 2)} / ${round(summary.p99Ms, 2)}`;
}

function latencyLong(summary: LatencySummary): string {
  return `p50 ${round(summary.p50Ms, 2)} ms, p99 ${round(summary.p99Ms, 2)} ms, max ${round(summary.maxMs, 1)} ms over ${summary.count} messages`;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const format = (row: string[]) => row.map((cell, column) => (column < 2 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  return [format(header), ...rows.map(format)];
}
