import { readFileSync } from 'node:fs';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import type { Config } from '../config/index.js';
import type { Logger } from '../logger.js';
import { matchHelpdeskAddress } from '../mail/addresses.js';
import { BareLineFeedError, ClientAbortedError, MessageTooLargeError, type Spool, type SpoolEntry } from '../inbound/journal/spool.js';

/** SMTP errors carry the reply code that smtp-server sends. */
class SmtpReplyError extends Error {
  constructor(
    message: string,
    readonly responseCode: number,
  ) {
    super(message);
    this.name = 'SmtpReplyError';
  }
}

/** Dependencies of the SMTP intake. */
export interface SmtpIntakeDeps {
  config: Config;
  /** The journal's spool, which is all the intake writes to. */
  spool: Spool;
  logger: Logger;
  /** Called after the 250, with the committed spool entry. */
  onJournaled(entry: SpoolEntry): void;
}

/**
 * Create the inbound SMTP server. It accepts mail only for the helpdesk's addresses
 * (so it never relays), journals each message durably before it replies 250, and
 * replies 4xx when that write fails, so the sending server keeps the message.
 */
export function createSmtpIntake(deps: SmtpIntakeDeps): SMTPServer {
  const { config, spool } = deps;
  const log = deps.logger.child({ component: 'smtp' });

  const options: SMTPServerOptions = {
    name: config.smtp.hostname,
    // smtp-server writes "220 <name> ESMTP <banner>".
    banner: 'Postdesk',
    size: config.smtp.maxMessageBytes,
    maxClients: config.smtp.maxClients,
    authOptional: true,
    // Without a configured certificate smtp-server would accept STARTTLS with its own
    // built-in one, which clients cannot verify; hiding the command is not enough.
    disabledCommands: config.smtp.tlsKeyPath ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    hideDSN: true,
    disableReverseLookup: true,
    logger: false,
    ...(config.smtp.tlsKeyPath && config.smtp.tlsCertPath
      ? { key: readFileSync(config.smtp.tlsKeyPath), cert: readFileSync(config.smtp.tlsCertPath) }
      : { hideSTARTTLS: true }),

    onRcptTo(address, session, callback) {
      if (session.envelope.rcptTo.length >= config.smtp.maxRecipients) {
        return callback(new SmtpReplyError('4.5.3 Too many recipients', 452));
      }
      if (!matchHelpdeskAddress(address.address, config.mail.addresses, config.mail.catchAllDomains)) {
        log.info({ sessionId: session.id, recipient: address.address }, 'recipient rejected');
        return callback(new SmtpReplyError(`5.1.1 <${address.address}>: no such helpdesk address here, and this server relays no mail`, 550));
      }
      callback();
    },

    onData(stream, session, callback) {
      const envelope = {
        mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address || null : null,
        rcptTo: session.envelope.rcptTo.map((recipient) => recipient.address.toLowerCase()),
        remoteAddress: session.remoteAddress,
        clientHostname: session.hostNameAppearsAs,
      };

      spool
        .writeStream(stream, 'smtp', envelope, { maxBytes: config.smtp.maxMessageBytes, rejectBareLineFeeds: true })
        .then(
          (entry) => {
            log.info({ sessionId: session.id, journalId: entry.id, messageId: entry.messageId, size: entry.size }, 'message accepted');
            callback(null, `2.0.0 Ok: queued as ${entry.id}`);
            deps.onJournaled(entry);
          },
          (error: unknown) => {
            if (error instanceof MessageTooLargeError) return callback(new SmtpReplyError(`5.3.4 ${error.message}`, 552));
            if (error instanceof ClientAbortedError) {
              log.info({ sessionId: session.id }, 'client disconnected during DATA; nothing kept');
              return callback(new SmtpReplyError('4.4.2 Connection dropped during DATA', 451));
            }
            if (error instanceof BareLineFeedError) {
              log.info({ sessionId: session.id }, 'message with bare LF rejected');
              return callback(new SmtpReplyError(error.message, 550));
            }
            log.error({ sessionId: session.id, err: error }, 'journal write failed');
            callback(new SmtpReplyError('4.3.0 Temporary failure storing the message, try again later', 451));
          },
        );
    },
  };

  const server = new SMTPServer(options);
  server.on('error', (error) => log.warn({ err: error }, 'smtp connection error'));
  return server;
}

/** Listen and resolve with the bound port (useful when the configured port is 0). */
export function listenSmtp(server: SMTPServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(port, host, () => {
      server.server.off('error', reject);
      const address = server.server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/** Stop accepting connections and wait for open sessions to end. */
export function closeSmtp(server: SMTPServer): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
