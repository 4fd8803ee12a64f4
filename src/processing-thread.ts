import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { loadConfig } from './config/index.js';
import type { SpoolEntry } from './inbound/journal/spool.js';
import { createLogger } from './logger.js';
import { startProcessing, type ProcessingRole } from './processing.js';

// Entry point of the processing thread that startThreadedApp starts: the database
// roles, fed with the entries that the SMTP server in the main thread journals.

/** Messages from the main thread. */
export type ToProcessingThread = { type: 'journaled'; entry: SpoolEntry } | { type: 'stop' };

/** Messages to the main thread. */
export type FromProcessingThread = { type: 'ready' } | { type: 'stopped' } | { type: 'failed'; name: string; message: string };

const port = parentPort!;
const { env, roles } = workerData as { env: Record<string, string | undefined>; roles: ProcessingRole[] };
const post = (message: FromProcessingThread) => port.postMessage(message);

lowerThreadPriority();

try {
  const config = loadConfig(env);
  const processing = await startProcessing(config, createLogger(config.logLevel), roles);

  port.on('message', (message: ToProcessingThread) => {
    if (message.type === 'journaled') {
      processing.register(message.entry);
      return;
    }
    processing.stop().then(
      () => post({ type: 'stopped' }),
      (error: unknown) => post({ type: 'failed', name: (error as Error).name, message: (error as Error).message }),
    );
  });
  post({ type: 'ready' });
} catch (error) {
  post({ type: 'failed', name: (error as Error).name, message: (error as Error).message });
}

/**
 * Give this thread a lower CPU priority than the SMTP server's. When both compete for
 * the CPU, replying to senders matters more than processing, which the journal lets
 * wait. Linux applies nice values per thread, and /proc/thread-self names this
 * thread's id; elsewhere, or without permission, the priority stays as it is.
 */
function lowerThreadPriority(): void {
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(threadId) && threadId > 0) setPriority(threadId, 10);
  } catch (error) {
    if (!['ENOENT', 'EACCES', 'EPERM'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
  }
}
