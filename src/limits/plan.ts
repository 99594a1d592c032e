/**
 * Pure part of rate limiting: which limits apply to a principal, the GCRA arithmetic, and the 429 verdicts.
 *
 * GCRA (generic cell rate algorithm) is a token bucket kept as one number per limit, the theoretical arrival
 * time `tat`: each unit (a request, or a token) moves `tat` forward by the emission interval T = 60 000 ms / limit;
 * a request costing n units is admitted when max(tat, now) + n·T − now ≤ burst, where burst = limit · burstSeconds/60 · T.
 */
import type { Principal, Verdict } from '../core/types.ts';
import type { LimitsConfig, LimitSet } from './config.ts';

export type Scope = 'key' | 'account' | 'org';
export type Kind = 'rpm' | 'tpm';

export interface RateCheck {
  /** Stable storage key suffix, e.g. `rpm:account:acct_1`. */
  id: string;
  kind: Kind;
  scope: Scope;
  limit: number;
  /** Emission interval, ms per unit. */
  intervalMs: number;
  /** Bucket depth in ms. */
  burstMs: number;
}

export interface BudgetCheck {
  id: string;
  scope: Scope;
  budgetUsd: number;
}

export interface Plan {
  rates: RateCheck[];
  budgets: BudgetCheck[];
}

function effective(cfg: LimitsConfig, scope: Scope, id: string): LimitSet {
  const o = cfg.overrides[scope][id];
  return o ? { ...cfg.defaults[scope], ...o } : cfg.defaults[scope];
}

/** The limits that apply to this principal, every scope it belongs to. `share` scales them (per-replica fallback). */
export function planFor(cfg: LimitsConfig, p: Pick<Principal, 'keyId' | 'accountId' | 'orgId'>, share = 1, month = currentMonth(Date.now())): Plan {
  const plan: Plan = { rates: [], budgets: [] };
  const scopes: [Scope, string | null][] = [['key', p.keyId], ['account', p.accountId], ['org', p.orgId]];
  for (const [scope, id] of scopes) {
    if (!id) continue;
    const set = effective(cfg, scope, id);
    for (const kind of ['rpm', 'tpm'] as const) {
      const configured = set[kind];
      if (configured === undefined) continue;
      const limit = Math.max(1, configured * share);
      const intervalMs = 60_000 / limit;
      plan.rates.push({ id: `${kind}:${scope}:${id}`, kind, scope, limit, intervalMs, burstMs: Math.max(intervalMs, limit * (cfg.burstSeconds / 60) * intervalMs) });
    }
    if (set.monthlyBudgetUsd !== undefined) plan.budgets.push({ id: `budget:${scope}:${id}:${month}`, scope, budgetUsd: set.monthlyBudgetUsd * share });
  }
  return plan;
}

/** GCRA step. Returns the new tat when admitted, or how long to wait. */
export function gcra(tat: number, now: number, intervalMs: number, burstMs: number, units: number): { ok: true; tat: number } | { ok: false; retryAfterMs: number } {
  const next = Math.max(tat, now) + units * intervalMs;
  const over = next - now - burstMs;
  if (over > 1e-9) return { ok: false, retryAfterMs: over };
  return { ok: true, tat: next };
}

export function currentMonth(now: number): string {
  return new Date(now).toISOString().slice(0, 7);
}

export function msUntilNextMonth(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) - now;
}

/**
 * A request costing more units than a limit's whole bucket holds can never be admitted, however long the caller
 * waits. Checked before any bucket is read, so it is refused the same way whatever the buckets' state.
 */
export function neverFits(plan: Plan, estimatedTokens: number): Verdict | null {
  for (const r of plan.rates) {
    if (r.kind !== 'tpm') continue;
    if (estimatedTokens * r.intervalMs > r.burstMs + 1e-9) return tooLargeRefusal(r, estimatedTokens);
  }
  return null;
}

/**
 * 413 `request_exceeds_limit`, without Retry-After: a 429 would make the official SDKs retry (sleeping as long as
 * Retry-After says), and retrying cannot help. 4xx other than 408/409/429 is what both SDKs never retry.
 */
export function tooLargeRefusal(check: RateCheck, units: number): Verdict {
  const unit = check.kind === 'rpm' ? 'requests' : 'tokens';
  const atOnce = Math.floor(check.burstMs / check.intervalMs);
  return {
    action: 'refuse',
    status: 413,
    code: 'request_exceeds_limit',
    message: `This request needs about ${units} ${unit}, more than the ${check.scope}'s limit of ${Math.round(check.limit)} ${unit} per minute allows at once (${atOnce}); it can never be admitted as it is. Send a smaller request.`,
    ref: { limit: check.id },
  };
}

export function rateRefusal(check: RateCheck, retryAfterMs: number, units: number): Verdict {
  if (units * check.intervalMs > check.burstMs + 1e-9) return tooLargeRefusal(check, units);
  const unit = check.kind === 'rpm' ? 'requests' : 'tokens';
  return {
    action: 'refuse',
    status: 429,
    code: `rate_limit_${check.kind}_${check.scope}`,
    message: `${check.scope} limit of ${Math.round(check.limit)} ${unit} per minute reached; retry after ${Math.ceil(retryAfterMs / 1000)} s`,
    ref: { limit: check.id },
    retryAfter: Math.max(1, Math.ceil(retryAfterMs / 1000)),
  };
}

export function budgetRefusal(check: BudgetCheck, spent: number, now: number): Verdict {
  return {
    action: 'refuse',
    status: 429,
    code: `budget_monthly_${check.scope}`,
    message: `${check.scope} monthly spend budget of $${check.budgetUsd.toFixed(2)} reached ($${spent.toFixed(2)} spent this month)`,
    ref: { limit: check.id },
    retryAfter: Math.ceil(msUntilNextMonth(now) / 1000),
  };
}

export const ALLOW: Verdict = { action: 'allow' };
