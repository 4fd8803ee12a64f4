import { randomUUID } from 'node:crypto';

/** Fields of a hand-written test message. */
export interface HandwrittenMessage {
  from: string;
  to: string;
  subject: string;
  text: string;
  messageId?: string;
  inReplyTo?: string;
  headers?: Record<string, string>;
}

/**
 * Build a small hand-written RFC 5322 message with CRLF line endings. Tests that need
 * real client output use the .eml files in test/fixtures instead.
 */
export function handwrittenMessage(fields: HandwrittenMessage): { raw: string; messageId: string } {
  const messageId = fields.messageId ?? `${randomUUID()}@client.example.test`;
  const headers: Record<string, string> = {
    From: fields.from,
    To: fields.to,
    Subject: fields.subject,
    Date: new Date().toUTCString(),
    'Message-ID': `<${messageId}>`,
    'MIME-Version': '1.0',
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Transfer-Encoding': '8bit',
    ...(fields.inReplyTo ? { 'In-Reply-To': `<${fields.inReplyTo}>`, References: `<${fields.inReplyTo}>` } : {}),
    ...fields.headers,
  };
  const head = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}`)
    .join('\r\n');
  return { raw: `${head}\r\n\r\n${fields.text.replace(/\r?\n/g, '\r\n')}\r\n`, messageId };
}
