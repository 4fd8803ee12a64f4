import { ImapFlow, type ImapFlowOptions, type Logger as ImapFlowLogger } from 'imapflow';
import type { Logger } from '../logger.js';
import { decryptSecret } from './credentials.js';
import type { Mailbox } from './mailbox-store.js';

/** Connection settings that do not come from the mailbox row. */
export interface ClientOptions {
  credentialKey: Buffer;
  /** Extra trusted CA certificates (PEM), added to Node's own; certificates are always verified. */
  ca?: string | Buffer;
  /** Socket inactivity limit before imapflow probes the server with a NOOP, in milliseconds. */
  socketTimeoutMs: number;
  /** Idle time after the last command before IDLE starts, in milliseconds. */
  autoIdleDelayMs: number;
  /** How long a TCP and TLS connection and the greeting may take, in milliseconds. */
  connectTimeoutMs: number;
}

/** Builds the imapflow options for a mailbox row; the secret is decrypted here and goes nowhere else. */
export function buildClientOptions(row: Mailbox, options: ClientOptions, log: Logger): ImapFlowOptions {
  const secret = decryptSecret(row.secretEncrypted, options.credentialKey);
  const auth = row.authMethod === 'xoauth2' ? { user: row.user, accessToken: secret } : { user: row.user, pass: secret };

  return {
    host: row.host,
    port: row.port,
    // tls=false still upgrades with STARTTLS when the server offers it; either way
    // Node verifies the certificate, because rejectUnauthorized is never turned off.
    secure: row.tls,
    auth,
    tls: options.ca ? { ca: options.ca } : {},
    logger: createImapFlowLogger(log),
    clientInfo: { name: 'Postdesk' },
    socketTimeout: options.socketTimeoutMs,
    autoIdleDelay: options.autoIdleDelayMs,
    connectionTimeout: options.connectTimeoutMs,
    greetingTimeout: options.connectTimeoutMs,
  };
}

/** Creates an unconnected client for a mailbox row. Throws CredentialError when the secret cannot be decrypted. */
export function createImapClient(row: Mailbox, options: ClientOptions, log: Logger): ImapFlow {
  return new ImapFlow(buildClientOptions(row, options, log));
}

/**
 * Adapts pino to imapflow's logger. imapflow's debug and trace entries carry
 * protocol lines with message data, so they are dropped. Its info entries
 * (connection steps) become debug, because the poller logs the lifecycle itself.
 */
export function createImapFlowLogger(log: Logger): ImapFlowLogger {
  const forward = (level: 'debug' | 'warn' | 'error') => (entry: unknown) => {
    const { msg, err, cid } = readEntry(entry);
    log[level]({ library: 'imapflow', cid, ...(err ? { err } : {}) }, msg ?? 'imapflow event');
  };
  return {
    trace: () => undefined,
    debug: () => undefined,
    info: forward('debug'),
    warn: forward('warn'),
    error: forward('warn'),
    fatal: forward('error'),
  };
}

function readEntry(entry: unknown): { msg?: string; err?: unknown; cid?: string } {
  if (!entry || typeof entry !== 'object') return { msg: String(entry) };
  const fields = entry as Record<string, unknown>;
  return {
    ...(typeof fields.msg === 'string' ? { msg: fields.msg } : {}),
    ...(fields.err !== undefined ? { err: fields.err } : {}),
    ...(typeof fields.cid === 'string' ? { cid: fields.cid } : {}),
  };
}

/** Splits a configured folder at "/" so imapflow joins the levels with the server's own delimiter. */
export function folderPath(folder: string): string[] {
  return folder.split('/').filter((part) => part !== '');
}

/**
 * Waits for `work` unless the connection closes first. Then the client is closed
 * and `work` is awaited too, so that no step of it still runs when the next
 * connection starts.
 */
export async function untilClosed<T>(work: Promise<T>, closed: Promise<never>, client: ImapFlow): Promise<T> {
  try {
    return await Promise.race([work, closed]);
  } catch (error) {
    client.close();
    await work.catch(() => undefined);
    throw error;
  }
}

/** Rejects when the connection closes, with the error that closed it when imapflow reported one. */
export function closedPromise(client: ImapFlow): Promise<never> {
  const promise = new Promise<never>((_resolve, reject) => {
    let lastError: Error | null = null;
    client.on('error', (error: Error) => (lastError = error));
    client.once('close', () => {
      const reason = client.byeReason ? ` (${client.byeReason})` : '';
      reject(lastError ?? Object.assign(new Error(`connection closed by the server${reason}`), { code: 'EConnectionClosed' }));
    });
  });
  promise.catch(() => undefined);
  return promise;
}

/** UIDNEXT for a server that did not report it on SELECT: one above the highest UID. */
export async function findUidNext(client: ImapFlow): Promise<number> {
  const newest = client.mailbox && client.mailbox.exists > 0 ? await client.fetchOne('*', { uid: true }) : false;
  return newest ? newest.uid + 1 : 1;
}
