import type { Config } from '../config/config.js';
import type { PrismaClient } from '../db/client.js';
import type { Logger } from '../logger.js';
import { createMailbox, ENV_MAILBOX_NAME, MailboxSettingsError, updateMailbox, type MailboxChanges } from './mailbox-store.js';

/**
 * Makes the mailbox row named "env" match the IMAP_* variables: creates or updates
 * it when IMAP_HOST is set, and disables it when it is not. The row keeps its
 * position across restarts unless the server, user or folder changed.
 * Throws MailboxSettingsError when IMAP_DEPARTMENT names no department.
 */
export async function syncEnvironmentMailbox(prisma: PrismaClient, config: Config, log: Logger): Promise<void> {
  const existing = await prisma.mailbox.findUnique({ where: { name: ENV_MAILBOX_NAME } });
  const imap = config.imap;
  if (!imap) {
    if (existing?.enabled) {
      await prisma.mailbox.update({ where: { id: existing.id }, data: { enabled: false } });
      log.info({ mailbox: ENV_MAILBOX_NAME }, 'IMAP_HOST is not set; mailbox from the environment disabled');
    }
    return;
  }

  const department = imap.department ? await prisma.department.findUnique({ where: { name: imap.department } }) : null;
  if (imap.department && !department) {
    throw new MailboxSettingsError([`IMAP_DEPARTMENT: department ${JSON.stringify(imap.department)} not found; create it or correct the name`]);
  }

  const settings: MailboxChanges & { secret: string } = {
    name: ENV_MAILBOX_NAME,
    host: imap.host,
    port: imap.port,
    tls: imap.tls,
    user: imap.user,
    authMethod: imap.accessToken ? 'xoauth2' : 'password',
    secret: imap.accessToken ?? imap.password ?? '',
    folder: imap.folder,
    processedAction: imap.processedAction,
    processedFolder: imap.processedFolder,
    importExisting: imap.importExisting,
    departmentId: department?.id ?? null,
    address: null,
    enabled: true,
  };
  if (existing) await updateMailbox(prisma, existing, settings, config.credentialKey, { allowReservedName: true });
  else await createMailbox(prisma, settings, config.credentialKey, { allowReservedName: true });
  log.info({ mailbox: ENV_MAILBOX_NAME, host: imap.host, user: imap.user, folder: imap.folder }, 'mailbox from the environment configured');
}
