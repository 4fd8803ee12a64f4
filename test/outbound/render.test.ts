import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/index.js';
import type { OutboundMessage } from '../../src/db/generated/client.js';
import { splitAddress } from '../../src/mail/addresses.js';
import { verifyThreadToken } from '../../src/mail/thread-token.js';
import type { OutboundPayload } from '../../src/outbound/payload.js';
import { formatMailbox, OutboundRenderError, renderOutbound, textToHtml } from '../../src/outbound/render.js';
import { MAIL_TEMPLATES, type MailTemplate } from '../../src/outbound/rules/types.js';
import { createTestConfig } from '../helpers/app.js';

const kim = { id: 5, name: 'Kim', email: 'kim@customer.test', role: 'customer' as const };
const anna = { id: 2, name: 'Anna', email: 'anna@example.test', role: 'employee' as const };

function payload(overrides: Partial<OutboundPayload> = {}): OutboundPayload {
  return {
    version: 1,
    event: 'comment.public',
    occurredAt: '2026-03-04T10:15:00.000Z',
    task: { id: 42, subject: 'Printer\r\non fire', status: 'new', priority: 'normal', category: null, department: 'Billing', departmentAddress: 'billing@example.test', author: kim, assignee: anna, resolutionDueAt: null },
    actor: anna,
    recipient: { ...kim, staff: false },
    reasons: ['author: public staff reply: author of the task'],
    comment: { id: 9, body: 'Line one & <script>alert(1)</script>\nline two\n\nNext paragraph.', visibility: 'public', author: anna, createdAt: '2026-03-04T10:15:00.000Z', attachments: [] },
    query: null,
    change: null,
    commands: null,
    delivery: null,
    prerequisiteId: null,
    references: ['first@customer.test'],
    ...overrides,
  };
}

function row(template: string, body: OutboundPayload | string, inReplyTo: string | null = 'latest@example.test'): OutboundMessage {
  const recipient = typeof body === 'string' ? kim : body.recipient;
  return {
    id: 'row-1',
    taskId: 42,
    recipientId: recipient.id,
    toAddress: recipient.email,
    reason: 'test',
    event: 'comment.public',
    template,
    payload: typeof body === 'string' ? body : JSON.stringify(body),
    dedupeKey: 'event:5',
    messageId: 'row-1@example.test',
    inReplyTo,
    status: 'pending',
    attempts: 0,
    lastError: null,
    sentAt: null,
    queuedAt: null,
    createdAt: new Date('2026-03-04T10:15:00.000Z'),
  };
}

describe('renderOutbound', () => {
  let config: Config;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const test = await createTestConfig({ POSTDESK_INSTANCE_ID: 'render-test' });
    config = test.config;
    cleanup = test.cleanup;
  });

  afterAll(async () => {
    await cleanup();
  });

  it('tags the subject and marks a reply', async () => {
    const reply = await renderOutbound(row('comment', payload()), config);
    const first = await renderOutbound(row('comment', payload(), null), config);

    expect(reply.subject).toBe('Re: [#42] Printer on fire');
    expect(first.subject).toBe('[#42] Printer on fire');
  });

  it("sends from the department's address with the recipient's token as Reply-To", async () => {
    const mail = await renderOutbound(row('comment', payload()), config);

    expect(mail.from).toBe('"Postdesk" <billing@example.test>');
    expect(mail.to).toBe('"Kim" <kim@customer.test>');
    const replyTo = splitAddress(mail.replyTo!)!;
    expect(`${replyTo.local}@${replyTo.domain}`).toBe('billing@example.test');
    expect(verifyThreadToken(config.threadTokenSecret, replyTo.detail!)).toEqual({ taskId: 42, userId: kim.id });
  });

  it('falls back to the first helpdesk address', async () => {
    const mail = await renderOutbound(row('comment', payload({ task: { ...payload().task, departmentAddress: null } })), config);

    expect(mail.from).toBe('"Postdesk" <support@example.test>');
    expect(mail.replyTo).toMatch(/^support\+42-5-[a-z2-7]{16}@example\.test$/);
  });

  it('carries automatic-mail and loop headers', async () => {
    const notification = await renderOutbound(row('comment', payload()), config);
    const acknowledgement = await renderOutbound(row('acknowledgement', payload({ event: 'task.created' })), config);

    expect(notification.headers).toEqual({ 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All', 'X-Postdesk-Loop': 'render-test' });
    expect(acknowledgement.headers['Auto-Submitted']).toBe('auto-replied');
    expect(Object.keys(notification.headers).map((name) => name.toLowerCase())).not.toContain('precedence');
  });

  it('threads with In-Reply-To and References', async () => {
    const mail = await renderOutbound(row('comment', payload()), config);

    expect(mail.messageId).toBe('row-1@example.test');
    expect(mail.inReplyTo).toBe('latest@example.test');
    expect(mail.references).toEqual(['first@customer.test', 'latest@example.test']);
  });

  it('includes the reply itself in the text version', async () => {
    const mail = await renderOutbound(row('comment', payload()), config);

    expect(mail.text).toContain('Line one & <script>alert(1)</script>\nline two\n\nNext paragraph.');
    expect(mail.text).toContain('-- \n');
    expect(mail.text.endsWith('\n')).toBe(true);
  });

  it('escapes the reply and keeps its lines in the HTML version', async () => {
    const mail = await renderOutbound(row('comment', payload()), config);

    expect(mail.html).toContain('<p>Line one &amp; &lt;script&gt;alert(1)&lt;/script&gt;<br>\nline two</p>\n<p>Next paragraph.</p>');
    expect(mail.html).not.toContain('<script>');
  });

  it('escapes names and subjects in HTML', async () => {
    const hostile = payload({ task: { ...payload().task, subject: '<img src=x onerror=alert(1)>' }, comment: { ...payload().comment!, author: { ...anna, name: '<b>Anna</b>' } } });

    const mail = await renderOutbound(row('comment', hostile), config);

    expect(mail.html).not.toContain('<img');
    expect(mail.html).not.toContain('<b>Anna</b>');
    expect(mail.html).toContain('&lt;b&gt;Anna&lt;/b&gt;');
  });

  it('explains replying to everyone and commands to staff only', async () => {
    const toCustomer = await renderOutbound(row('comment', payload()), config);
    const toStaff = await renderOutbound(row('comment', payload({ recipient: { ...anna, staff: true } })), config);

    expect(toCustomer.text).toContain('reply to this message');
    expect(toCustomer.html).toContain('reply to this message');
    expect(toCustomer.text).not.toContain('#status');
    expect(toCustomer.html).not.toContain('#status');
    expect(toCustomer.text).not.toContain('Why you receive');
    expect(toStaff.text).toContain('Reply to this message to add to task [#42]');
    expect(toStaff.text).toContain('  #status <new|in-progress|waiting|blocked|done|closed>');
    expect(toStaff.text).toContain('  #internal');
    expect(toStaff.html).toContain('<li><code>#assign &lt;colleague@example.com|me|nobody&gt;</code></li>');
    expect(toStaff.text).toContain('Why you receive this mail: author: public staff reply: author of the task');
  });

  it.each(MAIL_TEMPLATES)('renders template %s', async (template: MailTemplate) => {
    const mail = await renderOutbound(row(template, payload({ recipient: { ...anna, staff: true } })), config);

    expect(mail.text).toContain('[#42]');
    expect(mail.html).toContain('[#42]');
    expect(mail.html.startsWith('<!DOCTYPE html>')).toBe(true);
  });

  it('rejects an unknown template', async () => {
    await expect(renderOutbound(row('fancy', payload()), config)).rejects.toThrow(OutboundRenderError);
    await expect(renderOutbound(row('fancy', payload()), config)).rejects.toThrow('unknown mail template "fancy"');
  });

  it('rejects a payload that is not JSON or not the schema', async () => {
    await expect(renderOutbound(row('comment', '{not json'), config)).rejects.toThrow('payload is not valid JSON');
    await expect(renderOutbound(row('comment', '{"version":2}'), config)).rejects.toThrow('payload does not match the schema');
  });

  it('renders templates from another folder', async () => {
    const folder = await mkdtemp(path.join(os.tmpdir(), 'postdesk-theme-'));
    await mkdir(path.join(folder, 'layouts'));
    await writeFile(path.join(folder, 'comment.txt'), 'Custom {{ tag }} {{ comment.body }}');
    await writeFile(path.join(folder, 'comment.html'), '<p>Custom {{ comment.body }}</p>');

    const mail = await renderOutbound(row('comment', payload()), config, { templateDir: folder });

    expect(mail.text).toBe('Custom [#42] Line one & <script>alert(1)</script>\nline two\n\nNext paragraph.\n');
    expect(mail.html).toContain('<p>Custom Line one &amp; &lt;script&gt;');
    await rm(folder, { recursive: true, force: true });
  });
});

describe('render helpers', () => {
  it('quotes display names', () => {
    expect(formatMailbox('Kim "K" O\'Neil', 'kim@customer.test')).toBe('"Kim \\"K\\" O\'Neil" <kim@customer.test>');
    expect(formatMailbox(null, 'kim@customer.test')).toBe('kim@customer.test');
    expect(formatMailbox('Evil\r\nBcc: x@y', 'kim@customer.test')).toBe('"Evil Bcc: x@y" <kim@customer.test>');
  });

  it('turns text into escaped paragraphs', () => {
    expect(textToHtml('a\r\nb\n\n\n<c>')).toBe('<p>a<br>\nb</p>\n<p>&lt;c&gt;</p>');
    expect(textToHtml('')).toBe('');
  });
});
