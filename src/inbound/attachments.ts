import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { SyncedFile } from '../util/synced-file.js';
import type { Attachment as MailAttachment } from 'mailparser';

/** An attachment written to the content-addressed store. */
export interface StoredAttachment {
  fileName: string;
  contentType: string;
  size: number;
  sha256: string;
  contentId: string | null;
  inline: boolean;
}

/** An attachment that was not kept, and why. */
export interface SkippedAttachment {
  fileName: string;
  size: number;
  reason: string;
}

/** Limits on what one message may store. */
export interface AttachmentLimits {
  maxCount: number;
  maxBytes: number;
}

/** Path of stored content: `attachments/ab/cd/<sha256>`, so no folder grows too large. */
export function attachmentPath(dataDir: string, sha256: string): string {
  return path.join(dataDir, 'attachments', sha256.slice(0, 2), sha256.slice(2, 4), sha256);
}

/**
 * Store a message's attachments and inline images by content. Writing is idempotent
 * (same content, same file), so a message processed again after a crash stores
 * nothing twice. Parts over the limits are skipped and reported, not dropped silently.
 */
export async function storeAttachments(dataDir: string, attachments: readonly MailAttachment[], limits: AttachmentLimits) {
  const stored: StoredAttachment[] = [];
  const skipped: SkippedAttachment[] = [];

  for (const [index, attachment] of attachments.entries()) {
    // Delivery reports and headers of reported messages are read by the classifier, not kept as files.
    if (attachment.contentType === 'message/delivery-status' || attachment.contentType === 'text/rfc822-headers') continue;

    const fileName = safeFileName(attachment.filename, index, attachment.contentType);
    if (stored.length >= limits.maxCount) {
      skipped.push({ fileName, size: attachment.size, reason: `more than ${limits.maxCount} attachments` });
      continue;
    }
    if (attachment.content.length > limits.maxBytes) {
      skipped.push({ fileName, size: attachment.content.length, reason: `larger than ${limits.maxBytes} bytes` });
      continue;
    }

    const sha256 = createHash('sha256').update(attachment.content).digest('hex');
    await writeContent(attachmentPath(dataDir, sha256), attachment.content);
    stored.push({
      fileName,
      contentType: attachment.contentType || 'application/octet-stream',
      size: attachment.content.length,
      sha256,
      contentId: attachment.contentId ? attachment.contentId.replace(/^<|>$/g, '') : null,
      inline: attachment.contentDisposition === 'inline' || Boolean(attachment.related),
    });
  }
  return { stored, skipped };
}

async function writeContent(target: string, content: Buffer): Promise<void> {
  try {
    await stat(target);
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(path.dirname(target), { recursive: true });
  const temporary = `${target}.${randomBytes(4).toString('hex')}.tmp`;
  const file = await SyncedFile.create(temporary);
  try {
    await file.write([content]);
    await file.commit();
  } catch (error) {
    await file.discard();
    throw error;
  }
  await rename(temporary, target);
}

/**
 * Make a file name safe whatever the mail claims: no folders, no control or reserved
 * characters, no leading dots, at most 200 characters, and a fallback name.
 */
export function safeFileName(claimed: string | undefined, index: number, contentType: string): string {
  const base = (claimed ?? '')
    .normalize('NFC')
    .replace(/^.*[\\/]/, '')
    .replace(/[\u0000-\u001f\u007f<>:"|?*\\/]/g, '_')
    .replace(/^[.\s]+/, '')
    .trim();
  if (base.length === 0) return `attachment-${index + 1}${extensionFor(contentType)}`;
  if (base.length <= 200) return base;

  const extension = path.extname(base).slice(0, 20);
  return base.slice(0, 200 - extension.length) + extension;
}

function extensionFor(contentType: string): string {
  const known: Record<string, string> = {
    'image/png': '.png',
    'image/jpeg': '.jpg',
    'image/gif': '.gif',
    'application/pdf': '.pdf',
    'text/plain': '.txt',
    'text/html': '.html',
    'message/rfc822': '.eml',
  };
  return known[contentType] ?? '.bin';
}
