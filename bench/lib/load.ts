import { SmtpClient, type OutgoingMessage, type SendTiming } from './smtp-client.js';
import { nowMs } from './stats.js';

/** The outcome of one load phase. */
export interface LoadRun {
  /** Wall time from the first MAIL FROM to the last reply, in seconds. */
  seconds: number;
  samples: SendTiming[];
  /** Messages that got a reply other than 250, or were lost with their connection, with the reason. */
  errors: string[];
}

/** Open `count` connections (each pays smtp-server's 100 ms greeting delay once). */
export async function openClients(port: number, count: number): Promise<SmtpClient[]> {
  return Promise.all(Array.from({ length: count }, () => SmtpClient.connect(port)));
}

/** Close every connection with QUIT. */
export async function closeClients(clients: SmtpClient[]): Promise<void> {
  await Promise.all(clients.map((client) => client.quit()));
}

/**
 * Send `messages` over the given connections as fast as the server replies: each
 * connection sends its next message as soon as the previous one got its reply.
 * `accepted.count` follows the number of 250 replies while it runs.
 */
export async function sendAll(port: number, clients: SmtpClient[], messages: readonly OutgoingMessage[], accepted: { count: number } = { count: 0 }): Promise<LoadRun> {
  const samples: SendTiming[] = [];
  const errors: string[] = [];
  let next = 0;
  const start = nowMs();

  await Promise.all(
    clients.map(async (initial, slot) => {
      let client = initial;
      while (next < messages.length) {
        const message = messages[next++]!;
        client = await sendOne(port, client, message, samples, errors);
        clients[slot] = client;
        accepted.count = samples.length;
      }
    }),
  );
  return { seconds: (nowMs() - start) / 1000, samples, errors };
}

/**
 * Send one message every `intervalMs` per connection (or as fast as the server
 * replies, when that is slower) until `shouldStop` returns true.
 */
export async function sendPaced(port: number, clients: SmtpClient[], nextMessage: () => OutgoingMessage, intervalMs: number, shouldStop: () => boolean): Promise<LoadRun> {
  const samples: SendTiming[] = [];
  const errors: string[] = [];
  const start = nowMs();

  await Promise.all(
    clients.map(async (initial, slot) => {
      let client = initial;
      // Stagger the connections so that their sends do not line up.
      await sleep((intervalMs * slot) / clients.length);
      while (!shouldStop()) {
        const began = nowMs();
        client = await sendOne(port, client, nextMessage(), samples, errors);
        clients[slot] = client;
        const wait = intervalMs - (nowMs() - began);
        if (wait > 0) await sleep(wait);
      }
    }),
  );
  return { seconds: (nowMs() - start) / 1000, samples, errors };
}

/** Send a message; on a broken session, record the error and return a new connection. */
async function sendOne(port: number, client: SmtpClient, message: OutgoingMessage, samples: SendTiming[], errors: string[]): Promise<SmtpClient> {
  try {
    const timing = await client.send(message);
    if (timing.reply.code === 250) samples.push(timing);
    else errors.push(`${timing.reply.code} ${timing.reply.text}`);
    return client;
  } catch (error) {
    errors.push(error instanceof Error ? error.message : String(error));
    await client.quit().catch(() => undefined);
    return SmtpClient.connect(port);
  }
}

/** Resolve after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
