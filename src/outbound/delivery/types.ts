import type { Config } from '../../config/index.js';
import type { OutboundMessage } from '../../db/generated/client.js';
import type { RenderedMail } from '../render.js';

export type { RenderedMail } from '../render.js';

/** Turns an outbox row into a mail. Throwing means the row can never be rendered. */
export type RenderOutbound = (row: OutboundMessage, config: Config) => Promise<RenderedMail>;

/** Result of one accepted mail, from the relay or the outbox folder. */
export interface SendResult {
  /** Message-ID header of the sent mail, without angle brackets. */
  messageId: string;
  /** Final SMTP reply of the relay, or the path of the .eml file. */
  response: string;
}

/** Destination of outbound mail: an SMTP relay or the outbox folder. */
export interface MailTransport {
  readonly kind: 'smtp' | 'eml-file';
  /** Deliver one mail; `fileName` names the .eml file when the transport writes files. */
  send(mail: RenderedMail, fileName: string): Promise<SendResult>;
  close(): Promise<void>;
}
