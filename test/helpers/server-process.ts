import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A Postdesk server started with `src/main.ts` in a child process, as `npm start` does. */
export interface ServerProcess {
  child: ChildProcess;
  /** The SMTP server's port, or 0 when the process does not run the smtp role. */
  smtpPort: number;
  /** JSON log lines seen so far. */
  logs: Record<string, unknown>[];
  waitForLog(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Start the server with `env` and wait until it has started; `smtpPort` is 0 without the smtp role. */
export async function startServerProcess(env: Record<string, string>, roles: string[] = []): Promise<ServerProcess> {
  // tsx as a loader in the same process, so that a signal reaches the server itself.
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src', 'main.ts'), ...roles], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'info', SMTP_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const listeners: ((line: Record<string, unknown>) => void)[] = [];
  let stderr = '';
  let pending = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    let index: number;
    while ((index = pending.indexOf('\n')) !== -1) {
      const text = pending.slice(0, index);
      pending = pending.slice(index + 1);
      try {
        const line = JSON.parse(text) as Record<string, unknown>;
        logs.push(line);
        for (const listener of listeners) listener(line);
      } catch {
        stderr += `${text}\n`;
      }
    }
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));

  const waitForLog = (predicate: (line: Record<string, unknown>) => boolean, timeoutMs = 30_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const found = logs.find(predicate);
      if (found) return resolve(found);
      const timer = setTimeout(() => reject(new Error(`log line not seen within ${timeoutMs} ms; stderr:\n${stderr}`)), timeoutMs);
      const onExit = () => reject(new Error(`server exited early; stderr:\n${stderr}`));
      child.once('exit', onExit);
      listeners.push((line) => {
        if (!predicate(line)) return;
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve(line);
      });
    });

  await waitForLog((line) => line.msg === 'postdesk started');
  const listening = logs.find((line) => line.msg === 'smtp listening');
  return {
    child,
    smtpPort: listening ? Number(listening.port) : 0,
    logs,
    waitForLog,
    kill: (signal) =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}
