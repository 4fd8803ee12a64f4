import net from 'node:net';
import nodemailer from 'nodemailer';

/** Send a raw message over a real SMTP session; resolves with the server's final reply. */
export async function sendRaw(port: number, raw: string | Buffer, envelope: { from: string; to: string[] }): Promise<string> {
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, connectionTimeout: 10_000 });
  try {
    const info = await transport.sendMail({ envelope, raw });
    return info.response;
  } finally {
    transport.close();
  }
}

/**
 * A line-based SMTP client over a plain socket, for sessions that nodemailer would
 * refuse to produce (bare LF, pipelining, too many recipients).
 */
export class RawSmtpSession {
  private buffer = '';
  private readonly waiting: ((line: string) => void)[] = [];
  private readonly lines: string[] = [];

  private readonly onData = (chunk: Buffer) => {
    this.buffer += chunk.toString('utf8');
    let index: number;
    while ((index = this.buffer.indexOf('\r\n')) !== -1) {
      const line = this.buffer.slice(0, index);
      this.buffer = this.buffer.slice(index + 2);
      // Multi-line replies: only the last line (code followed by a space) completes a reply.
      if (/^\d{3}-/.test(line)) continue;
      const resolve = this.waiting.shift();
      if (resolve) resolve(line);
      else this.lines.push(line);
    }
  };

  private constructor(readonly socket: net.Socket) {
    socket.on('data', this.onData);
  }

  /** Stop reading the socket, so that TLS can take it over after STARTTLS. */
  detach(): net.Socket {
    this.socket.off('data', this.onData);
    return this.socket;
  }

  static async connect(port: number): Promise<RawSmtpSession> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const session = new RawSmtpSession(socket);
    await session.reply();
    return session;
  }

  /** Read replies from a socket that is already past the greeting (a TLS socket after STARTTLS). */
  static wrap(socket: net.Socket): RawSmtpSession {
    return new RawSmtpSession(socket);
  }

  /** Wait for the next complete reply line. */
  reply(timeoutMs = 10_000): Promise<string> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no SMTP reply within the timeout')), timeoutMs);
      this.waiting.push((value) => {
        clearTimeout(timer);
        resolve(value);
      });
    });
  }

  /** Write bytes exactly as given. */
  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Send one command line with CRLF and wait for its reply. */
  async command(line: string): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.reply();
  }

  close(): void {
    this.socket.destroy();
  }
}
