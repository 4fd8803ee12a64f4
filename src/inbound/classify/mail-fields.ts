import type { ParsedMail } from 'mailparser';

/**
 * Maximum number of body characters that the text heuristics scan. Report fields and
 * failure notices sit near the top of a message, and the cap bounds regex work on a
 * hostile multi-megabyte body.
 */
export const MAX_SCANNED_TEXT = 100_000;

/**
 * Returns the unfolded values of every occurrence of a header, in message order.
 * Reads `headerLines` because `mail.headers` keeps only the first value of some headers.
 */
export function headerValues(mail: ParsedMail, name: string): string[] {
  const key = name.toLowerCase();
  const values: string[] = [];

  for (const { key: lineKey, line } of mail.headerLines ?? []) {
    if (lineKey !== key) continue;
    const colon = line.indexOf(':');
    values.push(line.slice(colon + 1).replace(/\r?\n[ \t]+/g, ' ').trim());
  }
  return values;
}

/** Returns the first value of a header, unfolded, or undefined when the header is missing. */
export function firstHeaderValue(mail: ParsedMail, name: string): string | undefined {
  return headerValues(mail, name)[0];
}

/** Returns whether the message has the header, whatever its value. */
export function hasHeader(mail: ParsedMail, name: string): boolean {
  const key = name.toLowerCase();
  return (mail.headerLines ?? []).some((entry) => entry.key === key);
}

/**
 * Returns the first token of a header value in lower case, without parameters or
 * comments: `auto-generated (failure)` gives `auto-generated`.
 */
export function headerToken(value: string): string {
  return value.trim().split(/[\s;(]/, 1)[0]?.toLowerCase() ?? '';
}

/** Media type of the message body in lower case, with its parameters (names in lower case). */
export interface MediaType {
  type: string;
  params: Record<string, string>;
}

/** Returns the top-level media type, or `text/plain` as RFC 2045 assumes when the header is missing. */
export function messageMediaType(mail: ParsedMail): MediaType {
  const header = mail.headers?.get('content-type');
  const structured = Array.isArray(header) ? header[0] : header;

  if (structured && typeof structured === 'object' && 'value' in structured && typeof structured.value === 'string') {
    const params: Record<string, string> = {};
    const rawParams = 'params' in structured ? structured.params : {};
    for (const [name, value] of Object.entries(rawParams ?? {})) {
      params[name.toLowerCase()] = String(value).toLowerCase();
    }
    return { type: structured.value.toLowerCase(), params };
  }
  return { type: 'text/plain', params: {} };
}

/** First mailbox of the From header, both fields lower-cased and empty when missing. */
export interface Sender {
  name: string;
  address: string;
}

/** Returns the first mailbox of the From header. */
export function fromMailbox(mail: ParsedMail): Sender {
  const first = mail.from?.value?.[0];
  return {
    name: (first?.name ?? '').trim().toLowerCase(),
    address: (first?.address ?? '').trim().toLowerCase(),
  };
}

/** Returns the part of an address before the last `@`, or the whole value when it has none. */
export function localPartOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at === -1 ? address : address.slice(0, at);
}

/** Returns the lower-cased part of an address or Message-ID after the last `@`, without brackets. */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  if (at === -1) return '';
  return address.slice(at + 1).replace(/>.*$/, '').trim().toLowerCase();
}

/** Returns the decoded subject in NFC form, so that accented patterns match precomposed letters. */
export function subjectOf(mail: ParsedMail): string {
  return (mail.subject ?? '').normalize('NFC').trim();
}

/**
 * Returns the plain-text body, capped at {@link MAX_SCANNED_TEXT} characters, with CRLF
 * turned into LF. By default mailparser appends `message/delivery-status` parts to this text.
 */
export function bodyText(mail: ParsedMail): string {
  const text = typeof mail.text === 'string' ? mail.text : '';
  return text.slice(0, MAX_SCANNED_TEXT).replace(/\r\n?/g, '\n');
}

/** Returns the attachments whose media type is one of `types`. */
export function attachmentsOfType(mail: ParsedMail, types: readonly string[]): ParsedMail['attachments'] {
  return (mail.attachments ?? []).filter((attachment) => types.includes((attachment.contentType ?? '').toLowerCase()));
}

/** Decodes attachment content as text, capped at {@link MAX_SCANNED_TEXT} characters. */
export function attachmentText(attachment: ParsedMail['attachments'][number]): string {
  const content: unknown = attachment.content;
  if (!Buffer.isBuffer(content)) return '';
  return content.subarray(0, MAX_SCANNED_TEXT).toString('utf8').replace(/\r\n?/g, '\n');
}
