import type { ParsedMail } from 'mailparser';
import { firstHeaderValue, hasHeader, headerToken } from './mail-fields.js';

/** RFC 2369 and RFC 2919 list headers, other than List-Id, that list software adds. */
const LIST_FIELD_HEADERS = ['List-Unsubscribe', 'List-Post', 'List-Help', 'List-Subscribe', 'List-Archive', 'List-Owner'];

/** Returns whether the message carries List-Id, Mailing-List or any RFC 2369 List-* header. */
export function hasListHeaders(mail: ParsedMail): boolean {
  return hasHeader(mail, 'list-id') || hasHeader(mail, 'mailing-list') || LIST_FIELD_HEADERS.some((name) => hasHeader(mail, name));
}

/**
 * Names the sign that marks a message as mailing-list traffic, or returns undefined.
 * List-Unsubscribe alone is not a sign, because newsletters and transactional mail from
 * one sender carry it too. It counts together with Precedence: bulk or list.
 */
export function findListReason(mail: ParsedMail): string | undefined {
  if (hasHeader(mail, 'list-id')) return 'List-Id header';
  // ezmlm and Yahoo Groups name the list in Mailing-List instead of List-Id.
  if (hasHeader(mail, 'mailing-list')) return 'Mailing-List header';

  const precedence = headerToken(firstHeaderValue(mail, 'precedence') ?? '');
  if (precedence === 'list') return 'Precedence: list';

  const listField = LIST_FIELD_HEADERS.find((name) => hasHeader(mail, name));
  if (precedence === 'bulk' && listField) return `${listField} with Precedence: bulk`;

  return undefined;
}
