import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MemorySnapshot, ProcessingCounts, ServerReady, ServerReply, ServerRequest, ServerStats } from './server-protocol.js';

const serversDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'servers');
const START_TIMEOUT_MS = 60_000;
const REQUEST_TIMEOUT_MS = 60_000;

/**
 * A bench server running in its own Node.js process (through tsx), so that its
 * memory and CPU are measured apart from the load generator's.
 */
export class ServerProcess {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void; timer: NodeJS.Timeout }>();

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    /** RSS right after start-up, in bytes. */
    readonly startRssBytes: number,
  ) {
    child.on('message', (message: ServerReply) => {
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      clearTimeout(waiter.timer);
      if (message.ok) waiter.resolve(message.value);
      else waiter.reject(new Error(`bench server request failed: ${message.error}`));
    });
    child.on('exit', (code) => {
      for (const waiter of this.pending.values()) {
        clearTimeout(waiter.timer);
        waiter.reject(new Error(`bench server exited with code ${code}`));
      }
      this.pending.clear();
    });
  }

  /**
   * Fork `bench/servers/<script>` with `--expose-gc`, writing its stdout and stderr
   * to `logFile`, and wait until it reports its port.
   */
  static async start(script: string, args: string[], logFile: string): Promise<ServerProcess> {
    const logFd = openSync(logFile, 'a');
    const child = fork(path.join(serversDir, script), args, {
      execArgv: ['--import', 'tsx', '--expose-gc'],
      stdio: ['ignore', logFd, logFd, 'ipc'],
    });
    closeSync(logFd);

    const ready = await new Promise<ServerReady>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bench server ${script} did not start within ${START_TIMEOUT_MS} ms; see ${logFile}`)), START_TIMEOUT_MS);
      child.once('message', (message: ServerReady) => {
        clearTimeout(timer);
        resolve(message);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`bench server ${script} exited with code ${code} before it listened; see ${logFile}`));
      });
    });
    return new ServerProcess(child, ready.port, ready.rssBytes);
  }

  /** Read resource use since the last reset; `reset` starts a new window. */
  stats(reset: boolean): Promise<ServerStats> {
    return this.request({ kind: 'stats', reset }) as Promise<ServerStats>;
  }

  /** Read the current memory use without collecting garbage. */
  memory(): Promise<MemorySnapshot> {
    return this.request({ kind: 'memory' }) as Promise<MemorySnapshot>;
  }

  /** Force a full garbage collection and return memory after it. */
  collectGarbage(): Promise<MemorySnapshot> {
    return this.request({ kind: 'gc' }) as Promise<MemorySnapshot>;
  }

  /** InboundMessage counts (Postdesk only). */
  countProcessing(): Promise<ProcessingCounts> {
    return this.request({ kind: 'processing' }) as Promise<ProcessingCounts>;
  }

  /** Ask the server to shut down cleanly and wait for the process to exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    await this.request({ kind: 'stop' }).catch(() => this.child.kill('SIGKILL'));
    await exited;
  }

  private request(body: Omit<ServerRequest, 'id'>): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`bench server request ${body.kind} timed out after ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.child.send({ id, ...body } satisfies ServerRequest);
    });
  }
}
