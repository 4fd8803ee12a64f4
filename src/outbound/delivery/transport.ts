import nodemailer from 'nodemailer';
import type { Config } from '../../config/index.js';
import type { Logger } from '../../logger.js';
import { composeMessage } from './compose.js';
import { createEmlFileTransport } from './eml-file-transport.js';
import { parseRelayUrl } from '../../config/relay-url.js';
import type { MailTransport, RenderedMail, SendResult } from './types.js';

/** Tuning of the SMTP connection pool. */
export interface TransportOptions {
  /** Open connections to the relay at most; defaults to 5 (nodemailer's default). */
  maxConnections?: number;
}

/**
 * Create the transport the configuration names: a pooled SMTP connection to
 * config.outbound.relayUrl, or .eml files in config.outbound.outboxDir when no relay is
 * set. Throws RelayUrlError for an unusable relay URL.
 */
export function createMailTransport(config: Config, logger: Logger, options: TransportOptions = {}): MailTransport {
  if (config.outbound.relayUrl === null) return createEmlFileTransport(config.outbound.outboxDir, config.instanceId);

  const relay = parseRelayUrl(config.outbound.relayUrl, config.smtp.hostname);
  // nodemailer logs every message at info; only its warnings and errors belong in our log.
  const transportLogger = logger.child({ component: 'nodemailer' }, { level: logger.isLevelEnabled('warn') ? 'warn' : logger.level });
  const transporter = nodemailer.createTransport({
    ...relay,
    pool: true,
    maxConnections: options.maxConnections ?? 5,
    connectionTimeout: 30_000,
    greetingTimeout: 30_000,
    socketTimeout: 120_000,
    logger: transportLogger,
  });
  logger.info({ component: 'delivery', relayHost: relay.host, relayPort: relay.port ?? null, secure: relay.secure, requireTLS: relay.requireTLS }, 'smtp relay configured');

  return {
    kind: 'smtp',
    async send(mail: RenderedMail): Promise<SendResult> {
      const info = await transporter.sendMail(composeMessage(mail, config.instanceId));
      return { messageId: info.messageId.replace(/^<|>$/g, ''), response: info.response };
    },
    async close() {
      transporter.close();
    },
  };
}
