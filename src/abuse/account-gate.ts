import type { RequestGate } from '../core/gates.ts';
import type { Principal } from '../core/types.ts';
import type { AbuseService } from './service.ts';
import type { AccountMeta } from './types.ts';

/** Most accounts whose metadata the abuse gate remembers having sent; past it, it forgets and resends (harmless). */
const MAX_ACCOUNTS_ANNOUNCED = 1_000_000;

/**
 * The abuse gate, plus the account metadata the detector links rings by (sign-up time, payment fingerprint, KYC,
 * org — the key registry's attributes). Sent the first time an account is seen and again whenever its principal
 * changes (a key update or reload gives a new principal object), so the hot path pays one Map lookup.
 */
export function accountAwareAbuseGate(abuse: AbuseService, onAccount: (meta: AccountMeta) => void): RequestGate {
  const announced = new Map<string, Principal>();
  return {
    name: 'abuse',
    check(input) {
      const p = input.principal;
      if (announced.get(p.accountId) !== p) {
        if (announced.size >= MAX_ACCOUNTS_ANNOUNCED) announced.clear();
        announced.set(p.accountId, p);
        const meta: AccountMeta = { accountId: p.accountId, orgId: p.orgId, kyc: p.kyc };
        if (p.accountCreatedAt !== undefined) meta.createdAt = p.accountCreatedAt;
        if (p.paymentFingerprint !== undefined) meta.paymentFingerprint = p.paymentFingerprint;
        abuse.submitAccount(meta);
        onAccount(meta);
      }
      return abuse.check(p);
    },
  };
}
