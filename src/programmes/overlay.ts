/**
 * Pure: the principal a key stands for, with the account's granted programmes and verified KYC level laid over it.
 * A grant counts while `now < expiresAt` (or it has no expiry); it matches a principal by account or organisation.
 * The KYC level is the higher of the key's own and the provider-verified one (a verification never lowers a level
 * set by an operator on the key).
 */
import { KYC_LEVELS, type KycLevel, type Principal } from '../core/types.ts';

export interface Grant {
  /** The application's id. */
  id: string;
  programme: string;
  subjectKind: 'account' | 'org';
  subjectId: string;
  /** When set, the grant also puts the principal in this safeguard tier. */
  tier: string | null;
  expiresAt: number | null;
}

export interface TrustState {
  grants: readonly Grant[];
  /** accountId → verified level. */
  kyc: ReadonlyMap<string, KycLevel>;
}

export const EMPTY_STATE: TrustState = { grants: [], kyc: new Map() };

export function activeGrants(state: TrustState, p: Pick<Principal, 'accountId' | 'orgId'>, now: number): Grant[] {
  return state.grants.filter(
    (g) => (g.expiresAt === null || now < g.expiresAt) && ((g.subjectKind === 'account' && g.subjectId === p.accountId) || (g.subjectKind === 'org' && p.orgId !== null && g.subjectId === p.orgId)),
  );
}

export function higherKyc(a: KycLevel, b: KycLevel): KycLevel {
  return KYC_LEVELS.indexOf(a) >= KYC_LEVELS.indexOf(b) ? a : b;
}

/** The principal unchanged when nothing applies (no allocation on the common path). */
export function enrich(p: Principal, state: TrustState, now: number): Principal {
  const verified = state.kyc.get(p.accountId);
  const grants = state.grants.length ? activeGrants(state, p, now) : [];
  if (!grants.length && (verified === undefined || higherKyc(p.kyc, verified) === p.kyc)) return p;
  const programmes = [...p.programmes];
  for (const g of grants) if (!programmes.includes(g.programme)) programmes.push(g.programme);
  const tier = grants.find((g) => g.tier !== null)?.tier ?? p.tier;
  return Object.freeze({ ...p, programmes, tier, kyc: verified === undefined ? p.kyc : higherKyc(p.kyc, verified) });
}

/** Grants still in force that end within `withinMs` of `now`, soonest first. */
export function expiringGrants(state: TrustState, now: number, withinMs: number): Grant[] {
  return state.grants.filter((g) => g.expiresAt !== null && now < g.expiresAt && g.expiresAt - now <= withinMs).sort((a, b) => a.expiresAt! - b.expiresAt!);
}
