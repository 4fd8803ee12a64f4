import { describe, expect, it } from 'vitest';
import { MessageScanner } from '../../../src/inbound/journal/message-scanner.js';

function scan(chunks: string[]) {
  const scanner = new MessageScanner();
  for (const chunk of chunks) scanner.update(Buffer.from(chunk, 'latin1'));
  return { ...scanner.digest(), bareLineFeed: scanner.hasBareLineFeed };
}

// Hand-written messages: the scanner's job is byte-level, so small strings show it best.
describe('MessageScanner', () => {
  const crlf = 'Message-ID: <one@example.test>\r\nSubject: hi\r\n\r\nline one\r\nline two\r\n\r\n';

  it('finds the Message-ID without brackets', () => {
    expect(scan([crlf]).messageId).toBe('one@example.test');
  });

  it('keys CRLF and LF copies alike', () => {
    const lf = 'Received: by relay.test\nMessage-ID: <one@example.test>\nSubject: hi\n\nline one\nline two\n';

    expect(scan([lf]).dedupeKey).toBe(scan([crlf]).dedupeKey);
  });

  it('keys the same however the chunks are cut', () => {
    const whole = scan([crlf]).dedupeKey;

    for (let cut = 1; cut < crlf.length; cut++) {
      expect(scan([crlf.slice(0, cut), crlf.slice(cut)]).dedupeKey, `cut at ${cut}`).toBe(whole);
    }
  });

  it('keys different bodies differently', () => {
    const other = crlf.replace('line two', 'line 2');

    expect(scan([other]).dedupeKey).not.toBe(scan([crlf]).dedupeKey);
  });

  it('falls back to the raw hash without a Message-ID', () => {
    const result = scan(['Subject: none\r\n\r\nbody\r\n']);

    expect(result.messageId).toBeNull();
    expect(result.dedupeKey).toBe(`raw:${result.sha256}`);
  });

  it('notices a bare LF across chunks', () => {
    expect(scan(['Subject: a\r', '\nX: b\r\n\r\nok\r\n']).bareLineFeed).toBe(false);
    expect(scan(['Subject: a\r\n', '\nbody']).bareLineFeed).toBe(true);
  });
});
