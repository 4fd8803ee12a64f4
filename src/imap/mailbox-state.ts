import type { PrismaClient } from '../db/client.js';

/** A place in a folder: messages up to `lastUid` under `uidValidity` are journaled. */
export interface FolderPosition {
  uidValidity: bigint;
  lastUid: bigint;
}

/** Sets the position whatever it was: on the first connection and after a UIDVALIDITY change. */
export async function resetPosition(prisma: PrismaClient, mailboxId: number, position: FolderPosition): Promise<void> {
  await prisma.mailbox.update({ where: { id: mailboxId }, data: { uidValidity: position.uidValidity, lastUid: position.lastUid } });
}

/**
 * Moves the position forward after a batch. It never moves back, and it changes
 * nothing when another poller already recorded a new UIDVALIDITY, so two pollers on
 * one mailbox cannot undo each other's progress.
 */
export async function advancePosition(prisma: PrismaClient, mailboxId: number, position: FolderPosition, backlog: number): Promise<void> {
  await prisma.mailbox.updateMany({
    where: { id: mailboxId, uidValidity: position.uidValidity, OR: [{ lastUid: null }, { lastUid: { lt: position.lastUid } }] },
    data: { lastUid: position.lastUid },
  });
  await prisma.mailbox.update({ where: { id: mailboxId }, data: { backlog, lastSuccessAt: new Date() } });
}

/** Records a successful poll: the connection works and `backlog` messages wait. */
export async function recordSuccess(prisma: PrismaClient, mailboxId: number, backlog: number): Promise<void> {
  await prisma.mailbox.update({ where: { id: mailboxId }, data: { connected: true, backlog, lastSuccessAt: new Date() } });
}

/** Records a failure; `lastError` keeps its text until the next failure replaces it. */
export async function recordFailure(prisma: PrismaClient, mailboxId: number, message: string, at: Date): Promise<void> {
  await prisma.mailbox.update({ where: { id: mailboxId }, data: { connected: false, lastError: message, lastErrorAt: at } });
}

/** Records that the poller closed its connection on purpose. */
export async function recordDisconnected(prisma: PrismaClient, mailboxId: number): Promise<void> {
  await prisma.mailbox.updateMany({ where: { id: mailboxId }, data: { connected: false } });
}

// The import boundary is the highest UID that was already in the folder at the first
// connection of a mailbox with importExisting. Messages up to it are old mail, journaled
// with notify:false. It is stored so that an import cut short by a crash or restart
// goes on without mailing anyone about the rest of the old mail.
// NOTE: it lives in the Setting table because the Mailbox model has no column for it yet.

/** The UID range of old mail that a first connection found and is still importing. */
export interface ImportBoundary {
  uidValidity: bigint;
  uid: bigint;
}

function boundaryKey(mailboxId: number): string {
  return `imap.import-boundary.${mailboxId}`;
}

/** Stores the import boundary of a mailbox. */
export async function saveImportBoundary(prisma: PrismaClient, mailboxId: number, boundary: ImportBoundary): Promise<void> {
  const value = JSON.stringify({ uidValidity: boundary.uidValidity.toString(), uid: boundary.uid.toString() });
  await prisma.setting.upsert({ where: { key: boundaryKey(mailboxId) }, create: { key: boundaryKey(mailboxId), value }, update: { value } });
}

/** Reads the import boundary of a mailbox, or null when it has none. */
export async function loadImportBoundary(prisma: PrismaClient, mailboxId: number): Promise<ImportBoundary | null> {
  const row = await prisma.setting.findUnique({ where: { key: boundaryKey(mailboxId) } });
  if (!row) return null;

  const parsed = JSON.parse(row.value) as { uidValidity: string; uid: string };
  return { uidValidity: BigInt(parsed.uidValidity), uid: BigInt(parsed.uid) };
}

/** Removes the import boundary once the old mail is in, or when the mailbox goes away. */
export async function clearImportBoundary(prisma: PrismaClient, mailboxId: number): Promise<void> {
  await prisma.setting.deleteMany({ where: { key: boundaryKey(mailboxId) } });
}
