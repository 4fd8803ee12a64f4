import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CredentialError, decryptSecret, encryptSecret } from '../../src/imap/credentials.ts';

describe('mailbox credentials', () => {
  const key = randomBytes(32);

  it('round-trips a secret', () => {
    const stored = encryptSecret('pässwörd with spaces', key);

    expect(stored).toMatch(/^v1:[\w-]+:[\w-]+:[\w-]+$/);
    expect(stored).not.toContain('pässwörd');
    expect(decryptSecret(stored, key)).toBe('pässwörd with spaces');
  });

  it('uses a fresh IV each time', () => {
    expect(encryptSecret('same', key)).not.toBe(encryptSecret('same', key));
  });

  it('rejects another key', () => {
    const stored = encryptSecret('secret', key);

    expect(() => decryptSecret(stored, randomBytes(32))).toThrow(CredentialError);
    expect(() => decryptSecret(stored, randomBytes(32))).toThrow(/credential key changed/);
  });

  it('rejects a tampered value', () => {
    const [format, iv, tag, ciphertext] = encryptSecret('secret', key).split(':');
    const flipped = Buffer.from(ciphertext!, 'base64url');
    flipped[0] = flipped[0]! ^ 1;

    expect(() => decryptSecret([format, iv, tag, flipped.toString('base64url')].join(':'), key)).toThrow(/value is damaged/);
  });

  it('rejects unknown formats and short keys', () => {
    expect(() => decryptSecret('plain-text-password', key)).toThrow(/unknown format/);
    expect(() => decryptSecret('v1:AAAA:AAAA:AAAA', key)).toThrow(/bad IV or tag length/);
    expect(() => encryptSecret('secret', randomBytes(16))).toThrow(/must be 32 bytes, got 16/);
  });
});
