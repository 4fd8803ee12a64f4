import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SMTPServer } from 'smtp-server';
import { processingRoles, startSmtp, type AppRole } from './app.js';
import type { Config } from './config/index.js';
import { Spool } from './inbound/journal/spool.js';
import type { Logger } from './logger.js';
import type { FromProcessingThread, ToProcessingThread } from './processing-thread.js';
import { checkRedis } from './queue/index.js';
import { closeSmtp } from './smtp/smtp-intake.js';

/** A Postdesk process whose database work runs in a second thread. */
export interface ThreadedApp {
  smtp: { server: SMTPServer; port: number } | null;
  stop(): Promise<void>;
}

/**
 * Start `npm start`'s roles: the SMTP server in this thread, and processing, IMAP and
 * notifications in a worker thread with its own database connection. better-sqlite3
 * and Prisma block the event loop while they work, and on one loop processing held up
 * the SMTP server's replies by tens of milliseconds. The main thread only writes the
 * journal and passes each entry on. An entry lost in between stays in the spool, and
 * the processing thread registers it when it starts.
 */
export async function startThreadedApp(config: Config, env: Record<string, string | undefined>, logger: Logger, roles: readonly AppRole[]): Promise<ThreadedApp> {
  await checkRedis(config.redisUrl);
  const thread = new Worker(new URL('./processing-thread.mjs', import.meta.url), { workerData: { env, roles: processingRoles(roles) } });
  await waitFor(thread, 'ready');

  const spool = new Spool(path.join(config.dataDir, 'journal'));
  await spool.init();
  const send = (message: ToProcessingThread) => thread.postMessage(message);
  const smtp = roles.includes('smtp') ? await startSmtp(config, logger, spool, (entry) => send({ type: 'journaled', entry })) : null;

  // A crash of the processing thread is a bug: stop the process loudly, as an uncaught error would.
  thread.on('error', (error) => {
    logger.fatal({ err: error }, 'processing thread crashed');
    process.exit(70);
  });

  return {
    smtp,
    async stop() {
      if (smtp) await closeSmtp(smtp.server);
      send({ type: 'stop' });
      await waitFor(thread, 'stopped');
      await thread.terminate();
    },
  };
}

/** Wait for a message of `type` from the thread; a `failed` message or an early exit rejects. */
function waitFor(thread: Worker, type: 'ready' | 'stopped'): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: FromProcessingThread) => {
      if (message.type === type) {
        cleanup();
        resolve();
      } else if (message.type === 'failed') {
        cleanup();
        // The thread's error keeps its name, so that the caller can tell a setting to fix from a bug.
        const error = new Error(message.message);
        error.name = message.name;
        reject(error);
      }
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new Error(`processing thread exited with code ${code}`));
    };
    const cleanup = () => {
      thread.off('message', onMessage);
      thread.off('exit', onExit);
    };
    thread.on('message', onMessage);
    thread.on('exit', onExit);
  });
}
