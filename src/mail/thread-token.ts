import { createHmac, timingSafeEqual } from 'node:crypto';

/** Contents of a valid thread token: the task and the person it was issued to. */
export interface ThreadToken {
  taskId: number;
  userId: number;
}

/** Length of the MAC part, in base32 characters (5 bits each: 80 bits). */
const MAC_LENGTH = 16;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const TOKEN_PATTERN = /^(\d{1,10})-(\d{1,10})-([a-z2-7]{16})$/;

/**
 * Create the token for `support+<token>@domain`. It is lower case because some mail
 * servers fold the case of local parts, and it uses only characters that RFC 5321
 * allows unquoted in a local part.
 */
export function createThreadToken(secret: Buffer, token: ThreadToken): string {
  return `${token.taskId}-${token.userId}-${computeMac(secret, token)}`;
}

/** Verify a token; returns what it names, or null when it is malformed, altered or forged. */
export function verifyThreadToken(secret: Buffer, text: string): ThreadToken | null {
  const match = TOKEN_PATTERN.exec(text.toLowerCase());
  if (!match) return null;

  const token = { taskId: Number(match[1]), userId: Number(match[2]) };
  const expected = Buffer.from(computeMac(secret, token));
  const actual = Buffer.from(match[3]!);
  return timingSafeEqual(expected, actual) ? token : null;
}

function computeMac(secret: Buffer, token: ThreadToken): string {
  const digest = createHmac('sha256', secret).update(`thread:${token.taskId}:${token.userId}`).digest();
  let bits = 0;
  let value = 0;
  let output = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && output.length < MAC_LENGTH) {
      output += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (output.length === MAC_LENGTH) break;
  }
  return output;
}
