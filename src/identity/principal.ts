import type { Principal } from '../core/types.ts';
import type { KeyRecord } from './keys.ts';

/**
 * The principal a stored key stands for: the same fields the key registry serves on the request path, for code that
 * holds a `KeyRecord` (policy explain by key id, replay, the admin API). One place, so a new principal attribute is
 * added once.
 */
export function principalFromKey(k: KeyRecord): Principal {
  const p: { -readonly [K in keyof Principal]: Principal[K] } = {
    keyId: k.id,
    accountId: k.accountId,
    orgId: k.orgId,
    nationalities: k.nationalities,
    residence: k.residence,
    kyc: k.kyc,
    programmes: k.programmes,
    tier: k.tier,
    staff: k.staff,
  };
  if (k.accountCreatedAt !== null) p.accountCreatedAt = k.accountCreatedAt;
  if (k.paymentFingerprint !== null) p.paymentFingerprint = k.paymentFingerprint;
  return p;
}
