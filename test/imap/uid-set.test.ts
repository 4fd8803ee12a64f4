import { describe, expect, it } from 'vitest';
import { chunkUids, countUidsAbove, formatUidSet, parseUidSet, rangesOfUids } from '../../src/imap/uid-set.ts';

describe('UID sets', () => {
  it('parses sequence sets into sorted ranges', () => {
    expect(parseUidSet('20,1,5:10,12:11')).toEqual([
      { start: 1, end: 1 },
      { start: 5, end: 10 },
      { start: 11, end: 12 },
      { start: 20, end: 20 },
    ]);
  });

  it('rejects text that is no sequence set', () => {
    expect(() => parseUidSet('1:*')).toThrow(/invalid UID set "1:\*"/);
    expect(() => parseUidSet('')).toThrow(/invalid UID set/);
  });

  it('counts and chunks only UIDs above the position', () => {
    // `n:*` returns the highest UID even when it is below n, as 7 is here.
    const ranges = parseUidSet('7');
    const backlog = parseUidSet('3:7,9,12:14');

    expect(countUidsAbove(ranges, 9)).toBe(0);
    expect([...chunkUids(ranges, 9, 50)]).toEqual([]);
    expect(countUidsAbove(backlog, 5)).toBe(6);
    expect([...chunkUids(backlog, 5, 4)]).toEqual([
      [6, 7, 9, 12],
      [13, 14],
    ]);
  });

  it('chunks a large range lazily', () => {
    const chunks = chunkUids(parseUidSet('1:4000000000'), 0, 50);

    expect(chunks.next().value).toHaveLength(50);
    expect(countUidsAbove(parseUidSet('1:4000000000'), 100)).toBe(3_999_999_900);
  });

  it('skips UIDs listed twice', () => {
    expect([...chunkUids(rangesOfUids([5, 3, 5, 4]), 0, 10)]).toEqual([[3, 4, 5]]);
  });

  it('formats UIDs compactly', () => {
    expect(formatUidSet([9, 1, 2, 3, 7, 10])).toBe('1:3,7,9:10');
    expect(formatUidSet([42])).toBe('42');
  });
});
