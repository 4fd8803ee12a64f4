import type { HelpdeskAddress } from '../config/index.js';

/** Relation of a recipient address to the helpdesk. */
export interface RecipientMatch {
  /** The helpdesk address it was sent to, or null for a catch-all domain. */
  helpdesk: HelpdeskAddress | null;
  /** The text after `+` in the local part, if any: a thread token or a tag. */
  detail: string | null;
}

/** Split `local+detail@domain`; returns null for something that is not an address. */
export function splitAddress(address: string): { local: string; detail: string | null; domain: string } | null {
  const match = /^([^@\s]+)@([^@\s]+)$/.exec(address.trim().toLowerCase().replace(/^<|>$/g, ''));
  if (!match) return null;
  const [localPart = '', domain = ''] = [match[1], match[2]];
  const plus = localPart.indexOf('+');
  return plus === -1 ? { local: localPart, detail: null, domain } : { local: localPart.slice(0, plus), detail: localPart.slice(plus + 1), domain };
}

/**
 * Match an address against the helpdesk's own addresses, plus-addressed forms
 * included. Returns null for any address that is not ours, so the SMTP server can
 * reject it at RCPT and never relay.
 */
export function matchHelpdeskAddress(address: string, addresses: readonly HelpdeskAddress[], catchAllDomains: readonly string[]): RecipientMatch | null {
  const parts = splitAddress(address);
  if (!parts) return null;

  const helpdesk = addresses.find((entry) => entry.localPart === parts.local && entry.domain === parts.domain);
  if (helpdesk) return { helpdesk, detail: parts.detail };
  if (catchAllDomains.includes(parts.domain)) return { helpdesk: null, detail: parts.detail };
  return null;
}

/** Build the reply address that carries a thread token. */
export function formatTokenAddress(helpdesk: HelpdeskAddress, token: string): string {
  return `${helpdesk.localPart}+${token}@${helpdesk.domain}`;
}

/** Find `[#1042]` in a subject. Returns the task number or null. */
export function parseSubjectTag(subject: string): number | null {
  const match = /\[#(\d{1,10})\]/.exec(subject);
  return match ? Number(match[1]) : null;
}

/** Remove our tag and reply or forward prefixes, for a new task's subject. */
export function cleanSubject(subject: string): string {
  return subject
    .replace(/\[#\d{1,10}\]/g, '')
    .replace(/^\s*((re|fwd?|aw|wg|sv|vs|antw|odp|rif|tr|r)\s*(\[\d+\])?\s*:\s*)+/i, '')
    .replace(/\s+/g, ' ')
    .trim();
}
