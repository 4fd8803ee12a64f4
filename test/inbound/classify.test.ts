import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { classifyMessage, LOOP_HEADER, type Classification, type ClassifyOptions } from '../../src/inbound/classify.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures');
const BOUNCES = path.join(FIXTURES, 'bounces');
const HANDWRITTEN = path.join(FIXTURES, 'handwritten');

const OPTIONS: ClassifyOptions = { instanceId: 'pd-7f3a9c', ownAddresses: ['support@helpdesk.example.com'] };

const corpusFiles = readdirSync(BOUNCES)
  .filter((name) => name.endsWith('.eml'))
  .sort();
const automaticFiles = corpusFiles.filter((name) => /^(?:lhost|arf|rfc3834)-/.test(name));
const deliveryReportFiles = corpusFiles.filter((name) => /^(?:lhost|rhost|rfc3464)-/.test(name) && name !== 'lhost-amazonses-13.eml');

async function classifyFile(directory: string, name: string, keepDeliveryStatus = false): Promise<Classification> {
  const mail = await simpleParser(await readFile(path.join(directory, name)), { keepDeliveryStatus });
  return classifyMessage(mail, OPTIONS);
}

async function classifySource(source: string, options: ClassifyOptions = OPTIONS): Promise<Classification> {
  return classifyMessage(await simpleParser(source), options);
}

/** Builds a small message from header lines, with From, To and Message-ID filled in when missing. */
function buildMessage(headers: readonly string[], body = 'Hello, I have a question about my order.'): string {
  const defaults = ['From: Customer <customer@example.org>', 'To: support@helpdesk.example.com', 'Message-ID: <m1@example.org>'];
  const names = new Set(headers.map((line) => line.slice(0, line.indexOf(':')).toLowerCase()));
  const missing = defaults.filter((line) => !names.has(line.slice(0, line.indexOf(':')).toLowerCase()));
  return [...missing, ...headers, 'MIME-Version: 1.0', '', body, ''].join('\r\n');
}

describe('classifyMessage on the bounce corpus', () => {
  it('never throws on an empty message', async () => {
    const mail = await simpleParser('');

    expect(classifyMessage(mail, OPTIONS).kind).toBe('normal');
  });

  it('never throws on any corpus file', async () => {
    expect(corpusFiles.length).toBeGreaterThan(150);

    for (const name of corpusFiles) {
      for (const keepDeliveryStatus of [false, true]) {
        const mail = await simpleParser(await readFile(path.join(BOUNCES, name)), { keepDeliveryStatus });
        expect(() => classifyMessage(mail, OPTIONS), name).not.toThrow();
      }
    }
  });

  it.each(automaticFiles)('treats %s as automatic mail', async (name) => {
    const result = await classifyFile(BOUNCES, name);

    expect(result.kind).not.toBe('normal');
  });

  it.each(deliveryReportFiles)('classifies %s as a bounce', async (name) => {
    const result = await classifyFile(BOUNCES, name);

    expect(result.kind).toBe('bounce');
    expect(result.bounce).toBeDefined();
  });

  it.each(['is-not-bounce-01.eml', 'is-not-bounce-02.eml'])('keeps %s normal', async (name) => {
    const result = await classifyFile(BOUNCES, name);

    expect(result.kind).toBe('normal');
  });

  it('treats rb-issue-368-bug.eml as automatic mail', async () => {
    const result = await classifyFile(BOUNCES, 'rb-issue-368-bug.eml');

    expect(result.kind).not.toBe('normal');
  });

  it.each(corpusFiles.filter((name) => name.startsWith('arf-')))('reports %s as a feedback-report bounce', async (name) => {
    const result = await classifyFile(BOUNCES, name);

    expect(result.kind).toBe('bounce');
    expect(result.reason).toContain('feedback-report');
    expect(result.bounce?.failedRecipients).toEqual([]);
  });

  it.each(['rfc3834-01.eml', 'rfc3834-05.eml'])('classifies %s as an auto-reply', async (name) => {
    const result = await classifyFile(BOUNCES, name);

    expect(result.kind).toBe('auto-reply');
    expect(result.reason).toBe('Auto-Submitted: auto-replied');
  });

  it('classifies an Amazon SES delivery notification as automatic', async () => {
    const result = await classifyFile(BOUNCES, 'lhost-amazonses-13.eml');

    expect(result.kind).toBe('auto-reply');
    expect(result.reason).toBe('Amazon SNS notification');
  });

  it('prefers the bounce over its Auto-Submitted header', async () => {
    const result = await classifyFile(BOUNCES, 'lhost-exim-01.eml');

    expect(result.kind).toBe('bounce');
    expect(result.reason).toBe('X-Failed-Recipients header');
  });
});

describe('bounce details', () => {
  // Each row was checked against the fields of the file itself.
  interface BounceCase {
    file: string;
    failedRecipients: string[];
    permanent: boolean;
    originalMessageId?: string;
  }

  const cases: BounceCase[] = [
    // Postfix: Action failed with a 4.x.x Status is still final.
    { file: 'lhost-postfix-05.eml', failedRecipients: ['kijitora@example.org'], permanent: true, originalMessageId: '<FFFFFFFF.0000000@example.co.jp>' },
    { file: 'lhost-postfix-13.eml', failedRecipients: ['kijitora@example.jp', 'noraneko@example.jp'], permanent: true },
    // Exim: no RFC 3464 part, so X-Failed-Recipients and the returned copy in the text count.
    { file: 'lhost-exim-01.eml', failedRecipients: ['kijitora@example.ed.jp'], permanent: true, originalMessageId: '<E1P1ce6-000Egt-GZ@e1.example.org>' },
    { file: 'lhost-exim-49.eml', failedRecipients: ['kijitora@example.com'], permanent: true },
    { file: 'lhost-exim-41.eml', failedRecipients: ['kijitora@example.net'], permanent: false }, // delay warning
    // Gmail: plain-text notices.
    { file: 'lhost-gmail-01.eml', failedRecipients: ['userunknown@example.jp'], permanent: true, originalMessageId: '<D992C2C3-F175-4C4D-97E2-53A90E4E5BF5@gmail.com>' },
    { file: 'lhost-gmail-09.eml', failedRecipients: ['kijitora@9jo.example.jp'], permanent: false }, // delay warning
    // Office 365: RFC 3464 report, and one whose delivery-status part is missing.
    { file: 'lhost-office365-05.eml', failedRecipients: ['kijitora@example.jp'], permanent: true },
    { file: 'lhost-office365-01.eml', failedRecipients: ['kijitora@example.com'], permanent: true, originalMessageId: '<FFFFFFFF.EEEEEEEE@example.ed.jp>' },
    // qmail: recipients as `<address>:` lines, returned message inline.
    { file: 'lhost-qmail-01.eml', failedRecipients: ['kijitora@example.ne.jp'], permanent: true, originalMessageId: '<000000000.9999999999999.JavaMail.postmaster@mailhub>' },
    { file: 'lhost-qmail-17.eml', failedRecipients: ['userunknown@libsisimai.net', 'mailboxfull@libsisimai.net'], permanent: true },
    // Amazon SES: RFC 3464 report, and the JSON notification sent through Amazon SNS.
    { file: 'lhost-amazonses-01.eml', failedRecipients: ['shironeko@example.co.jp'], permanent: true },
    { file: 'lhost-amazonses-09.eml', failedRecipients: ['bounce@simulator.amazonses.com'], permanent: true },
    // Sendmail: failure and delay reports.
    { file: 'lhost-sendmail-01.eml', failedRecipients: ['userunknown@bouncehammer.jp'], permanent: true, originalMessageId: '<E1C50F1B-1C83-4820-BC36-AC6FBFBE8568@example.org>' },
    { file: 'lhost-sendmail-29.eml', failedRecipients: ['this-local-part-does-not-exist-on-the-system@y-mobile.ne.jp'], permanent: false },
    // Original-Recipient wins over Final-Recipient when both are given.
    { file: 'rfc3464-09.eml', failedRecipients: ['kijitora-nyaaaaaan@example.co.jp'], permanent: false },
  ];

  it.each(cases)('reads $file', async ({ file, failedRecipients, permanent, originalMessageId }) => {
    const result = await classifyFile(BOUNCES, file);

    expect(result.kind).toBe('bounce');
    expect(result.bounce?.failedRecipients).toEqual(failedRecipients);
    expect(result.bounce?.permanent).toBe(permanent);
    if (originalMessageId) expect(result.bounce?.originalMessageId).toBe(originalMessageId);
  });

  it.each(['lhost-postfix-05.eml', 'lhost-office365-05.eml', 'lhost-sendmail-29.eml', 'rfc3464-09.eml', 'rhost-google-01.eml'])(
    'reads %s the same with keepDeliveryStatus',
    async (file) => {
      const fromText = await classifyFile(BOUNCES, file, false);
      const fromAttachment = await classifyFile(BOUNCES, file, true);

      expect(fromAttachment.kind).toBe(fromText.kind);
      expect(fromAttachment.bounce).toEqual(fromText.bounce);
    },
  );

  it('returns the original Message-ID of an abuse report', async () => {
    const result = await classifyFile(BOUNCES, 'arf-17.eml');

    expect(result.bounce?.originalMessageId).toBe('<EEEEEEEE-0000-0000-0000-EEEEEEEE2222@example.net>');
    expect(result.bounce?.permanent).toBe(false);
  });
});

describe('hand-written fixtures', () => {
  it('keeps Outlook mail with only X-Auto-Response-Suppress normal', async () => {
    const result = await classifyFile(HANDWRITTEN, 'handwritten-outlook-auto-response-suppress.eml');

    expect(result.kind).toBe('normal');
  });

  it('detects a German Abwesenheitsnotiz by its subject', async () => {
    const result = await classifyFile(HANDWRITTEN, 'handwritten-abwesenheitsnotiz.eml');

    expect(result.kind).toBe('auto-reply');
    expect(result.reason).toBe('subject: abwesenheitsnotiz');
  });

  it('classifies a message with List-Id as list', async () => {
    const result = await classifyFile(HANDWRITTEN, 'handwritten-mailing-list.eml');

    expect(result.kind).toBe('list');
    expect(result.reason).toBe('List-Id header');
  });

  it('classifies our own loop header as a loop', async () => {
    const result = await classifyFile(HANDWRITTEN, 'handwritten-postdesk-loop.eml');

    expect(result.kind).toBe('loop');
    expect(result.reason).toBe('X-Postdesk-Loop: own instance');
  });

  it('keeps Auto-Submitted: no normal', async () => {
    const result = await classifyFile(HANDWRITTEN, 'handwritten-auto-submitted-no.eml');

    expect(result.kind).toBe('normal');
  });
});

describe('auto-reply signs', () => {
  const subjects: ReadonlyArray<readonly [subject: string, label: string]> = [
    ['Out of Office: Invoice question', 'out of office'],
    ['Out of Office AutoReply: Invoice question', 'out of office'],
    ['Out of the office until 12 August', 'out of office'],
    ['Automatic reply: [#1042] Invoice question', 'automatic reply'],
    ['Auto-Reply: Invoice question', 'auto-reply'],
    ['Autoreply', 'auto-reply'],
    ['AutoReply: Invoice question', 'auto-reply'],
    ['Abwesenheitsnotiz', 'abwesenheitsnotiz'],
    ['Automatische Antwort: Rechnung', 'automatische antwort'],
    ['Réponse automatique : Facture', 'réponse automatique'],
    ['Absence du bureau', 'absence du bureau'],
    ['Absence : Facture', 'absence'],
    ['Respuesta automática: Factura', 'respuesta automática'],
    ['Fuera de la oficina', 'fuera de la oficina'],
    ['Risposta automatica: Fattura', 'risposta automatica'],
    ['Automatisch antwoord: Factuur', 'automatisch antwoord'],
    ['Resposta automática: Fatura', 'resposta automática'],
    ['Автоматический ответ: Счёт', 'автоматический ответ'],
    ['Autosvar: Faktura', 'autosvar'],
    ['自動応答: 請求書', '自動応答'],
  ];

  it.each(subjects)('detects the subject %j', async (subject, label) => {
    const result = await classifySource(buildMessage([`Subject: ${subject}`]));

    expect(result.kind).toBe('auto-reply');
    expect(result.reason).toBe(`subject: ${label}`);
  });

  const personSubjects = [
    'Absence de réponse à ma demande',
    'Automatic reply not working on my account',
    'Out of office request for Friday',
    'Re: Out of Office: Invoice question',
    'Fwd: Undelivered Mail Returned to Sender',
    'Vacation booking for July',
    'Undeliverable parcel returned to the shop',
    'Delivery failure on order 12345',
    'Failure notice for my last payment',
  ];

  it.each(personSubjects)('keeps the person-written subject %j normal', async (subject) => {
    const result = await classifySource(buildMessage([`Subject: ${subject}`]));

    expect(result.kind).toBe('normal');
  });

  const headerCases: ReadonlyArray<readonly [header: string, reason: string]> = [
    ['Auto-Submitted: auto-generated', 'Auto-Submitted: auto-generated'],
    ['Auto-Submitted: auto-replied; owner-email="x@example.org"', 'Auto-Submitted: auto-replied'],
    ['X-Autoreply: yes', 'X-Autoreply header'],
    ['X-Autorespond: Out of office', 'X-Autorespond header'],
    ['Precedence: auto_reply', 'Precedence: auto_reply'],
    ['Precedence: junk', 'Precedence: junk'],
    ['Precedence: bulk', 'Precedence: bulk'],
    ['Return-Path: <>', 'Return-Path: <>'],
  ];

  it.each(headerCases)('detects %j', async (header, reason) => {
    const result = await classifySource(buildMessage(['Subject: Your order', header]));

    expect(result.kind).toBe('auto-reply');
    expect(result.reason).toBe(reason);
  });

  const personHeaders = [
    'X-Autoreply: no',
    'X-MS-Exchange-Inbox-Rules-Loop: shared@customer.example.org',
    'X-Auto-Response-Suppress: OOF, DR, RN, NRN, AutoReply',
  ];

  it.each(personHeaders)('keeps a message with only %j normal', async (header) => {
    const result = await classifySource(buildMessage(['Subject: Your order', header]));

    expect(result.kind).toBe('normal');
  });

  it('keeps a contact-form mail from a no-reply address normal', async () => {
    const source = buildMessage(['From: Website <no-reply@shop.example.org>', 'Reply-To: customer@example.net', 'Subject: Contact form: delivery date']);

    const result = await classifySource(source);

    expect(result.kind).toBe('normal');
  });

  it('classifies a read receipt (MDN) as an auto-reply', async () => {
    const source = [
      'From: Customer <customer@example.org>',
      'To: support@helpdesk.example.com',
      'Subject: Read: Invoice question',
      'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=disposition-notification; boundary="mdn"',
      '',
      '--mdn',
      'Content-Type: text/plain',
      '',
      'Your message was displayed.',
      '--mdn',
      'Content-Type: message/disposition-notification',
      '',
      'Final-Recipient: rfc822; customer@example.org',
      'Disposition: manual-action/MDN-sent-manually; displayed',
      '--mdn--',
      '',
    ].join('\r\n');

    const result = await classifySource(source);

    expect(result.kind).toBe('auto-reply');
    expect(result.reason).toBe('multipart/report disposition-notification');
  });
});

describe('bounce signs without a report', () => {
  const subjects: ReadonlyArray<readonly [subject: string, label: string]> = [
    ['Undelivered Mail Returned to Sender', 'undelivered mail returned to sender'],
    ['Delivery Status Notification (Failure)', 'delivery status notification'],
    ['Mail delivery failed: returning message to sender', 'mail delivery failed'],
    ['Undeliverable: Invoice question', 'undeliverable'],
    ['Returned mail: see transcript for details', 'returned mail'],
    ['failure notice', 'failure notice'],
  ];

  it.each(subjects)('detects the subject %j', async (subject, label) => {
    const result = await classifySource(buildMessage(['From: Relay <relay@mx.example.net>', `Subject: ${subject}`]));

    expect(result.kind).toBe('bounce');
    expect(result.reason).toBe(`subject: ${label}`);
  });

  it('detects a MAILER-DAEMON sender', async () => {
    const result = await classifySource(buildMessage(['From: MAILER-DAEMON@mx.example.net', 'Subject: Your message']));

    expect(result.kind).toBe('bounce');
    expect(result.reason).toBe('From: mailer-daemon');
  });

  it('keeps an inline-forwarded qmail bounce normal', async () => {
    const body = [
      'Hi, my order confirmation bounced. Can you check my address?',
      '',
      '---------- Forwarded message ---------',
      'Hi. This is the qmail-send program at mx.example.net.',
      "I'm afraid I wasn't able to deliver your message to the following addresses.",
      '',
      '<customer@example.org>:',
      'Sorry, no mailbox here by that name.',
    ].join('\r\n');

    const result = await classifySource(buildMessage(['Subject: Fwd: failure notice'], body));

    expect(result.kind).toBe('normal');
  });

  it('detects a qmail bounce by its opening text', async () => {
    const body = [
      'Hi. This is the qmail-send program at mx.example.net.',
      "I'm afraid I wasn't able to deliver your message to the following addresses.",
      "This is a permanent error; I've given up. Sorry it didn't work out.",
      '',
      '<gone@example.net>:',
      'Sorry, no mailbox here by that name. (#5.1.1)',
      '',
      '--- Below this line is a copy of the message.',
      '',
      'Message-ID: <task-1042.reply-3@helpdesk.example.com>',
      'Subject: Re: [#1042] Invoice question',
    ].join('\r\n');

    const result = await classifySource(buildMessage(['From: Relay <relay@mx.example.net>', 'Subject: Your message'], body));

    expect(result.kind).toBe('bounce');
    expect(result.reason).toBe('qmail-send bounce text');
    expect(result.bounce?.failedRecipients).toEqual(['gone@example.net']);
    expect(result.bounce?.permanent).toBe(true);
    expect(result.bounce?.originalMessageId).toBe('<task-1042.reply-3@helpdesk.example.com>');
  });
});

describe('list signs', () => {
  const cases: ReadonlyArray<readonly [headers: string[], reason: string]> = [
    [['Mailing-List: list users@lists.example.org; contact users-help@lists.example.org'], 'Mailing-List header'],
    [['Precedence: list'], 'Precedence: list'],
    [['Precedence: bulk', 'List-Unsubscribe: <mailto:leave@lists.example.org>'], 'List-Unsubscribe with Precedence: bulk'],
  ];

  it.each(cases)('detects %j', async (headers, reason) => {
    const result = await classifySource(buildMessage(['Subject: Weekly digest', ...headers]));

    expect(result.kind).toBe('list');
    expect(result.reason).toBe(reason);
  });

  it('keeps List-Unsubscribe without Precedence normal', async () => {
    const result = await classifySource(buildMessage(['Subject: Your order', 'List-Unsubscribe: <https://shop.example.org/unsubscribe>']));

    expect(result.kind).toBe('normal');
  });
});

describe('loop detection', () => {
  it('exports the header name in lower case', () => {
    expect(LOOP_HEADER).toBe('x-postdesk-loop');
  });

  it('detects another instance relaying our own Message-ID', async () => {
    const source = buildMessage(['Subject: Re: [#1042] Invoice', 'Message-ID: <task-1042.7@helpdesk.example.com>', 'X-Postdesk-Loop: pd-other']);

    const result = await classifySource(source);

    expect(result.kind).toBe('loop');
    expect(result.reason).toBe('X-Postdesk-Loop with own Message-ID domain');
  });

  it('accepts bare domains in ownAddresses', async () => {
    const source = buildMessage(['Subject: Re: [#1042] Invoice', 'Message-ID: <task-1042.7@helpdesk.example.com>', 'X-Postdesk-Loop: pd-other']);

    const result = await classifySource(source, { instanceId: 'pd-7f3a9c', ownAddresses: ['Helpdesk.Example.com'] });

    expect(result.kind).toBe('loop');
  });

  it('keeps mail from another instance with a foreign Message-ID normal', async () => {
    const source = buildMessage(['Subject: Re: our shared customer', 'Message-ID: <a1@desk.example.net>', 'X-Postdesk-Loop: pd-other']);

    const result = await classifySource(source);

    expect(result.kind).toBe('normal');
  });

  it('ignores an empty loop header', async () => {
    const source = buildMessage(['Subject: Hello', 'Message-ID: <a2@helpdesk.example.com>', 'X-Postdesk-Loop: ']);

    const result = await classifySource(source, { instanceId: '', ownAddresses: ['helpdesk.example.com'] });

    expect(result.kind).toBe('normal');
  });

  it('puts the loop before the bounce', async () => {
    const source = buildMessage(['From: MAILER-DAEMON@helpdesk.example.com', 'Subject: Undelivered Mail Returned to Sender', 'X-Postdesk-Loop: pd-7f3a9c']);

    const result = await classifySource(source);

    expect(result.kind).toBe('loop');
  });
});
