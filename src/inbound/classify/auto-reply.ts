import type { ParsedMail } from 'mailparser';
import { hasListHeaders } from './list.js';
import { firstHeaderValue, hasHeader, headerToken, headerValues, messageMediaType, subjectOf } from './mail-fields.js';
import { findOutOfOfficeSubject } from './out-of-office-subjects.js';

/**
 * Vendor headers that autoresponders and helpdesks set instead of, or next to,
 * Auto-Submitted, such as `X-Autoreply: yes`. Mail clients do not add them to mail that
 * people write.
 */
const AUTORESPONDER_HEADERS = ['X-Autoreply', 'X-Autorespond', 'X-Autoreply-From', 'X-Mail-Autoreply'];

/** Header values that deny what the header name claims. */
const NEGATIVE_VALUES = new Set(['no', 'false', '0']);

/**
 * Names the sign that marks a message as an automatic reply or other automatic mail, or
 * returns undefined. Bounces are recognized before this runs.
 *
 * Not signs on their own:
 * - X-Auto-Response-Suppress, because Outlook sets it on mail that people write.
 * - X-MS-Exchange-Inbox-Rules-Loop, because Exchange also stamps it on person-written mail
 *   that an inbox rule forwards, the usual way a shared mailbox feeds a helpdesk.
 * - X-MS-Exchange-Generated-Message-Source, because the Exchange out-of-office replies,
 *   journal reports and transport-rule notices that carry it also carry
 *   `Auto-Submitted: auto-generated`, which is checked first.
 * - A no-reply From address, because web contact forms send customer requests from one.
 */
export function findAutoReplyReason(mail: ParsedMail): string | undefined {
  const autoSubmitted = firstHeaderValue(mail, 'auto-submitted');
  const autoSubmittedToken = autoSubmitted === undefined ? '' : headerToken(autoSubmitted);
  // RFC 3834 section 5: every value other than "no" means automatic.
  if (autoSubmittedToken !== '' && autoSubmittedToken !== 'no') return `Auto-Submitted: ${autoSubmittedToken}`;

  for (const name of AUTORESPONDER_HEADERS) {
    const values = headerValues(mail, name);
    if (values.some((value) => !NEGATIVE_VALUES.has(headerToken(value)))) return `${name} header`;
  }

  const precedenceReason = findPrecedenceReason(mail);
  if (precedenceReason) return precedenceReason;

  const media = messageMediaType(mail);
  if (media.type === 'multipart/report') return `multipart/report ${media.params['report-type'] ?? ''}`.trim();

  // Amazon SNS delivers AWS notifications (SES delivery notices among them) by e-mail.
  if (hasHeader(mail, 'x-amz-sns-message-id')) return 'Amazon SNS notification';

  const subjectLabel = findOutOfOfficeSubject(subjectOf(mail));
  if (subjectLabel) return `subject: ${subjectLabel}`;

  // RFC 3834 section 3.3 and RFC 5321 section 4.5.5: automatic responses go out with a null reverse-path.
  const returnPath = firstHeaderValue(mail, 'return-path');
  if (returnPath !== undefined && /^<?\s*>?$/.test(returnPath)) return 'Return-Path: <>';

  return undefined;
}

/**
 * Reads Precedence (RFC 2076). `auto_reply` and `junk` come from autoresponders.
 * `bulk` counts as automatic mail here only without List-* headers, because with them
 * it is mailing-list traffic, which the list check reports as `list`.
 */
function findPrecedenceReason(mail: ParsedMail): string | undefined {
  const precedence = headerToken(firstHeaderValue(mail, 'precedence') ?? '');
  if (precedence === 'auto_reply' || precedence === 'auto-reply') return 'Precedence: auto_reply';
  if (precedence === 'junk') return 'Precedence: junk';
  if (precedence === 'bulk' && !hasListHeaders(mail)) return 'Precedence: bulk';
  return undefined;
}
