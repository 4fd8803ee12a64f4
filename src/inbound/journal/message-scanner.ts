import { createHash, type Hash } from 'node:crypto';

const CARRIAGE_RETURN = Buffer.from('\r');

/** Headers larger than this are not scanned for a Message-ID (the message is still kept). */
const MAX_HEADER_SCAN_BYTES = 256 * 1024;

/** Facts the scanner gathers about a message as it streams past. */
export interface ScanResult {
  size: number;
  sha256: string;
  messageId: string | null;
  /**
   * Equal for two deliveries of the same message: the Message-ID with a hash of the
   * body. Relays and IMAP servers add trace headers (Received, Delivered-To) and may
   * change line endings, so the header block and CR characters are left out.
   */
  dedupeKey: string;
}

/**
 * Hash a raw message chunk by chunk and find its Message-ID, without holding more
 * than the header block in memory.
 */
export class MessageScanner {
  private size = 0;
  private readonly rawHash: Hash = createHash('sha256');
  private readonly bodyHash: Hash = createHash('sha256');
  private headerChunks: Buffer[] = [];
  private headerBytes = 0;
  private inBody = false;
  private headerText: string | null = null;
  /** True when the last chunk ended with a CR whose LF may start the next one. */
  private pendingCarriageReturn = false;
  /** Newlines at the end of the body seen so far; hashed only when more text follows. */
  private pendingNewlines = 0;

  private previousByte = -1;
  private bareLineFeed = false;

  /** True once a LF without a CR before it has been seen. */
  get hasBareLineFeed(): boolean {
    return this.bareLineFeed;
  }

  /** Bytes seen so far. */
  get digestedSize(): number {
    return this.size;
  }

  update(chunk: Buffer): void {
    this.size += chunk.length;
    this.rawHash.update(chunk);
    this.checkLineEndings(chunk);

    if (this.inBody) {
      this.updateBody(chunk);
      return;
    }

    this.headerChunks.push(chunk);
    this.headerBytes += chunk.length;
    const joined = Buffer.concat(this.headerChunks);
    const end = findHeaderEnd(joined);
    if (end !== null) {
      this.headerText = joined.subarray(0, end.headerEnd).toString('latin1');
      this.startBody(joined.subarray(end.bodyStart));
    } else if (this.headerBytes > MAX_HEADER_SCAN_BYTES) {
      // A header block this large is hostile or broken: hash everything as body.
      this.headerText = '';
      this.startBody(joined);
    } else {
      this.headerChunks = [joined];
    }
  }

  digest(): ScanResult {
    if (!this.inBody) {
      this.headerText = Buffer.concat(this.headerChunks).toString('latin1');
      this.startBody(Buffer.alloc(0));
    }
    const sha256 = this.rawHash.digest('hex');
    const bodySha = this.bodyHash.digest('hex');
    const messageId = extractMessageId(this.headerText ?? '');
    const dedupeKey = messageId ? createHash('sha256').update(`${messageId}\n${bodySha}`).digest('hex') : `raw:${sha256}`;
    return { size: this.size, sha256, messageId, dedupeKey };
  }

  private checkLineEndings(chunk: Buffer): void {
    if (this.bareLineFeed || chunk.length === 0) return;
    let index = chunk.indexOf(0x0a);
    while (index !== -1) {
      const before = index === 0 ? this.previousByte : chunk[index - 1];
      if (before !== 0x0d) {
        this.bareLineFeed = true;
        return;
      }
      index = chunk.indexOf(0x0a, index + 1);
    }
    this.previousByte = chunk[chunk.length - 1] ?? -1;
  }

  private startBody(rest: Buffer): void {
    this.inBody = true;
    this.headerChunks = [];
    if (rest.length > 0) this.updateBody(rest);
  }

  /**
   * Hash body text without line-break bytes: each line's text, with its LF counted
   * and its CR dropped. A CR at the end of a chunk waits for the next chunk, so the
   * result never depends on where the chunks were cut.
   */
  private updateBody(chunk: Buffer): void {
    let start = 0;
    if (this.pendingCarriageReturn) {
      this.pendingCarriageReturn = false;
      if (chunk[0] !== 0x0a) this.hashBodyText(CARRIAGE_RETURN);
    }

    while (start < chunk.length) {
      const lineFeed = chunk.indexOf(0x0a, start);
      if (lineFeed === -1) {
        let end = chunk.length;
        if (chunk[end - 1] === 0x0d) {
          end--;
          this.pendingCarriageReturn = true;
        }
        if (end > start) this.hashBodyText(chunk.subarray(start, end));
        return;
      }

      const end = lineFeed > start && chunk[lineFeed - 1] === 0x0d ? lineFeed - 1 : lineFeed;
      if (end > start) this.hashBodyText(chunk.subarray(start, end));
      this.pendingNewlines++;
      start = lineFeed + 1;
    }
  }

  private hashBodyText(text: Buffer): void {
    if (this.pendingNewlines > 0) {
      this.bodyHash.update('\n'.repeat(this.pendingNewlines));
      this.pendingNewlines = 0;
    }
    this.bodyHash.update(text);
  }
}

function findHeaderEnd(buffer: Buffer): { headerEnd: number; bodyStart: number } | null {
  const crlf = buffer.indexOf('\r\n\r\n');
  const lf = buffer.indexOf('\n\n');
  if (crlf === -1 && lf === -1) return buffer.length === 0 || buffer[0] === 0x0a || (buffer[0] === 0x0d && buffer[1] === 0x0a) ? emptyHeader(buffer) : null;
  if (lf !== -1 && (crlf === -1 || lf < crlf)) return { headerEnd: lf, bodyStart: lf + 2 };
  return { headerEnd: crlf, bodyStart: crlf + 4 };
}

/** Treat a message that starts with a blank line as one without headers. */
function emptyHeader(buffer: Buffer): { headerEnd: number; bodyStart: number } | null {
  if (buffer.length === 0) return null;
  return { headerEnd: 0, bodyStart: buffer[0] === 0x0a ? 1 : 2 };
}

/** Find the Message-ID header in a raw header block and return it without angle brackets. */
export function extractMessageId(headerText: string): string | null {
  const unfolded = headerText.replace(/\r?\n[ \t]+/g, ' ');
  const match = /^message-id:[ \t]*(.*)$/im.exec(unfolded);
  if (!match) return null;
  return normalizeMessageId(match[1] ?? '');
}

/** Normalise a Message-ID value: strip comments, whitespace and angle brackets. */
export function normalizeMessageId(value: string): string | null {
  const bracketed = /<([^<>\s]+)>/.exec(value);
  const id = (bracketed ? bracketed[1] : value.trim().split(/\s+/)[0]) ?? '';
  if (id.length === 0 || id.length > 998) return null;
  return id;
}
