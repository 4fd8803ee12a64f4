import { simpleParser, type ParsedMail } from 'mailparser';

export type { ParsedMail } from 'mailparser';

/**
 * Parse a raw message. mailparser's own HTML-to-text and text-to-HTML conversions
 * are switched off, because they are half the cost of a small message and can block
 * the event loop for minutes on one huge part. The reply extractor converts HTML
 * itself, with an input cap. Delivery-status parts are kept for the classifier.
 */
export async function parseMessage(raw: Buffer): Promise<ParsedMail> {
  return simpleParser(raw, {
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipImageLinks: true,
    skipTextLinks: true,
    keepDeliveryStatus: true,
  });
}

/** Return the first address of an address header, lower-cased, with its display name. */
export function firstAddress(field: ParsedMail['from'] | ParsedMail['replyTo']): { address: string; name: string } | null {
  for (const group of asList(field)) {
    for (const entry of group.value) {
      if (entry.address) return { address: entry.address.toLowerCase(), name: entry.name ?? '' };
      for (const member of entry.group ?? []) {
        if (member.address) return { address: member.address.toLowerCase(), name: member.name ?? '' };
      }
    }
  }
  return null;
}

/** List every address in To, Cc, Delivered-To and X-Original-To, where forwarding may have moved a thread token. */
export function headerRecipients(mail: ParsedMail): string[] {
  const addresses: string[] = [];
  for (const field of [mail.to, mail.cc]) {
    for (const group of asList(field)) {
      for (const entry of group.value) {
        if (entry.address) addresses.push(entry.address.toLowerCase());
        for (const member of entry.group ?? []) if (member.address) addresses.push(member.address.toLowerCase());
      }
    }
  }
  for (const line of mail.headerLines) {
    if (line.key !== 'delivered-to' && line.key !== 'x-original-to') continue;
    const value = line.line.slice(line.line.indexOf(':') + 1).trim();
    const match = /<?([^<>\s]+@[^<>\s]+)>?/.exec(value);
    if (match) addresses.push(match[1]!.toLowerCase());
  }
  return addresses;
}

/** Message-IDs from In-Reply-To and References, nearest ancestor first, without brackets. */
export function referencedMessageIds(mail: ParsedMail): string[] {
  const references = asList(mail.references);
  const ids = [...(mail.inReplyTo ? [mail.inReplyTo] : []), ...references.slice().reverse()];
  const result: string[] = [];
  for (const value of ids) {
    for (const match of value.matchAll(/<([^<>\s]+)>/g)) {
      if (!result.includes(match[1]!)) result.push(match[1]!);
    }
    if (!value.includes('<') && value.trim() && !result.includes(value.trim())) result.push(value.trim());
  }
  return result;
}

/** Turn mailparser's one-or-many header values into a list. */
function asList<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
