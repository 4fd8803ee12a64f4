import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import type { AddressInfo } from 'node:net';

/** One message the sink accepted. */
export interface SinkMessage {
  envelope: { from: string | null; to: string[] };
  raw: Buffer;
  /** Message-ID header without angle brackets, read from the raw header block. */
  messageId: string | null;
  /** performance.now() when the sink replied 250 to the final dot. */
  acceptedAt: number;
  /** User name the client authenticated with, if any. */
  user: string | null;
}

/** Where a scripted rejection is given: at RCPT TO or after DATA. */
export type SinkStage = 'rcpt' | 'data';

/** A reply the sink gives instead of accepting. */
export interface SinkRejection {
  stage: SinkStage;
  code: number;
  text: string;
  /** Only for this envelope recipient; every recipient when missing. */
  address?: string;
}

/** Settings of a sink. */
export interface SinkOptions {
  /** Require AUTH PLAIN/LOGIN with these credentials. */
  auth?: { user: string; pass: string };
  /** Offer STARTTLS with this key and certificate (PEM). */
  tls?: { key: Buffer; cert: Buffer };
  /** Keep the raw bytes of each message; off in benchmarks to save memory. */
  keepRaw?: boolean;
}

/**
 * A real SMTP server on a free loopback port that stores what it accepts, for tests of
 * mail out. Rejections can be scripted once (`rejectNext`) or for good (`rejectAlways`).
 */
export class SmtpSink {
  readonly messages: SinkMessage[] = [];
  /** Every RCPT TO and DATA the sink replied to, rejected ones included. */
  readonly transcript: { stage: SinkStage; address: string | null; code: number }[] = [];
  private readonly oneShot: SinkRejection[] = [];
  private readonly lasting: SinkRejection[] = [];
  private readonly waiters: { count: number; resolve: () => void }[] = [];

  private constructor(
    private readonly server: SMTPServer,
    readonly port: number,
  ) {}

  /** Start a sink on 127.0.0.1 and a free port. */
  static async start(options: SinkOptions = {}): Promise<SmtpSink> {
    let sink: SmtpSink | null = null;
    const keepRaw = options.keepRaw ?? true;
    // Without a certificate STARTTLS is disabled, not only hidden, because smtp-server
    // would otherwise accept it with its built-in certificate.
    const disabledCommands = [...(options.tls ? [] : ['STARTTLS']), ...(options.auth ? [] : ['AUTH'])];
    const serverOptions: SMTPServerOptions = {
      logger: false,
      banner: 'postdesk test sink',
      disableReverseLookup: true,
      disabledCommands,
      ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
      ...(options.auth ? { allowInsecureAuth: true, authMethods: ['PLAIN', 'LOGIN'] } : { authOptional: true }),
      onAuth(auth, _session, callback) {
        const expected = options.auth;
        if (expected && auth.username === expected.user && auth.password === expected.pass) callback(null, { user: auth.username });
        else callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
      },
      onRcptTo(address, _session, callback) {
        const rejection = sink!.takeRejection('rcpt', address.address);
        sink!.transcript.push({ stage: 'rcpt', address: address.address, code: rejection?.code ?? 250 });
        if (rejection) callback(Object.assign(new Error(rejection.text), { responseCode: rejection.code }));
        else callback();
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const recipients = session.envelope.rcptTo.map((entry) => entry.address);
          const rejection = recipients.map((address) => sink!.takeRejection('data', address)).find(Boolean) ?? null;
          sink!.transcript.push({ stage: 'data', address: recipients[0] ?? null, code: rejection?.code ?? 250 });
          if (rejection) {
            callback(Object.assign(new Error(rejection.text), { responseCode: rejection.code }));
            return;
          }
          const raw = Buffer.concat(chunks);
          const from = session.envelope.mailFrom === false ? null : session.envelope.mailFrom.address;
          const user = typeof session.user === 'string' ? session.user : null;
          sink!.accept({ envelope: { from, to: recipients }, raw: keepRaw ? raw : Buffer.alloc(0), messageId: readMessageId(raw), acceptedAt: performance.now(), user });
          callback(null, 'queued by the test sink');
        });
      },
    };
    const server = new SMTPServer(serverOptions);
    server.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    sink = new SmtpSink(server, (server.server.address() as AddressInfo).port);
    return sink;
  }

  /** Give this reply to the next matching command instead of accepting it. */
  rejectNext(rejection: SinkRejection): void {
    this.oneShot.push(rejection);
  }

  /** Give this reply to every matching command from now on. */
  rejectAlways(rejection: SinkRejection): void {
    this.lasting.push(rejection);
  }

  /** Resolve once `count` messages have been accepted; reject after `timeoutMs`. */
  waitForMessages(count: number, timeoutMs = 15_000): Promise<SinkMessage[]> {
    if (this.messages.length >= count) return Promise.resolve(this.messages);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`sink received ${this.messages.length} of ${count} messages within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve(this.messages);
        },
      });
    });
  }

  /** Parse an accepted message, given by its index or itself, with mailparser. */
  parse(entry: number | SinkMessage): Promise<ParsedMail> {
    const message = typeof entry === 'number' ? this.messages[entry] : entry;
    if (!message) throw new Error(`the sink has no message ${String(entry)} (it has ${this.messages.length})`);
    return simpleParser(message.raw);
  }

  /** Messages whose envelope names this recipient, in the order they arrived. */
  messagesTo(address: string): SinkMessage[] {
    const wanted = address.toLowerCase();
    return this.messages.filter((message) => message.envelope.to.some((recipient) => recipient.toLowerCase() === wanted));
  }

  /** Resolve once `count` messages for this recipient have been accepted. */
  async waitForMessagesTo(address: string, count: number, timeoutMs = 15_000): Promise<SinkMessage[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.messagesTo(address).length < count) {
      if (Date.now() > deadline) throw new Error(`sink received ${this.messagesTo(address).length} of ${count} messages to ${address} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.messagesTo(address);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(message: SinkMessage): void {
    this.messages.push(message);
    for (const waiter of [...this.waiters]) {
      if (this.messages.length < waiter.count) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }

  private takeRejection(stage: SinkStage, address: string): SinkRejection | null {
    const matches = (rule: SinkRejection) => rule.stage === stage && (rule.address === undefined || rule.address.toLowerCase() === address.toLowerCase());
    const index = this.oneShot.findIndex(matches);
    if (index !== -1) return this.oneShot.splice(index, 1)[0]!;
    return this.lasting.find(matches) ?? null;
  }
}

/** Read Message-ID from the header block without a full parse, so the benchmark sink stays cheap. */
function readMessageId(raw: Buffer): string | null {
  const end = raw.indexOf('\r\n\r\n');
  const head = raw.subarray(0, end === -1 ? raw.length : end).toString('latin1');
  const match = /^message-id:[ \t]*(?:\r\n[ \t]+)?<([^>\r\n]+)>/im.exec(head);
  return match?.[1] ?? null;
}
