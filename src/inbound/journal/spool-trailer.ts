import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

/**
 * The trailer that follows a message's bytes in a spool file: the entry's metadata as
 * JSON, then a footer line of fixed length with the JSON's length and SHA-256. Writing
 * the metadata into the message file lets one sync commit both.
 *
 *   <message bytes><JSON>\nPostdesk-Spool-Entry: v1 0000000345 <sha256 of the JSON>\n
 */
const FOOTER_PREFIX = '\nPostdesk-Spool-Entry: v1 ';
const LENGTH_DIGITS = 10;
const FOOTER_LENGTH = FOOTER_PREFIX.length + LENGTH_DIGITS + 1 + 64 + 1;
const FOOTER_PATTERN = /^\nPostdesk-Spool-Entry: v1 (\d{10}) ([0-9a-f]{64})\n$/;

/** The fields every trailer must have; the spool's entry type adds the rest. */
export interface TrailerEntry {
  id: string;
  size: number;
  sha256: string;
  dedupeKey: string;
}

/** Encode the trailer for an entry whose message is `entry.size` bytes long. */
export function encodeTrailer(entry: TrailerEntry): Buffer {
  const json = Buffer.from(JSON.stringify(entry), 'utf8');
  const footer = `${FOOTER_PREFIX}${json.length.toString().padStart(LENGTH_DIGITS, '0')} ${sha256Hex(json)}\n`;
  return Buffer.concat([json, Buffer.from(footer, 'latin1')]);
}

/**
 * Read and check the trailer of an open spool file. Returns the entry, or the reason
 * the file contains no complete entry: a write that never finished, a crash before its
 * sync returned, or a file that is not this spool's. The entry must name `expectedId`
 * (the file's own name), so that a trailer-like text inside a message, left at the end
 * of a torn file, cannot pass for the real one. The message's bytes are hashed again
 * and compared with the entry's SHA-256.
 */
export async function readTrailer<Entry extends TrailerEntry>(handle: FileHandle, expectedId: string): Promise<{ entry: Entry } | { invalid: string }> {
  const { size: fileSize } = await handle.stat();
  if (fileSize < FOOTER_LENGTH) return { invalid: 'too short for a trailer' };

  const footer = (await readExactly(handle, fileSize - FOOTER_LENGTH, FOOTER_LENGTH)).toString('latin1');
  const match = FOOTER_PATTERN.exec(footer);
  if (!match) return { invalid: 'no trailer footer' };
  const jsonLength = Number(match[1]);
  const jsonStart = fileSize - FOOTER_LENGTH - jsonLength;
  if (jsonStart < 0) return { invalid: 'trailer longer than the file' };

  const json = await readExactly(handle, jsonStart, jsonLength);
  if (sha256Hex(json) !== match[2]) return { invalid: 'trailer checksum mismatch' };
  let entry: Entry;
  try {
    entry = JSON.parse(json.toString('utf8')) as Entry;
  } catch (error) {
    if (error instanceof SyntaxError) return { invalid: 'trailer is not JSON' };
    throw error;
  }
  if (entry.id !== expectedId || typeof entry.dedupeKey !== 'string') return { invalid: 'trailer names another entry' };
  if (entry.size !== jsonStart) return { invalid: 'message size does not match the trailer' };
  if ((await hashRange(handle, 0, entry.size)) !== entry.sha256) return { invalid: 'message checksum mismatch' };
  return { entry };
}

/** Read `length` bytes at `position`; fails if the file ends first. */
export async function readExactly(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) throw new Error(`unexpected end of file: read ${filled} of ${length} bytes at offset ${position}`);
    filled += bytesRead;
  }
  return buffer;
}

async function hashRange(handle: FileHandle, start: number, length: number): Promise<string> {
  const hash = createHash('sha256');
  const chunk = Buffer.allocUnsafe(Math.min(length, 1024 * 1024));
  let position = start;
  const end = start + length;
  while (position < end) {
    const { bytesRead } = await handle.read(chunk, 0, Math.min(chunk.length, end - position), position);
    if (bytesRead === 0) break;
    hash.update(chunk.subarray(0, bytesRead));
    position += bytesRead;
  }
  return hash.digest('hex');
}

function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}
