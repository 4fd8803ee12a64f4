import { describe, expect, it } from 'vitest';
import { envelopeOf } from '../../src/imap/importer.ts';
import { decideStartPosition } from '../../src/imap/position.ts';

describe('decideStartPosition', () => {
  const folder = { uidValidity: 1700n, uidNext: 42 };

  it('starts after the newest message on a first connection', () => {
    expect(decideStartPosition({ uidValidity: null, lastUid: null }, false, folder)).toEqual({
      kind: 'first-connection',
      position: { uidValidity: 1700n, lastUid: 41n },
      importBoundary: null,
    });
  });

  it('imports old mail when configured', () => {
    expect(decideStartPosition({ uidValidity: null, lastUid: null }, true, folder)).toEqual({
      kind: 'first-connection',
      position: { uidValidity: 1700n, lastUid: 0n },
      importBoundary: { uidValidity: 1700n, uid: 41n },
    });
  });

  it('needs no import boundary for an empty folder', () => {
    const decision = decideStartPosition({ uidValidity: null, lastUid: null }, true, { uidValidity: 5n, uidNext: 1 });

    expect(decision).toEqual({ kind: 'first-connection', position: { uidValidity: 5n, lastUid: 0n }, importBoundary: null });
  });

  it('reads everything again after a UIDVALIDITY change', () => {
    expect(decideStartPosition({ uidValidity: 1600n, lastUid: 900n }, false, folder)).toEqual({
      kind: 'uidvalidity-changed',
      previousUidValidity: 1600n,
      position: { uidValidity: 1700n, lastUid: 0n },
    });
  });

  it('resumes after the stored UID', () => {
    expect(decideStartPosition({ uidValidity: 1700n, lastUid: 30n }, true, folder)).toEqual({ kind: 'resume', position: { uidValidity: 1700n, lastUid: 30n } });
  });
});

describe('envelopeOf', () => {
  it('takes the sender from Return-Path', () => {
    const raw = Buffer.from('Return-Path: <bounce@example.org>\r\nFrom: a@example.org\r\n\r\nReturn-Path: <body@example.org>\r\n');

    expect(envelopeOf(raw, 'support@example.com')).toEqual({ mailFrom: 'bounce@example.org', rcptTo: ['support@example.com'] });
  });

  it('keeps a null sender empty', () => {
    expect(envelopeOf(Buffer.from('Return-Path: <>\r\nSubject: DSN\r\n\r\nbody'), null)).toEqual({ mailFrom: '', rcptTo: [] });
  });

  it('leaves the sender unknown without Return-Path', () => {
    expect(envelopeOf(Buffer.from('From: a@example.org\r\n\r\nReturn-Path: <body@example.org>\r\n'), null).mailFrom).toBeNull();
  });
});
