import { randomBytes } from 'node:crypto';
import type { OutgoingMessage } from './smtp-client.js';

// Synthetic but realistic inbound mail for the SMTP bench: trace headers, a DKIM
// signature, a plain-text customer request, and optionally one PDF attachment.
// Every message has its own Message-ID and attachment bytes, so Postdesk neither
// treats one as a duplicate of another nor shares one stored attachment file.

/** The helpdesk address the bench mails (accepted by the test configuration). */
export const BENCH_RECIPIENT = 'support@example.test';

const SENDER_COUNT = 50;
const FIRST_NAMES = ['Ana', 'Bram', 'Chiara', 'Dmitri', 'Elif', 'Femi', 'Greta', 'Hiro', 'Ines', 'Jonas'];
const SUBJECTS = ['Invoice shows the wrong VAT number', 'Cannot log in after the password reset', 'Order arrived damaged', 'Question about the annual plan', 'Export to CSV times out'];

/** The size of the attachment in `attachment` messages before base64: 200 KiB. */
export const ATTACHMENT_BYTES = 200 * 1024;

/** Decoded attachment size that makes a message of about 25 MiB once base64-encoded. */
export const HUGE_ATTACHMENT_BYTES = 19_100_000;

/** The kinds of message the bench sends. */
export type MessageKind = 'small' | 'attachment' | 'huge';

/** Builds numbered messages of one kind for one bench run. */
export class MessageFactory {
  private readonly runId = randomBytes(4).toString('hex');
  private attachmentBlock: Buffer | null = null;

  /** Build message `index` of `kind`. */
  build(kind: MessageKind, index: number): OutgoingMessage {
    const sender = index % SENDER_COUNT;
    const from = `customer${sender}@example.org`;
    const headers = this.headers(kind, index, from, FIRST_NAMES[sender % FIRST_NAMES.length]!);
    if (kind === 'small') {
      return { from, to: BENCH_RECIPIENT, raw: Buffer.from(`${headers}Content-Type: text/plain; charset=utf-8; format=flowed\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${requestText(index)}`, 'utf8') };
    }

    const size = kind === 'huge' ? HUGE_ATTACHMENT_BYTES : ATTACHMENT_BYTES;
    const boundary = `----=_Part_${this.runId}_${index}`;
    const parts = [
      `${headers}Content-Type: multipart/mixed; boundary="${boundary}"\r\n\r\nThis is a multi-part message in MIME format.\r\n`,
      `--${boundary}\r\nContent-Type: text/plain; charset=utf-8; format=flowed\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${requestText(index)}`,
      `--${boundary}\r\nContent-Type: application/pdf; name="scan-${index}.pdf"\r\nContent-Disposition: attachment; filename="scan-${index}.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n`,
    ];
    const body = wrapBase64(this.attachment(size, index));
    return { from, to: BENCH_RECIPIENT, raw: Buffer.concat([Buffer.from(parts.join(''), 'utf8'), body, Buffer.from(`--${boundary}--\r\n`, 'latin1')]) };
  }

  private headers(kind: MessageKind, index: number, from: string, name: string): string {
    const date = new Date().toUTCString().replace('GMT', '+0000');
    const queueId = `${this.runId}${index.toString(36)}`;
    return [
      `Received: from mail-out.example.org (mail-out.example.org [192.0.2.25])\r\n\tby mx.example.test with ESMTPS id ${queueId}\r\n\tfor <${BENCH_RECIPIENT}>; ${date}`,
      `Received: from [10.0.0.${(index % 250) + 1}] (unknown [198.51.100.${(index % 250) + 1}])\r\n\tby mail-out.example.org with ESMTPSA id ${queueId}a; ${date}`,
      `DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=mail2025;\r\n\tt=1741083302; h=from:to:subject:date:message-id:mime-version;\r\n\tbh=${randomBytes(32).toString('base64')};\r\n\tb=${foldBase64(randomBytes(256).toString('base64'))}`,
      `From: ${name} Example <${from}>`,
      `To: Support <${BENCH_RECIPIENT}>`,
      `Subject: ${SUBJECTS[index % SUBJECTS.length]} (ref ${kind}-${index})`,
      `Date: ${date}`,
      `Message-ID: <${this.runId}.${kind}.${index}@mail-out.example.org>`,
      'MIME-Version: 1.0',
      'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.7.1',
      '',
    ].join('\r\n');
  }

  /** Random bytes shared by all attachments of a run, made unique by the index in the first 8 bytes. */
  private attachment(size: number, index: number): Buffer {
    if (!this.attachmentBlock || this.attachmentBlock.length < size) this.attachmentBlock = randomBytes(size);
    const bytes = Buffer.from(this.attachmentBlock.subarray(0, size));
    bytes.writeBigUInt64BE(BigInt(index), 0);
    return bytes;
  }
}

function requestText(index: number): string {
  const order = 100_000 + index;
  return [
    'Hello,',
    '',
    `I am writing about order ${order}, placed on our company account last week. The `,
    'confirmation mail listed the correct items, but the invoice we received this ',
    'morning shows a different billing address and the old VAT number of our ',
    'Munich office, which closed in January. Our accounting team cannot book it ',
    'like this, so the payment is on hold until we have a corrected copy.',
    '',
    'Could you please send a corrected invoice with the billing address below? We ',
    'would also like to know whether the delivery date of 14 March still holds, ',
    'since two of the items were marked as back-ordered in the shop.',
    '',
    '    Example GmbH',
    '    Accounts payable',
    '    Musterstraße 12',
    '    10115 Berlin',
    '',
    'Thanks in advance, and best regards,',
    'Grüße aus Berlin',
    '',
    '-- ',
    'Example GmbH · Accounts payable · +49 30 0000000',
    '',
  ].join('\r\n');
}

/** Base64 with a CRLF after every 76 characters (RFC 2045, section 6.8). */
function wrapBase64(bytes: Buffer): Buffer {
  const encoded = bytes.toString('base64');
  const lines = Math.ceil(encoded.length / 76);
  const output = Buffer.allocUnsafe(encoded.length + lines * 2);
  let offset = 0;
  for (let start = 0; start < encoded.length; start += 76) {
    offset += output.write(encoded.slice(start, start + 76), offset, 'latin1');
    offset += output.write('\r\n', offset, 'latin1');
  }
  return output.subarray(0, offset);
}

function foldBase64(value: string): string {
  return value.match(/.{1,72}/g)!.join('\r\n\t ');
}
