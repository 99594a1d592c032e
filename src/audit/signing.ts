/**
 * Ed25519 keys for checkpoints. A key is given as PEM text, as base64 of its DER (PKCS#8 for the private key,
 * SPKI for the public one) or as a path to a file holding either. The checkpoint signature covers the
 * canonical JSON of `{seq, hash, time}` of the record it seals (the one just before the checkpoint).
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { canonicalJson } from './canonical-json.ts';

function material(spec: string): string {
  const t = spec.trim();
  if (t.startsWith('-----BEGIN')) return t;
  // A path if it names an existing file; otherwise base64 DER.
  if (!/^[A-Za-z0-9+/=\s]+$/.test(t) || existsSync(t)) return readFileSync(t, 'utf8').trim();
  return t;
}

export function loadPrivateKey(spec: string): KeyObject {
  const m = material(spec);
  const key = m.startsWith('-----BEGIN')
    ? createPrivateKey(m)
    : createPrivateKey({ key: Buffer.from(m, 'base64'), format: 'der', type: 'pkcs8' });
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`audit signing key must be Ed25519, got ${key.asymmetricKeyType}`);
  return key;
}

/** Accepts a public key, or a private key from which the public half is derived. */
export function loadPublicKey(spec: string): KeyObject {
  const m = material(spec);
  let key: KeyObject;
  if (m.startsWith('-----BEGIN')) key = m.includes('PRIVATE KEY') ? createPublicKey(createPrivateKey(m)) : createPublicKey(m);
  else {
    const der = Buffer.from(m, 'base64');
    try {
      key = createPublicKey({ key: der, format: 'der', type: 'spki' });
    } catch {
      key = createPublicKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
    }
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`audit public key must be Ed25519, got ${key.asymmetricKeyType}`);
  return key;
}

export interface CheckpointClaim {
  seq: number;
  hash: string;
  time: number;
}

export function signCheckpoint(key: KeyObject, claim: CheckpointClaim): string {
  return sign(null, Buffer.from(canonicalJson(claim)), key).toString('base64');
}

export function verifyCheckpoint(key: KeyObject, claim: CheckpointClaim, signature: string): boolean {
  try {
    return verify(null, Buffer.from(canonicalJson(claim)), key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
