import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** Format tag of a stored secret; a later key scheme gets a new tag. */
const FORMAT = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Binds a ciphertext to its purpose, so it cannot be swapped with another encrypted value. */
const ASSOCIATED_DATA = Buffer.from('postdesk:mailbox-secret');

/** Raised when a stored secret cannot be decrypted: a changed credential key or a damaged value. */
export class CredentialError extends Error {
  readonly code = 'CREDENTIAL_INVALID';

  constructor(message: string) {
    super(message);
    this.name = 'CredentialError';
  }
}

/**
 * Encrypts a mailbox password or access token with AES-256-GCM. Returns
 * `v1:<iv>:<tag>:<ciphertext>` in base64url, safe to store in the database.
 */
export function encryptSecret(plaintext: string, key: Buffer): string {
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(ASSOCIATED_DATA);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [FORMAT, iv.toString('base64url'), tag.toString('base64url'), ciphertext.toString('base64url')].join(':');
}

/** Decrypts a value made by encryptSecret. Throws CredentialError when the key is wrong or the value damaged. */
export function decryptSecret(stored: string, key: Buffer): string {
  checkKey(key);
  const [format, ivText, tagText, ciphertextText, ...rest] = stored.split(':');
  if (format !== FORMAT || ivText === undefined || tagText === undefined || ciphertextText === undefined || rest.length > 0) {
    throw new CredentialError(`stored secret has an unknown format (expected ${FORMAT}:iv:tag:ciphertext)`);
  }

  const iv = Buffer.from(ivText, 'base64url');
  const tag = Buffer.from(tagText, 'base64url');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new CredentialError('stored secret is damaged (bad IV or tag length)');

  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(ASSOCIATED_DATA);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(ciphertextText, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    // GCM reports a wrong key and a tampered value the same way: the tag does not match.
    throw new CredentialError('stored secret cannot be decrypted: the credential key changed or the value is damaged; store the password or token again');
  }
}

function checkKey(key: Buffer): void {
  if (key.length !== 32) throw new CredentialError(`credential key must be 32 bytes, got ${key.length}`);
}
