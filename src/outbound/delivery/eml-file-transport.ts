import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { composeMessage } from './compose.js';
import { syncDirectory } from '../../util/sync-directory.js';
import type { MailTransport, RenderedMail, SendResult } from './types.js';

/** Outbox file names are row ids (UUIDs); the pattern admits no dot or slash, so a name cannot leave the folder. */
const SAFE_FILE_NAME = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Create a transport that writes each mail to `<outboxDir>/<fileName>.eml`, so that a fresh
 * install sends nothing over the network and an operator can read what would have gone
 * out. The file is written under a temporary name, synced and renamed, so a reader never
 * sees half a message. Sending the same row twice replaces the file and leaves one.
 */
export function createEmlFileTransport(outboxDir: string, instanceId: string): MailTransport {
  const composer = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  let folderReady: Promise<unknown> | null = null;

  return {
    kind: 'eml-file',
    async send(mail: RenderedMail, fileName: string): Promise<SendResult> {
      if (!SAFE_FILE_NAME.test(fileName)) throw new Error(`invalid outbox file name ${JSON.stringify(fileName)}`);
      folderReady ??= mkdir(outboxDir, { recursive: true });
      await folderReady;

      const info = await composer.sendMail(composeMessage(mail, instanceId));
      // With `buffer: true` the stream transport returns the whole message as a Buffer.
      if (!Buffer.isBuffer(info.message)) throw new Error('stream transport returned a stream instead of a buffer');
      const target = path.join(outboxDir, `${fileName}.eml`);
      await writeFileAtomically(target, info.message);
      return { messageId: stripBrackets(info.messageId), response: target };
    },
    async close() {
      composer.close();
    },
  };
}

async function writeFileAtomically(target: string, content: Buffer): Promise<void> {
  const temporary = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const file = await open(temporary, 'wx', 0o640);
  try {
    await file.writeFile(content);
    await file.sync();
  } catch (error) {
    await file.close();
    await rm(temporary, { force: true });
    throw error;
  }
  await file.close();
  await rename(temporary, target);
  await syncDirectory(path.dirname(target));
}

function stripBrackets(messageId: string): string {
  return messageId.replace(/^<|>$/g, '');
}
