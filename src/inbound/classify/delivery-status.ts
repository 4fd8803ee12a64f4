import type { ParsedMail } from 'mailparser';
import { attachmentText, attachmentsOfType, bodyText } from './mail-fields.js';

/** One per-recipient field group of an RFC 3464 delivery-status report. */
export interface RecipientStatus {
  /** Original-Recipient when the report gives it, otherwise Final-Recipient. */
  recipient: string;
  /** Action field in lower case: failed, delayed, delivered, relayed or expanded. */
  action?: string;
  /** Enhanced status code (RFC 3463), such as `5.1.1`. */
  status?: string;
}

/** Outcome of a report for the message it reports on. */
export interface RecipientSummary {
  failedRecipients: string[];
  /** Undefined when no recipient group carries an Action or a Status. */
  permanent?: boolean;
}

const DELIVERY_STATUS_TYPES = ['message/delivery-status', 'message/global-delivery-status'];
const RETURNED_MESSAGE_TYPES = ['message/rfc822', 'text/rfc822-headers', 'message/rfc822-headers', 'message/global', 'message/global-headers'];
const SUCCESS_ACTIONS = new Set(['delivered', 'relayed', 'expanded']);

/**
 * Parses the per-recipient field groups of delivery-status text. Groups are separated by
 * blank lines (RFC 3464 section 2.1), and only groups with a Final-Recipient or
 * Original-Recipient field count, so prose around the fields is ignored.
 */
export function parseDeliveryStatus(text: string): RecipientStatus[] {
  const groups = text.replace(/\r\n?/g, '\n').split(/\n[ \t]*\n/);
  const statuses: RecipientStatus[] = [];

  for (const group of groups) {
    const fields = parseFields(group.replace(/\n[ \t]+/g, ' '));
    const recipient = recipientAddress(fields.get('original-recipient')) ?? recipientAddress(fields.get('final-recipient'));
    if (!recipient) continue;

    const action = fields.get('action')?.trim().split(/\s/, 1)[0]?.toLowerCase();
    const status = /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(fields.get('status') ?? '')?.[1];
    statuses.push({ recipient, ...(action ? { action } : {}), ...(status ? { status } : {}) });
  }
  return statuses;
}

/**
 * Collects the recipient groups of every delivery-status part. The parts are attachments
 * when the parser ran with `keepDeliveryStatus`, and part of the text body otherwise.
 */
export function collectRecipientStatuses(mail: ParsedMail): RecipientStatus[] {
  const statuses = attachmentsOfType(mail, DELIVERY_STATUS_TYPES).flatMap((part) => parseDeliveryStatus(attachmentText(part)));
  if (statuses.length > 0) return statuses;
  return parseDeliveryStatus(bodyText(mail));
}

/** Returns whether the message has a delivery-status MIME part that the parser kept as an attachment. */
export function hasDeliveryStatusPart(mail: ParsedMail): boolean {
  return attachmentsOfType(mail, DELIVERY_STATUS_TYPES).length > 0;
}

/**
 * Summarizes recipient groups. Recipients that were delivered, relayed or expanded are not
 * failures. The report is permanent when any group has Action `failed` or a 5.x.x Status.
 */
export function summarizeStatuses(statuses: readonly RecipientStatus[]): RecipientSummary {
  const failed = statuses.filter((entry) => !isSuccess(entry));
  const failedRecipients = uniqueAddresses(failed.map((entry) => entry.recipient));

  const withOutcome = statuses.filter((entry) => entry.action !== undefined || entry.status !== undefined);
  if (withOutcome.length === 0) return { failedRecipients };

  const permanent = withOutcome.some((entry) => entry.action === 'failed' || entry.status?.startsWith('5.') === true);
  return { failedRecipients, permanent };
}

/**
 * Finds the Message-ID of the message a report is about: first in an attached
 * message/rfc822 or text/rfc822-headers part, then in returned headers quoted in the
 * text body (qmail, Exim and Exchange quote them inline). Last come kept delivery-status
 * parts, which swallow the returned headers when a report repeats a wrong boundary.
 */
export function findOriginalMessageId(mail: ParsedMail): string | undefined {
  for (const part of attachmentsOfType(mail, RETURNED_MESSAGE_TYPES)) {
    const messageId = messageIdInHeaders(headerSection(attachmentText(part)));
    if (messageId) return messageId;
  }

  const inText = messageIdInHeaders(bodyText(mail));
  if (inText) return inText;

  for (const part of attachmentsOfType(mail, DELIVERY_STATUS_TYPES)) {
    const messageId = messageIdInHeaders(attachmentText(part));
    if (messageId) return messageId;
  }
  return undefined;
}

/** Returns `addresses` without duplicates, compared case-insensitively, first spelling kept. */
export function uniqueAddresses(addresses: readonly string[]): string[] {
  const seen = new Set<string>();
  const unique: string[] = [];
  for (const address of addresses) {
    const key = address.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(address);
  }
  return unique;
}

function isSuccess(entry: RecipientStatus): boolean {
  if (entry.action !== undefined) return SUCCESS_ACTIONS.has(entry.action);
  return entry.status?.startsWith('2.') === true;
}

function parseFields(group: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of group.split('\n')) {
    const match = /^\s*([A-Za-z][A-Za-z0-9-]*)\s*:(.*)$/.exec(line);
    if (!match?.[1]) continue;
    const name = match[1].toLowerCase();
    if (!fields.has(name)) fields.set(name, (match[2] ?? '').trim());
  }
  return fields;
}

/** Strips the address type (`rfc822;`) and angle brackets from a recipient field. */
function recipientAddress(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const semicolon = value.indexOf(';');
  const address = (semicolon === -1 ? value : value.slice(semicolon + 1)).trim().replace(/^<|>$/g, '').trim();
  return address.includes('@') && !/\s/.test(address) ? address : undefined;
}

/** Returns the header block of a returned message: leading blank lines skipped, cut at the first blank line. */
function headerSection(text: string): string {
  const start = text.replace(/^\s*\n/, '');
  const end = start.search(/\n[ \t]*\n/);
  return end === -1 ? start : start.slice(0, end);
}

function messageIdInHeaders(text: string): string | undefined {
  const match = /^[ \t]*message-id[ \t]*:[ \t]*(?:\n[ \t]+)?<?([^<>\s@]+@[^<>\s]+?)>?[ \t]*$/im.exec(text);
  return match?.[1] ? `<${match[1]}>` : undefined;
}
