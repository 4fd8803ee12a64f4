import type { FolderPosition, ImportBoundary } from './mailbox-state.js';

/** Where reading a folder starts, and why. */
export type StartDecision =
  | { kind: 'resume'; position: FolderPosition }
  | { kind: 'first-connection'; position: FolderPosition; importBoundary: ImportBoundary | null }
  | { kind: 'uidvalidity-changed'; previousUidValidity: bigint; position: FolderPosition };

/** The position stored for a mailbox; both fields are null before its first connection. */
export interface StoredPosition {
  uidValidity: bigint | null;
  lastUid: bigint | null;
}

/** What SELECT reported for the folder. */
export interface FolderStatus {
  uidValidity: bigint;
  /** The UID the next message will get; every message present has a lower one. */
  uidNext: number;
}

/**
 * Decides where to start reading a folder.
 * - First connection (no stored UIDVALIDITY): with importExisting, start at UID 0 and
 *   mark everything below UIDNEXT as old mail; otherwise start at UIDNEXT-1, so only
 *   mail arriving from now on is read.
 * - A different UIDVALIDITY: the UIDs were renumbered (RFC 3501, section 2.3.1.1), so
 *   the whole folder is read again. Messages already processed come back as
 *   duplicates, which processing recognises by Message-ID and body.
 * - Otherwise: go on after the stored UID.
 */
export function decideStartPosition(stored: StoredPosition, importExisting: boolean, folder: FolderStatus): StartDecision {
  const newestUid = BigInt(Math.max(folder.uidNext - 1, 0));

  if (stored.uidValidity === null) {
    if (!importExisting) return { kind: 'first-connection', position: { uidValidity: folder.uidValidity, lastUid: newestUid }, importBoundary: null };
    const importBoundary = newestUid > 0n ? { uidValidity: folder.uidValidity, uid: newestUid } : null;
    return { kind: 'first-connection', position: { uidValidity: folder.uidValidity, lastUid: 0n }, importBoundary };
  }

  if (stored.uidValidity !== folder.uidValidity) {
    return { kind: 'uidvalidity-changed', previousUidValidity: stored.uidValidity, position: { uidValidity: folder.uidValidity, lastUid: 0n } };
  }

  return { kind: 'resume', position: { uidValidity: folder.uidValidity, lastUid: stored.lastUid ?? 0n } };
}
