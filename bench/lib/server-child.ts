import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { MemorySnapshot, ProcessingCounts, ServerReady, ServerReply, ServerRequest, ServerStats } from './server-protocol.js';
import { summarizeLatencies } from './stats.js';

/** A started bench server, as a server script returns it. */
export interface BenchServer {
  port: number;
  stop(): Promise<void>;
  /** InboundMessage counts; only servers that store messages have them. */
  countProcessing?(): Promise<ProcessingCounts>;
}

const SAMPLE_INTERVAL_MS = 50;

/** Durations of named steps inside a server process, kept until the next stats reset. */
export class StepTimings {
  private samples = new Map<string, number[]>();

  record(step: string, ms: number): void {
    const list = this.samples.get(step) ?? [];
    list.push(ms);
    this.samples.set(step, list);
  }

  /** Wrap an async function so that each call's duration is recorded under `step`. */
  wrap<Args extends unknown[], Result>(step: string, fn: (...args: Args) => Promise<Result>): (...args: Args) => Promise<Result> {
    return async (...args: Args) => {
      const start = performance.now();
      try {
        return await fn(...args);
      } finally {
        this.record(step, performance.now() - start);
      }
    };
  }

  takeSummaries(reset: boolean): ServerStats['timings'] {
    const result: ServerStats['timings'] = {};
    for (const [step, list] of this.samples) result[step] = summarizeLatencies(list);
    if (reset) this.samples = new Map();
    return result;
  }
}

/**
 * Run a bench server inside a child process forked with an IPC channel: start it,
 * report its port, sample RSS every 50 ms and reply to the bench's requests until
 * a `stop` request arrives. The process must run with `--expose-gc` for the `gc` request.
 */
export async function runServerChild(start: () => Promise<BenchServer>, timings: StepTimings): Promise<void> {
  if (!process.send) throw new Error('bench server started without an IPC channel; start it with child_process.fork');
  const send = (message: ServerReady | ServerReply) => process.send!(message);

  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, SAMPLE_INTERVAL_MS);
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  let cpuStart = process.cpuUsage();

  const server = await start();

  function readStats(reset: boolean): ServerStats {
    const rss = process.memoryUsage.rss();
    const cpu = process.cpuUsage(cpuStart);
    const stats: ServerStats = {
      rssBytes: rss,
      peakRssBytes: Math.max(peakRss, rss),
      heapUsedBytes: process.memoryUsage().heapUsed,
      cpuUserMs: cpu.user / 1000,
      cpuSystemMs: cpu.system / 1000,
      eventLoopDelay: { p50Ms: loopDelay.percentile(50) / 1e6, p99Ms: loopDelay.percentile(99) / 1e6, maxMs: loopDelay.max / 1e6 },
      timings: timings.takeSummaries(reset),
    };
    if (reset) {
      peakRss = rss;
      cpuStart = process.cpuUsage();
      loopDelay.reset();
    }
    return stats;
  }

  function readMemory(): MemorySnapshot {
    const usage = process.memoryUsage();
    return { rssBytes: usage.rss, heapUsedBytes: usage.heapUsed, externalBytes: usage.external, arrayBuffersBytes: usage.arrayBuffers };
  }

  function collectGarbage(): MemorySnapshot {
    const gc = globalThis.gc;
    if (!gc) throw new Error('global.gc is missing; start the server with --expose-gc');
    gc();
    return readMemory();
  }

  async function handle(request: ServerRequest): Promise<unknown> {
    switch (request.kind) {
      case 'stats':
        return readStats(request.reset ?? false);
      case 'memory':
        return readMemory();
      case 'gc':
        return collectGarbage();
      case 'processing':
        if (!server.countProcessing) throw new Error('this server stores no messages');
        return server.countProcessing();
      case 'stop':
        clearInterval(sampler);
        loopDelay.disable();
        await server.stop();
        setImmediate(() => process.exit(0));
        return null;
    }
  }

  process.on('message', (message: ServerRequest) => {
    handle(message).then(
      (value) => send({ id: message.id, ok: true, value }),
      (error: unknown) => send({ id: message.id, ok: false, error: error instanceof Error ? error.stack ?? error.message : String(error) }),
    );
  });
  process.on('disconnect', () => process.exit(1));

  send({ type: 'ready', port: server.port, rssBytes: process.memoryUsage.rss() });
}
