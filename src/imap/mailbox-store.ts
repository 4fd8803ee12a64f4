import type { PrismaClient } from '../db/client.js';
import type { Mailbox } from '../db/generated/client.js';
import { encryptSecret } from './credentials.js';
import { clearImportBoundary } from './mailbox-state.js';

export type { Mailbox } from '../db/generated/client.js';

/**
 * Login method of a mailbox: a password, or an OAuth2 access token over SASL
 * (imapflow 2.10 uses OAUTHBEARER when the server offers it, XOAUTH2 otherwise).
 */
export type AuthMethod = 'password' | 'xoauth2';
/** Action applied to a message once it is journaled. */
export type ProcessedAction = 'move' | 'flag';

/** Name of the mailbox configured by the IMAP_* variables; the CLI cannot take it. */
export const ENV_MAILBOX_NAME = 'env';

/** The settings of a mailbox as an administrator gives them. */
export interface MailboxSettings {
  name: string;
  host: string;
  port: number;
  tls: boolean;
  user: string;
  authMethod: AuthMethod;
  /** The password or access token in clear text; it is stored encrypted. */
  secret: string;
  folder: string;
  processedAction: ProcessedAction;
  processedFolder: string | null;
  importExisting: boolean;
  departmentId: number | null;
  address: string | null;
  enabled: boolean;
}

/** Raised for invalid mailbox settings; lists every problem found. */
export class MailboxSettingsError extends Error {
  readonly code = 'MAILBOX_SETTINGS_INVALID';

  constructor(readonly problems: string[]) {
    super(`Invalid mailbox settings: ${problems.join('; ')}`);
    this.name = 'MailboxSettingsError';
  }
}

/** Settings for an update: without a secret the stored one is kept. */
export type MailboxChanges = Omit<MailboxSettings, 'secret'> & { secret?: string };

/** Lists the problems of a set of settings; empty when they are valid. */
export function validateMailboxSettings(settings: MailboxChanges, options: { allowReservedName?: boolean } = {}): string[] {
  const problems: string[] = [];
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(settings.name)) problems.push(`name ${JSON.stringify(settings.name)} is invalid (use 1-64 letters, digits, dot, dash or underscore)`);
  if (settings.name === ENV_MAILBOX_NAME && !options.allowReservedName) problems.push(`name "${ENV_MAILBOX_NAME}" is reserved for the mailbox set by IMAP_* variables`);
  if (settings.host.trim() === '' || /\s/.test(settings.host)) problems.push(`host ${JSON.stringify(settings.host)} is invalid`);
  if (!Number.isInteger(settings.port) || settings.port < 1 || settings.port > 65535) problems.push(`port ${settings.port} is invalid (expected 1-65535)`);
  if (settings.user.trim() === '') problems.push('user is missing');
  if (settings.authMethod !== 'password' && settings.authMethod !== 'xoauth2') problems.push(`auth method ${JSON.stringify(settings.authMethod)} is invalid (expected password or xoauth2)`);
  if (settings.secret === '') problems.push(settings.authMethod === 'xoauth2' ? 'access token is missing' : 'password is missing');
  if (settings.folder.trim() === '') problems.push('folder is missing');
  if (settings.processedAction !== 'move' && settings.processedAction !== 'flag') problems.push(`processed action ${JSON.stringify(settings.processedAction)} is invalid (expected move or flag)`);
  if (settings.processedAction === 'move' && !settings.processedFolder?.trim()) problems.push('processed folder is missing (required when processed messages are moved)');
  if (settings.processedAction === 'move' && settings.processedFolder === settings.folder) problems.push('processed folder must differ from the folder that is read');
  if (settings.address !== null && !/^[^@\s]+@[^@\s]+$/.test(settings.address)) problems.push(`address ${JSON.stringify(settings.address)} is invalid (expected local@domain)`);
  return problems;
}

/** Creates a mailbox. Throws MailboxSettingsError for invalid settings or a name in use. */
export async function createMailbox(prisma: PrismaClient, settings: MailboxSettings, credentialKey: Buffer, options: { allowReservedName?: boolean } = {}): Promise<Mailbox> {
  const problems = validateMailboxSettings(settings, options);
  if (await prisma.mailbox.findUnique({ where: { name: settings.name } })) problems.push(`a mailbox named ${JSON.stringify(settings.name)} already exists`);
  if (problems.length > 0) throw new MailboxSettingsError(problems);

  return prisma.mailbox.create({ data: { ...toColumns(settings, credentialKey), secretEncrypted: encryptSecret(settings.secret, credentialKey) } });
}

/**
 * Replaces a mailbox's settings. A change of server, user or folder points at
 * another mailbox, so the stored position is dropped and the next connection
 * starts as a first one.
 */
export async function updateMailbox(prisma: PrismaClient, existing: Mailbox, settings: MailboxChanges, credentialKey: Buffer, options: { allowReservedName?: boolean } = {}): Promise<Mailbox> {
  const problems = validateMailboxSettings(settings, options);
  if (settings.name !== existing.name && (await prisma.mailbox.findUnique({ where: { name: settings.name } }))) {
    problems.push(`a mailbox named ${JSON.stringify(settings.name)} already exists`);
  }
  if (problems.length > 0) throw new MailboxSettingsError(problems);

  const samePlace = existing.host === settings.host && existing.port === settings.port && existing.user === settings.user && existing.folder === settings.folder;
  if (!samePlace) await clearImportBoundary(prisma, existing.id);
  return prisma.mailbox.update({
    where: { id: existing.id },
    data: { ...toColumns(settings, credentialKey), ...(samePlace ? {} : { uidValidity: null, lastUid: null, backlog: 0 }) },
  });
}

/** Finds a mailbox by name, or by id when the reference is a number. */
export async function findMailbox(prisma: PrismaClient, reference: string): Promise<Mailbox | null> {
  const byName = await prisma.mailbox.findUnique({ where: { name: reference } });
  if (byName || !/^\d+$/.test(reference)) return byName;
  return prisma.mailbox.findUnique({ where: { id: Number(reference) } });
}

/** Lists every mailbox, ordered by name. */
export function listMailboxes(prisma: PrismaClient): Promise<Mailbox[]> {
  return prisma.mailbox.findMany({ orderBy: { name: 'asc' } });
}

/** Lists the mailboxes the pollers should read. */
export function listEnabledMailboxes(prisma: PrismaClient): Promise<Mailbox[]> {
  return prisma.mailbox.findMany({ where: { enabled: true }, orderBy: { id: 'asc' } });
}

/** Deletes a mailbox. Its journaled messages stay; their mailbox reference is cleared. */
export async function removeMailbox(prisma: PrismaClient, id: number): Promise<void> {
  await clearImportBoundary(prisma, id);
  await prisma.mailbox.delete({ where: { id } });
}

/** Enables or disables a mailbox; running pollers pick the change up at their next refresh. */
export function setMailboxEnabled(prisma: PrismaClient, id: number, enabled: boolean): Promise<Mailbox> {
  return prisma.mailbox.update({ where: { id }, data: { enabled } });
}

/** Returns the settings stored in a row, for editing. The secret is left out because the row stores it encrypted. */
export function settingsOf(row: Mailbox): Omit<MailboxSettings, 'secret'> {
  return {
    name: row.name,
    host: row.host,
    port: row.port,
    tls: row.tls,
    user: row.user,
    authMethod: row.authMethod === 'xoauth2' ? 'xoauth2' : 'password',
    folder: row.folder,
    processedAction: row.processedAction === 'flag' ? 'flag' : 'move',
    processedFolder: row.processedFolder,
    importExisting: row.importExisting,
    departmentId: row.departmentId,
    address: row.address,
    enabled: row.enabled,
  };
}

function toColumns(settings: MailboxChanges, credentialKey: Buffer) {
  return {
    name: settings.name,
    host: settings.host.trim(),
    port: settings.port,
    tls: settings.tls,
    user: settings.user,
    authMethod: settings.authMethod,
    ...(settings.secret === undefined ? {} : { secretEncrypted: encryptSecret(settings.secret, credentialKey) }),
    folder: settings.folder,
    processedAction: settings.processedAction,
    processedFolder: settings.processedAction === 'move' ? settings.processedFolder : null,
    importExisting: settings.importExisting,
    departmentId: settings.departmentId,
    address: settings.address?.toLowerCase() ?? null,
    enabled: settings.enabled,
  };
}
