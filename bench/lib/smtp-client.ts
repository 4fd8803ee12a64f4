import net from 'node:net';
import { nowMs } from './stats.js';

/** One SMTP reply: the code and the text of its last line. */
export interface SmtpReply {
  code: number;
  text: string;
}

/** Timings of one message sent on a kept-open connection, in milliseconds. */
export interface SendTiming {
  /** From writing the end-of-data line (`.`) to reading the reply to it. */
  acceptMs: number;
  /** From writing MAIL FROM to reading the reply to the end-of-data line. */
  transactionMs: number;
  /** `nowMs()` when MAIL FROM was written. */
  startedAt: number;
  reply: SmtpReply;
}

/** A message ready to send: the envelope and the raw bytes with CRLF line ends. */
export interface OutgoingMessage {
  from: string;
  to: string;
  raw: Buffer;
}

const REPLY_TIMEOUT_MS = 120_000;

/**
 * A minimal SMTP client over one kept-open loopback connection. It pipelines MAIL,
 * RCPT and DATA (the server offers PIPELINING), as MTAs do, and times the DATA
 * phase itself: nodemailer reports only the whole send, not the wait after the
 * end-of-data line.
 */
export class SmtpClient {
  private buffer = '';
  private readonly replies: SmtpReply[] = [];
  private readonly waiting: { resolve(reply: SmtpReply): void; reject(error: Error): void }[] = [];
  private failure: Error | null = null;

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('SMTP connection closed by the server')));
  }

  /** Connect, read the greeting (smtp-server delays it by 100 ms) and send EHLO. */
  static async connect(port: number, host = '127.0.0.1'): Promise<SmtpClient> {
    const socket = net.connect(port, host);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const client = new SmtpClient(socket);
    expectCode(await client.nextReply(), 220, 'greeting');
    socket.write('EHLO bench-client.test\r\n');
    expectCode(await client.nextReply(), 250, 'EHLO');
    return client;
  }

  /** Send one message in its own transaction. Rejects on a reply other than 2xx/354. */
  async send(message: OutgoingMessage): Promise<SendTiming> {
    const startedAt = nowMs();
    this.socket.write(`MAIL FROM:<${message.from}>\r\nRCPT TO:<${message.to}>\r\nDATA\r\n`);
    expectCode(await this.nextReply(), 250, 'MAIL FROM');
    expectCode(await this.nextReply(), 250, 'RCPT TO');
    expectCode(await this.nextReply(), 354, 'DATA');

    await this.write(dotStuff(message.raw));
    const dataEnd = nowMs();
    this.socket.write('.\r\n');
    const reply = await this.nextReply();
    const end = nowMs();
    return { acceptMs: end - dataEnd, transactionMs: end - startedAt, startedAt, reply };
  }

  /** Send QUIT and close the connection. */
  async quit(): Promise<void> {
    if (this.failure) return;
    this.socket.write('QUIT\r\n');
    await this.nextReply().catch(() => undefined);
    this.socket.destroy();
  }

  /** Resolves once the kernel has taken all of `data`, so the timer starts after the body left. */
  private write(data: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.write(data, (error) => (error ? reject(error) : resolve()));
    });
  }

  private nextReply(): Promise<SmtpReply> {
    const queued = this.replies.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no SMTP reply within ${REPLY_TIMEOUT_MS} ms`)), REPLY_TIMEOUT_MS);
      this.waiting.push({
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
  }

  private onData(chunk: Buffer): void {
    this.buffer += chunk.toString('latin1');
    let index: number;
    while ((index = this.buffer.indexOf('\r\n')) !== -1) {
      const line = this.buffer.slice(0, index);
      this.buffer = this.buffer.slice(index + 2);
      // In a multi-line reply only the last line ("250 ...", not "250-...") ends it.
      if (/^\d{3}-/.test(line)) continue;
      const reply = { code: Number(line.slice(0, 3)), text: line.slice(4) };
      const waiter = this.waiting.shift();
      if (waiter) waiter.resolve(reply);
      else this.replies.push(reply);
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiting.splice(0)) waiter.reject(error);
  }
}

function expectCode(reply: SmtpReply, code: number, step: string): void {
  if (reply.code !== code) throw new Error(`SMTP ${step} failed: expected ${code}, got ${reply.code} ${reply.text}`);
}

/**
 * Double a leading dot on every line (RFC 5321, section 4.5.2) and make sure the
 * data ends with CRLF before the end-of-data line.
 */
export function dotStuff(raw: Buffer): Buffer {
  const endsWithCrlf = raw.length >= 2 && raw[raw.length - 2] === 0x0d && raw[raw.length - 1] === 0x0a;
  if (raw[0] !== 0x2e && raw.indexOf('\r\n.') === -1 && endsWithCrlf) return raw;

  let text = raw.toString('latin1');
  if (text.startsWith('.')) text = `.${text}`;
  text = text.replaceAll('\r\n.', '\r\n..');
  if (!text.endsWith('\r\n')) text += '\r\n';
  return Buffer.from(text, 'latin1');
}
