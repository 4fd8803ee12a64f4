import { fileURLToPath } from 'node:url';
import nunjucks from 'nunjucks';
import type { Config } from '../config/index.js';
import type { OutboundMessage } from '../db/generated/client.js';
import { COMMANDS } from '../inbound/commands/apply-commands.js';
import { buildReplyAddress } from '../mail/reply-address.js';
import { outboundPayloadSchema, type OutboundPayload } from './payload.js';
import { MAIL_TEMPLATES, type MailTemplate } from './rules/types.js';

/**
 * A notification ready for nodemailer. Message-IDs are without angle brackets, as in
 * OutboundMessage; nodemailer adds them to Message-ID, In-Reply-To and References.
 */
export interface RenderedMail {
  from: string;
  to: string;
  replyTo: string | null;
  subject: string;
  text: string;
  html: string;
  headers: Record<string, string>;
  messageId: string;
  inReplyTo: string | null;
  references: string[];
}

/** Raised when a row cannot be rendered; sending it again cannot help. */
export class OutboundRenderError extends Error {
  readonly code = 'OUTBOUND_RENDER_FAILED';

  constructor(
    message: string,
    readonly outboundId: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OutboundRenderError';
  }
}

/** Folder of the .txt and .html mail templates. */
export const MAIL_TEMPLATE_DIR = fileURLToPath(new URL('../../templates/mail', import.meta.url));

/** Header that marks mail from our instance, so our intake recognises it coming back. */
const LOOP_HEADER_NAME = 'X-Postdesk-Loop';

/** Templates that reply directly to a message someone sent: `auto-replied` in RFC 3834 terms. */
const REPLY_TEMPLATES: ReadonlySet<MailTemplate> = new Set(['acknowledgement', 'command-failed', 'command-applied']);

const environments = new Map<string, { text: nunjucks.Environment; html: nunjucks.Environment }>();

/**
 * Render an outbox row into a mail: subject with the `[#id]` tag, text and HTML from
 * the row's template, the recipient's token address as Reply-To, threading and
 * automatic-mail headers. Throws OutboundRenderError for an unknown template or a
 * payload that does not match the schema.
 */
export async function renderOutbound(row: OutboundMessage, config: Config, options: { templateDir?: string } = {}): Promise<RenderedMail> {
  const payload = parsePayload(row);
  const template = parseTemplate(row);
  const { text: textEnvironment, html: htmlEnvironment } = getEnvironments(options.templateDir ?? MAIL_TEMPLATE_DIR);

  const helpdesk = config.mail.addresses.find((entry) => entry.address === payload.task.departmentAddress) ?? config.mail.addresses[0]!;
  const replyAddress = buildReplyAddress(config, payload.task.id, payload.recipient.id, payload.task.departmentAddress);
  const context = {
    ...payload,
    template,
    replyAddress,
    helpdeskAddress: helpdesk.address,
    fromName: config.mail.fromName,
    tag: `[#${payload.task.id}]`,
    commandUsages: payload.recipient.staff ? COMMANDS.map((command) => command.usage) : [],
  };

  let text: string;
  let html: string;
  try {
    text = textEnvironment.render(`${template}.txt`, context);
    html = htmlEnvironment.render(`${template}.html`, context);
  } catch (error) {
    throw new OutboundRenderError(`template "${template}" failed to render`, row.id, { cause: error });
  }

  const references = [...payload.references];
  if (row.inReplyTo && !references.includes(row.inReplyTo)) references.push(row.inReplyTo);
  return {
    from: formatMailbox(config.mail.fromName, helpdesk.address),
    to: formatMailbox(payload.recipient.name, row.toAddress),
    replyTo: replyAddress,
    subject: formatSubject(payload, row.inReplyTo !== null),
    text: normalizeText(text),
    html,
    headers: {
      'Auto-Submitted': REPLY_TEMPLATES.has(template) ? 'auto-replied' : 'auto-generated',
      // Asks Exchange and Outlook not to send out-of-office or other automatic replies.
      'X-Auto-Response-Suppress': 'All',
      [LOOP_HEADER_NAME]: config.instanceId,
    },
    messageId: row.messageId,
    inReplyTo: row.inReplyTo,
    references,
  };
}

/** Format the subject: `Re: [#42] Subject` for a reply to an earlier message, else `[#42] Subject`. */
export function formatSubject(payload: Pick<OutboundPayload, 'task'>, isReply: boolean): string {
  const subject = payload.task.subject.replace(/[\r\n\t]+/g, ' ').trim();
  return `${isReply ? 'Re: ' : ''}[#${payload.task.id}] ${subject}`;
}

/** Format a display name and address as an RFC 5322 mailbox, always quoting the name. */
export function formatMailbox(name: string | null, address: string): string {
  const cleaned = (name ?? '').replace(/[\r\n]+/g, ' ').trim();
  if (!cleaned) return address;
  return `"${cleaned.replace(/["\\]/g, '\\$&')}" <${address}>`;
}

/**
 * Escape text for HTML and keep its line structure: blank lines separate paragraphs,
 * single line breaks become `<br>`.
 */
export function textToHtml(text: string): string {
  const escaped = text
    .replace(/\r\n?/g, '\n')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
  return escaped
    .split(/\n{2,}/)
    .map((paragraph) => paragraph.trim())
    .filter(Boolean)
    .map((paragraph) => `<p>${paragraph.replace(/\n/g, '<br>\n')}</p>`)
    .join('\n');
}

/** Format an ISO time as `2026-12-04 20:15 UTC`; other text passes unchanged. */
export function formatTime(value: string | null | undefined): string {
  if (!value) return '';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Format a person as their name, else their address, and the system as `Postdesk`. */
export function formatPerson(person: { name: string | null; email: string } | null | undefined): string {
  if (!person) return 'Postdesk';
  return person.name?.trim() || person.email;
}

/** Format a byte count as `512 bytes`, `12 KB` or `3.4 MB`. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function parsePayload(row: OutboundMessage): OutboundPayload {
  let json: unknown;
  try {
    json = JSON.parse(row.payload) as unknown;
  } catch (error) {
    throw new OutboundRenderError('payload is not valid JSON', row.id, { cause: error });
  }
  const parsed = outboundPayloadSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new OutboundRenderError(`payload does not match the schema: ${problems}`, row.id);
  }
  return parsed.data;
}

function parseTemplate(row: OutboundMessage): MailTemplate {
  const template = MAIL_TEMPLATES.find((name) => name === row.template);
  if (!template) throw new OutboundRenderError(`unknown mail template "${row.template}"`, row.id);
  return template;
}

/**
 * Get the text and HTML environments of a template folder, created once. Only the HTML
 * one escapes, because escaping the text version would show `&amp;` in plain-text mail.
 */
function getEnvironments(directory: string) {
  const cached = environments.get(directory);
  if (cached) return cached;

  const loader = new nunjucks.FileSystemLoader(directory);
  const options = { trimBlocks: true, lstripBlocks: true, throwOnUndefined: false };
  const text = new nunjucks.Environment(loader, { ...options, autoescape: false });
  const html = new nunjucks.Environment(loader, { ...options, autoescape: true });
  for (const environment of [text, html]) {
    environment.addFilter('time', formatTime);
    environment.addFilter('size', formatSize);
    environment.addFilter('who', formatPerson);
  }
  html.addFilter('paragraphs', (value: unknown) => new nunjucks.runtime.SafeString(textToHtml(String(value ?? ''))));

  const pair = { text, html };
  environments.set(directory, pair);
  return pair;
}

/**
 * Trim trailing spaces, collapse runs of blank lines and end with one newline. The
 * signature separator keeps its space (`-- `), so mail clients leave the footer out
 * of quotes.
 */
function normalizeText(text: string): string {
  return `${text
    .replace(/^(?!-- $)(.*?)[ \t]+$/gm, '$1')
    .replace(/\n{3,}/g, '\n\n')
    .trim()}\n`;
}
