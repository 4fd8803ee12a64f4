/** An inclusive range of UIDs. */
export interface UidRange {
  start: number;
  end: number;
}

/**
 * Parses an IMAP sequence set of UIDs such as `1,5:10,20` (RFC 3501, section 9,
 * `sequence-set`, as an ESEARCH `ALL` result returns it) into ranges sorted by
 * their start. Throws for `*` or text that is not a sequence set.
 */
export function parseUidSet(set: string): UidRange[] {
  const ranges: UidRange[] = [];
  for (const part of set.split(',')) {
    const match = /^(\d+)(?::(\d+))?$/.exec(part.trim());
    if (!match) throw new Error(`invalid UID set ${JSON.stringify(set)}`);

    const first = Number(match[1]);
    const second = match[2] === undefined ? first : Number(match[2]);
    ranges.push({ start: Math.min(first, second), end: Math.max(first, second) });
  }
  return ranges.sort((a, b) => a.start - b.start);
}

/** Turns a plain list of UIDs (a SEARCH result) into sorted single-UID ranges. */
export function rangesOfUids(uids: readonly number[]): UidRange[] {
  return [...uids].sort((a, b) => a - b).map((uid) => ({ start: uid, end: uid }));
}

/** Counts the UIDs above `after` in sorted ranges. */
export function countUidsAbove(ranges: readonly UidRange[], after: number): number {
  let count = 0;
  for (const range of ranges) {
    if (range.end > after) count += range.end - Math.max(range.start, after + 1) + 1;
  }
  return count;
}

/**
 * Yields the UIDs above `after` in ascending order, `size` at a time, without
 * expanding the whole set: a backlog of any size costs only its ranges.
 */
export function* chunkUids(ranges: readonly UidRange[], after: number, size: number): Generator<number[]> {
  let chunk: number[] = [];
  let previous = after;
  for (const range of ranges) {
    for (let uid = Math.max(range.start, previous + 1); uid <= range.end; uid++) {
      chunk.push(uid);
      previous = uid;
      if (chunk.length === size) {
        yield chunk;
        chunk = [];
      }
    }
  }
  if (chunk.length > 0) yield chunk;
}

/** Formats UIDs as a compact sequence set for a UID command. */
export function formatUidSet(uids: readonly number[]): string {
  const sorted = [...uids].sort((a, b) => a - b);
  const parts: string[] = [];
  let index = 0;
  while (index < sorted.length) {
    const start = sorted[index]!;
    let end = start;
    while (index + 1 < sorted.length && sorted[index + 1] === end + 1) end = sorted[++index]!;
    parts.push(start === end ? String(start) : `${start}:${end}`);
    index++;
  }
  return parts.join(',');
}
