import type { LatencySummary } from './stats.js';

/** A request from the bench to a server process, sent over the IPC channel. */
export interface ServerRequest {
  id: number;
  kind: 'stats' | 'memory' | 'gc' | 'processing' | 'stop';
  /** For `stats`: start a new measuring window after reading this one. */
  reset?: boolean;
}

/** A server process's reply to one request. */
export type ServerReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

/** The first message of a server process, once it listens. */
export interface ServerReady {
  type: 'ready';
  port: number;
  /** RSS right after start-up, in bytes. */
  rssBytes: number;
}

/** Resource use of a server process over one measuring window. */
export interface ServerStats {
  rssBytes: number;
  /** Highest RSS seen by the 50 ms sampler in the window, in bytes. */
  peakRssBytes: number;
  heapUsedBytes: number;
  cpuUserMs: number;
  cpuSystemMs: number;
  /** Event-loop delay from `perf_hooks.monitorEventLoopDelay` (10 ms resolution). */
  eventLoopDelay: { p50Ms: number; p99Ms: number; maxMs: number };
  /** Durations of the steps the server wraps with a timer, by step name. */
  timings: Record<string, LatencySummary>;
}

/**
 * Memory of a server process, in bytes (from `process.memoryUsage()`). `external`
 * includes the memory of ArrayBuffers and WebAssembly instances (Prisma's query
 * compiler runs in WebAssembly); RSS minus heap and external is mostly native
 * allocations such as SQLite's page cache.
 */
export interface MemorySnapshot {
  rssBytes: number;
  heapUsedBytes: number;
  externalBytes: number;
  arrayBuffersBytes: number;
}

/** InboundMessage rows by status, and the rows of large messages. */
export interface ProcessingCounts {
  total: number;
  pending: number;
  byStatus: Record<string, number>;
  /** Rows of messages over 1 MB (the 25 MB stall test waits on these). */
  large: number;
  /** Those of them still pending. */
  pendingLarge: number;
}
