/**
 * Classification of inbound mail. The pipeline opens a task only for 'normal' mail and sends
 * no automatic reply to any other kind, which keeps bounces, autoresponders and our own
 * returning mail from starting mail loops.
 */
import type { ParsedMail } from 'mailparser';
import { findAutoReplyReason } from './classify/auto-reply.js';
import { detectBounce } from './classify/bounce.js';
import { findListReason } from './classify/list.js';
import { domainOf, headerValues } from './classify/mail-fields.js';

/** Kind of an inbound message: person-written ('normal') or one of the kinds of automatic mail. */
export type MailKind = 'normal' | 'bounce' | 'auto-reply' | 'loop' | 'list';

/** Result of {@link classifyMessage}. */
export interface Classification {
  kind: MailKind;
  /** Short machine-readable reason, e.g. 'multipart/report delivery-status', 'Auto-Submitted: auto-replied', 'subject: out of office'. */
  reason: string;
  /** For bounces: the recipients and outcome that the report gives for the reported message. */
  bounce?: {
    /** Message-ID of the reported message, angle brackets included. */
    originalMessageId?: string;
    /** Recipients that the report lists as failed or delayed. Original-Recipient is preferred over Final-Recipient. */
    failedRecipients: string[];
    /** True when at least one recipient failed for good (Action: failed or a 5.x.x Status). */
    permanent: boolean;
  };
}

/** Settings that tell our own mail apart from everyone else's. */
export interface ClassifyOptions {
  /**
   * Value of our loop-marker header (X-Postdesk-Loop, see {@link LOOP_HEADER}). Mail that
   * carries it with this value is our own mail coming back.
   */
  instanceId: string;
  /**
   * Our own addresses or bare mail domains. Their domains identify the Message-IDs we
   * generate: a message that carries the loop header of any Postdesk instance and a
   * Message-ID in one of these domains is our own mail, relayed back through another
   * instance. The loop header of another instance alone is not a loop, because another
   * helpdesk's agents write person-to-person mail with it.
   */
  ownAddresses: string[];
}

/** Header that Postdesk adds to every message it sends, with the instance id as value (lower case, as in `mail.headers`). */
export const LOOP_HEADER = 'x-postdesk-loop';

/**
 * Classifies a parsed message. The checks run in a fixed order and the first match wins:
 * loop, bounce (including abuse feedback reports), auto-reply, list, then 'normal'.
 * Missing or malformed headers and parts make a check fail to match instead of throwing.
 */
export function classifyMessage(mail: ParsedMail, options: ClassifyOptions): Classification {
  const loopReason = findLoopReason(mail, options);
  if (loopReason) return { kind: 'loop', reason: loopReason };

  const bounce = detectBounce(mail);
  if (bounce) return { kind: 'bounce', reason: bounce.reason, bounce: bounce.details };

  const autoReplyReason = findAutoReplyReason(mail);
  if (autoReplyReason) return { kind: 'auto-reply', reason: autoReplyReason };

  const listReason = findListReason(mail);
  if (listReason) return { kind: 'list', reason: listReason };

  return { kind: 'normal', reason: 'no automatic-mail signs' };
}

function findLoopReason(mail: ParsedMail, options: ClassifyOptions): string | undefined {
  // A header may be repeated, and a relay may have joined several values with commas.
  const markers = headerValues(mail, LOOP_HEADER)
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter((value) => value !== '');
  if (markers.length === 0) return undefined;

  if (markers.includes(options.instanceId.trim())) return 'X-Postdesk-Loop: own instance';

  const messageIdDomain = domainOf(mail.messageId ?? '');
  const ownDomains = new Set(options.ownAddresses.map((entry) => (entry.includes('@') ? domainOf(entry) : entry.trim().toLowerCase())));
  if (messageIdDomain !== '' && ownDomains.has(messageIdDomain)) return 'X-Postdesk-Loop with own Message-ID domain';

  return undefined;
}
