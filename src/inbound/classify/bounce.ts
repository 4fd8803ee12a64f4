import type { ParsedMail } from 'mailparser';
import { isDelayNotice, parseSesNotification, recipientsFromText } from './bounce-text.js';
import {
  collectRecipientStatuses,
  findOriginalMessageId,
  hasDeliveryStatusPart,
  summarizeStatuses,
  uniqueAddresses,
} from './delivery-status.js';
import { bodyText, firstHeaderValue, fromMailbox, hasHeader, headerValues, localPartOf, messageMediaType, subjectOf } from './mail-fields.js';

/** Recipients and outcome that a bounce reports for the original message. */
export interface BounceDetails {
  originalMessageId?: string;
  failedRecipients: string[];
  permanent: boolean;
}

/** A message recognized as a bounce or a feedback report. */
export interface BounceMatch {
  reason: string;
  details: BounceDetails;
}

/** Source of the details of a recognized bounce. */
type BounceForm = 'delivery-report' | 'feedback-report' | 'amazon-ses';

interface BounceSign {
  reason: string;
  form: BounceForm;
}

/** Report types of multipart/report (RFC 6522) for delivery reports (RFC 3464, and RFC 6533 for internationalized mail). */
const DELIVERY_REPORT_TYPES = new Set(['delivery-status', 'global-delivery-status']);
const FEEDBACK_REPORT_TYPE = 'feedback-report';

/** Local parts that mail servers send their notices from (RFC 5321 section 4.5.1 reserves postmaster). */
const DAEMON_LOCAL_PARTS = new Set(['mailer-daemon', 'mailer_daemon', 'mailerdaemon', 'postmaster', 'post_master']);

/** Display names that mail servers put on their notices. */
const DAEMON_DISPLAY_NAME = /^(?:mailer[- ]daemon|mail deliver(?:y)? (?:sub)?system)$/;

/**
 * Subjects of non-standard bounces, matched at the start of the subject only, so that a
 * person forwarding a bounce ("Fwd: Undelivered Mail …") still opens a task. Words that a
 * shop's customer might start a subject with ("Undeliverable parcel", "Delivery failure on
 * order 12") only match in the exact form that servers use.
 */
const BOUNCE_SUBJECTS: ReadonlyArray<readonly [label: string, pattern: RegExp]> = [
  ['undelivered mail returned to sender', /^undelivered mail returned to sender\b/i], // Postfix
  ['delivery status notification', /^delivery status notification\b/i], // Gmail, Amazon SES, OpenSMTPD
  ['mail delivery failed', /^mail delivery failed\b/i], // Exim, DragonFly
  ['undeliverable', /^undeliverable(?:\s*:|\s+(?:mail|message)\b)/i], // Exchange, Office 365, IMail, Notes
  ['returned mail', /^returned mail\s*:/i], // Sendmail
  ['returned mail', /^mail system error - returned mail\b/i], // au one net
  ['failure notice', /^failure notice\s*$/i], // qmail, Yahoo
  ['delivery failure', /^delivery failure\s*(?::|$)/i], // Domino
  ['delivery has failed', /^(?:delivery notification: delivery has failed|message delivery has failed)\b/i], // Sun Messaging Server, MailFoundry
  ['mail delivery failure', /^(?:\[postmaster\]\s*)?e?mail delivery failure\b/i], // Mimecast, MessageLabs
  ['delayed mail', /^(?:delayed mail\b|warning: could not send message for past\b|warning: message \S+ delayed\b)/i], // Sendmail, Exim
  ['mail error notification', /^メールエラー通知/], // au one net (Japanese)
  ['message could not be delivered', /^メッセージを配信できません/], // Trend Micro InterScan (Japanese)
  ['undelivered message', /^недоставленное сообщение/i], // Yandex (Russian)
  ['message not delivered', /^ваше сообщение не доставлено/i], // Mail.ru (Russian)
];

/** Openings of bounce texts from servers that send neither a report nor a telling header. */
const BOUNCE_OPENINGS: ReadonlyArray<readonly [reason: string, pattern: RegExp]> = [
  ['qmail-send bounce text', /^\s*Hi\. This is the qmail-send program\b/],
  ['Exim bounce text', /^\s*This message was created automatically by mail delivery software\./],
];

/**
 * Recognizes bounces and abuse feedback reports: RFC 3464 reports first, then the
 * headers, senders, subjects and openings that servers without RFC 3464 use.
 * Returns undefined for anything else.
 */
export function detectBounce(mail: ParsedMail): BounceMatch | undefined {
  const sign = findBounceSign(mail);
  if (!sign) return undefined;

  switch (sign.form) {
    case 'feedback-report':
      return { reason: sign.reason, details: feedbackDetails(mail) };
    case 'amazon-ses':
      return { reason: sign.reason, details: sesDetails(bodyText(mail)) };
    case 'delivery-report':
      return { reason: sign.reason, details: bounceDetails(mail) };
  }
}

function findBounceSign(mail: ParsedMail): BounceSign | undefined {
  const media = messageMediaType(mail);
  if (media.type === 'multipart/report') {
    const reportType = media.params['report-type'] ?? '';
    if (DELIVERY_REPORT_TYPES.has(reportType)) return { reason: `multipart/report ${reportType}`, form: 'delivery-report' };
    if (reportType === FEEDBACK_REPORT_TYPE) return { reason: `multipart/report ${FEEDBACK_REPORT_TYPE}`, form: 'feedback-report' };
    // Some servers omit report-type. Any other declared type (MDN, TLS report) is not a bounce.
    if (reportType === '') return { reason: 'multipart/report without report-type', form: 'delivery-report' };
  }

  const sesType = sesNotificationType(mail);
  if (sesType === 'Bounce' || sesType === 'Complaint') return { reason: `Amazon SES notification: ${sesType}`, form: 'amazon-ses' };

  const reason = findHeaderReason(mail) ?? findSenderReason(mail) ?? findSubjectReason(mail) ?? findOpeningReason(mail);
  return reason ? { reason, form: 'delivery-report' } : undefined;
}

function findHeaderReason(mail: ParsedMail): string | undefined {
  if (hasDeliveryStatusPart(mail)) return 'message/delivery-status part';
  if (hasHeader(mail, 'x-ms-exchange-message-is-ndr')) return 'X-MS-Exchange-Message-Is-Ndr header';
  if (headerValues(mail, 'x-failed-recipients').some((value) => value !== '')) return 'X-Failed-Recipients header';
  return undefined;
}

/**
 * Names a mail-server sender. A From of MAILER-DAEMON or postmaster alone counts, because
 * people rarely write from those mailboxes. A null Return-Path alone does not, because
 * RFC 3834 auto-replies use one too, so it is an auto-reply sign instead.
 */
function findSenderReason(mail: ParsedMail): string | undefined {
  const sender = fromMailbox(mail);
  const local = localPartOf(sender.address || sender.name);
  if (DAEMON_LOCAL_PARTS.has(local)) return `From: ${local}`;
  if (DAEMON_DISPLAY_NAME.test(sender.name)) return `From name: ${sender.name}`;

  const returnPath = firstHeaderValue(mail, 'return-path') ?? '';
  const returnLocal = localPartOf(returnPath.replace(/[<>]/g, '').trim().toLowerCase());
  if (returnLocal === 'mailer-daemon') return 'Return-Path: mailer-daemon';
  return undefined;
}

function findSubjectReason(mail: ParsedMail): string | undefined {
  const subject = subjectOf(mail);
  const match = BOUNCE_SUBJECTS.find(([, pattern]) => pattern.test(subject));
  return match ? `subject: ${match[0]}` : undefined;
}

function findOpeningReason(mail: ParsedMail): string | undefined {
  const opening = bodyText(mail).slice(0, 500);
  return BOUNCE_OPENINGS.find(([, pattern]) => pattern.test(opening))?.[0];
}

/** Returns the notificationType of an Amazon SES notification sent through Amazon SNS. */
function sesNotificationType(mail: ParsedMail): string | undefined {
  const fromSns = hasHeader(mail, 'x-amz-sns-message-id') || fromMailbox(mail).address.endsWith('@sns.amazonaws.com');
  return fromSns ? parseSesNotification(bodyText(mail))?.type : undefined;
}

/**
 * Builds the details from the RFC 3464 fields when the report has them, and otherwise from
 * X-Failed-Recipients and the notice text. Without RFC 3464 fields a bounce counts as
 * permanent unless its subject or notice reads as a delay warning.
 */
function bounceDetails(mail: ParsedMail): BounceDetails {
  const originalMessageId = findOriginalMessageId(mail);
  const summary = summarizeStatuses(collectRecipientStatuses(mail));
  const text = bodyText(mail);

  let failedRecipients = summary.failedRecipients;
  if (failedRecipients.length === 0) failedRecipients = failedRecipientsHeader(mail);
  if (failedRecipients.length === 0) failedRecipients = recipientsFromText(text);

  const permanent = summary.permanent ?? !isDelayNotice(subjectOf(mail), text);
  return { ...(originalMessageId ? { originalMessageId } : {}), failedRecipients, permanent };
}

/** Builds the details of an abuse report (RFC 5965), which names no failed delivery, only the message it complains about. */
function feedbackDetails(mail: ParsedMail): BounceDetails {
  const originalMessageId = findOriginalMessageId(mail);
  return { ...(originalMessageId ? { originalMessageId } : {}), failedRecipients: [], permanent: false };
}

function sesDetails(text: string): BounceDetails {
  const ses = parseSesNotification(text);
  if (!ses) return { failedRecipients: [], permanent: false };

  const permanent = ses.type === 'Bounce' && ses.permanent;
  return { ...(ses.messageId ? { originalMessageId: ses.messageId } : {}), failedRecipients: ses.recipients, permanent };
}

/** Reads X-Failed-Recipients, which Exim and Gmail set to a comma-separated address list. */
function failedRecipientsHeader(mail: ParsedMail): string[] {
  const addresses = headerValues(mail, 'x-failed-recipients')
    .flatMap((value) => value.split(/[,\s]+/))
    .map((value) => value.replace(/^<|>$/g, ''))
    .filter((value) => value.includes('@'));
  return uniqueAddresses(addresses);
}
