import { uniqueAddresses } from './delivery-status.js';

/**
 * Lines that start the returned copy of the original message, or the machine-readable
 * fields, inside a bounce's text. Prose after them is not the server's own notice.
 */
const RETURNED_COPY_MARKERS: readonly RegExp[] = [
  /^-*\s*Below this line is a copy of the message/im, // qmail
  /^-*\s*This is a copy of the message/im, // Exim
  /^-*\s*Original message\s*-*\s*$/im, // Gmail
  /^Original message headers:/im, // Exchange and Office 365
  /^Message headers follow/im, // DragonFly Mail Agent
  /^Reporting-MTA\s*:/im, // start of RFC 3464 fields appended by mailparser
];

/**
 * Lines that introduce a list of failed addresses: "Delivery to the following recipient
 * failed permanently:" (Gmail), "was not delivered to:" (Domino), and Sendmail-style
 * banners such as "----- The following addresses had permanent fatal errors -----".
 */
const ADDRESS_LIST_INTROS: readonly RegExp[] = [
  /\b(?:recipients?|address(?:es)?|addressees?)\b[^\n]*:[ \t]*$/i,
  /\bnot (?:be )?(?:delivered|reach)\b[^\n]*:[ \t]*$/i,
  /^[ \t]*-+[ \t]*The following address(?:es)? had\b/i,
];

/**
 * A line that starts with an address, after an optional bullet (`*`, `--`, `>>>`) and
 * quote or bracket. What follows the address (Exchange's `<mailto:…>` echo, a date, a
 * reason in brackets) is ignored.
 */
const ADDRESS_LINE_START = /^[ \t]*(?:[*•]|-{1,2}|>>>)?[ \t]*["<]?([^<>"\s@]+@[^<>"\s:,;]+?)[">]?(?=[\s:<\[(,;]|$)/;

/** Sendmail transcript lines: `554 <user@example.org>... User unknown`. */
const SENDMAIL_TRANSCRIPT_LINE = /^(?:[45]\d\d[ -])?<([^<>\s@]+@[^<>\s]+)>\.\.\.[ \t]/gm;

/** Postfix and qmail start each failed recipient's paragraph with `<address>:`. */
const BRACKETED_RECIPIENT_LINE = /^<([^<>\s@]+@[^<>\s]+)>:/gm;

/** "There was an error delivering your mail to <…>" (DragonFly), "Could not be delivered to: <…>" (au one net). */
const DELIVERED_TO_ADDRESS = /\bdeliver(?:ed|ing)?\s+(?:your\s+(?:mail|message)\s+)?to:?\s*<([^<>\s@]+@[^<>\s]+)>/gi;

/** Words of a delay warning, in the subject or the notice, as opposed to a final failure. */
const DELAY_WORDS =
  /\b(?:delayed|delay|still being retried|will be retried|not yet been delivered|warning message only|could not send message for past|temporary failure)\b/i;

/** Maximum lines read after an intro line, so a stray intro cannot pull in addresses far below it. */
const MAX_LINES_AFTER_INTRO = 12;

/**
 * Maximum length of a line tested as an intro line. Server notices use short lines, and the
 * cap keeps the backtracking of the intro patterns small on a hostile single-line body.
 */
const MAX_INTRO_LINE_LENGTH = 500;

/** Returns the server's own notice: the text before the returned message or the report fields. */
export function humanReadablePart(text: string): string {
  let end = text.length;
  for (const marker of RETURNED_COPY_MARKERS) {
    const index = text.search(marker);
    if (index !== -1 && index < end) end = index;
  }
  return text.slice(0, end);
}

/**
 * Finds failed recipients in the prose of a bounce that has no delivery-status fields.
 * Only the server's notice is read, so addresses in the returned message never count.
 */
export function recipientsFromText(text: string): string[] {
  const notice = humanReadablePart(text);
  const found: string[] = [];

  for (const match of notice.matchAll(BRACKETED_RECIPIENT_LINE)) {
    if (match[1]) found.push(match[1]);
  }
  for (const match of notice.matchAll(DELIVERED_TO_ADDRESS)) {
    if (match[1]) found.push(match[1]);
  }
  for (const match of notice.matchAll(SENDMAIL_TRANSCRIPT_LINE)) {
    if (match[1]) found.push(match[1]);
  }
  found.push(...introducedAddresses(notice));

  return uniqueAddresses(found);
}

/** Returns whether the subject or the notice reads as a delay warning rather than a final failure. */
export function isDelayNotice(subject: string, text: string): boolean {
  return DELAY_WORDS.test(subject) || DELAY_WORDS.test(humanReadablePart(text));
}

/** Fields of an Amazon SES notification that Amazon SNS delivered as e-mail. */
export interface SesNotification {
  /** `notificationType`: Bounce, Complaint or Delivery. */
  type: string;
  /** `bouncedRecipients[].emailAddress`, empty for other notification types. */
  recipients: string[];
  /** True when `bounceType` is Permanent. */
  permanent: boolean;
  /** `mail.commonHeaders.messageId` when the notification includes it. */
  messageId?: string;
}

/**
 * Reads an Amazon SES notification from its JSON body. Regexes are used instead of
 * JSON.parse because mail transport may wrap long lines inside JSON strings.
 */
export function parseSesNotification(text: string): SesNotification | undefined {
  const type = /"notificationType"\s*:\s*"(\w+)"/.exec(text)?.[1];
  if (!type) return undefined;

  // The bounded repeats keep a hostile body with many unclosed lists from costing quadratic time.
  const bounced = /"bouncedRecipients"\s*:\s*\[([^\]]{0,20000})\]/.exec(text)?.[1] ?? '';
  const recipients = [...bounced.matchAll(/"emailAddress"\s*:\s*"([^"\s]+)"/g)].flatMap((match) => (match[1] ? [match[1]] : []));
  const permanent = /"bounceType"\s*:\s*"Permanent"/.test(text);
  const messageId = /"commonHeaders"\s*:\s*\{[^{}]{0,5000}?"messageId"\s*:\s*"<?([^"<>\s]+)>?"/.exec(text)?.[1];

  return { type, recipients: uniqueAddresses(recipients), permanent, ...(messageId ? { messageId: `<${messageId}>` } : {}) };
}

/** Collects the lines that start with an address after an intro line, until a blank line ends the list. */
function introducedAddresses(notice: string): string[] {
  const lines = notice.split('\n');
  const found: string[] = [];

  lines.forEach((line, index) => {
    if (line.length > MAX_INTRO_LINE_LENGTH) return;
    if (!ADDRESS_LIST_INTROS.some((intro) => intro.test(line))) return;

    let inList = false;
    for (const next of lines.slice(index + 1, index + 1 + MAX_LINES_AFTER_INTRO)) {
      const address = ADDRESS_LINE_START.exec(next)?.[1];
      if (address) {
        found.push(address);
        inList = true;
      } else if (next.trim() === '' && inList) {
        break;
      }
    }
  });
  return found;
}
