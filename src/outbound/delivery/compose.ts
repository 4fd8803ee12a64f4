import type { SendMailOptions } from 'nodemailer';
import { LOOP_HEADER } from '../../inbound/classify.js';
import type { RenderedMail } from './types.js';

/**
 * Build the nodemailer message for a rendered mail. The loop marker is set here as well
 * as in the renderer because this is the last step before the wire, and a mail without
 * it could come back as a new task.
 */
export function composeMessage(mail: RenderedMail, instanceId: string): SendMailOptions {
  const headers: Record<string, string> = { ...mail.headers };
  const hasLoopMarker = Object.keys(headers).some((name) => name.toLowerCase() === LOOP_HEADER);
  if (!hasLoopMarker) headers['X-Postdesk-Loop'] = instanceId;

  return {
    from: mail.from,
    to: mail.to,
    ...(mail.replyTo ? { replyTo: mail.replyTo } : {}),
    subject: mail.subject,
    text: mail.text,
    html: mail.html,
    headers,
    // nodemailer adds the angle brackets to Message-ID, In-Reply-To and References.
    messageId: mail.messageId,
    ...(mail.inReplyTo ? { inReplyTo: mail.inReplyTo } : {}),
    ...(mail.references.length > 0 ? { references: mail.references } : {}),
  };
}
