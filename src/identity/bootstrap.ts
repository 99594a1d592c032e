/**
 * Keys declared in config (`identity.keys`), turned into registry entries. Resolved once per config load,
 * so a missing environment variable is a config error at start/reload, never a per-request surprise.
 */
import type { Principal } from '../core/types.ts';
import type { IdentityConfig } from './config.ts';
import type { KeyEntry } from './keys.ts';
import { hashSecret } from './secrets.ts';

export class IdentityConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdentityConfigError';
  }
}

export function configKeyEntries(config: IdentityConfig, env: NodeJS.ProcessEnv = process.env): KeyEntry[] {
  const seen = new Map<string, number>();
  return config.keys.map((k, i) => {
    let hash: string;
    if (k.secretHash !== undefined) hash = k.secretHash;
    else if (k.secretEnv !== undefined) {
      const secret = env[k.secretEnv];
      if (!secret) throw new IdentityConfigError(`identity.keys[${i}].secretEnv: environment variable ${k.secretEnv} is not set or empty`);
      hash = hashSecret(secret);
    } else hash = hashSecret(k.secret!);
    const previous = seen.get(hash);
    if (previous !== undefined) throw new IdentityConfigError(`identity.keys[${i}]: same secret as identity.keys[${previous}]`);
    seen.set(hash, i);
    const principal: { -readonly [K in keyof Principal]: Principal[K] } = {
      keyId: k.id ?? `cfg_${hash.slice(0, 12)}`,
      accountId: k.accountId,
      orgId: k.orgId,
      nationalities: Object.freeze([...k.nationalities]),
      residence: k.residence,
      kyc: k.kyc,
      programmes: Object.freeze([...k.programmes]),
      tier: k.tier,
      staff: k.staff,
    };
    if (k.accountCreatedAt !== null) principal.accountCreatedAt = k.accountCreatedAt;
    if (k.paymentFingerprint !== null) principal.paymentFingerprint = k.paymentFingerprint;
    return { hash, revoked: false, principal: Object.freeze(principal) };
  });
}
