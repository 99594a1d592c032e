/**
 * API key secrets. A secret is `gh_` + 32 random bytes in base64url (46 characters). Only its SHA-256 is
 * stored: the secret has 256 bits of entropy, so a fast unsalted hash is enough (no dictionary to attack)
 * and keeps the per-request cost to one hash. The first 8 characters are kept as a display prefix.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as crypto from 'node:crypto';

export const SECRET_PREFIX = 'gh_';
export const SECRET_LENGTH = SECRET_PREFIX.length + 43;
export const DISPLAY_PREFIX_LENGTH = 8;

export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64url');
}

/** Non-secret, stable key id used in listings, logs and events. */
export function generateKeyId(): string {
  return 'key_' + randomBytes(12).toString('base64url');
}

export function displayPrefix(secret: string): string {
  return secret.slice(0, DISPLAY_PREFIX_LENGTH);
}

// crypto.hash (Node ≥ 20.12) is a one-shot digest without a Hash object: about twice as fast for short inputs.
const oneShot = (crypto as unknown as { hash?: (alg: string, data: string, enc: 'hex') => string }).hash;

export const hashSecret: (secret: string) => string = oneShot
  ? (secret) => oneShot('sha256', secret, 'hex')
  : (secret) => createHash('sha256').update(secret).digest('hex');
