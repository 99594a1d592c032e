/**
 * In-process limiter: GCRA state and month-to-date spend in Maps. All checks of one request are evaluated
 * before any is committed, so a request refused by its account limit does not use up its key's allowance.
 * Idle entries (tat in the past) are swept every minute to bound memory.
 */
import type { Principal, Verdict } from '../core/types.ts';
import { configSchema, type LimitsConfig, type LimitsConfigInput } from './config.ts';
import { ALLOW, budgetRefusal, currentMonth, gcra, neverFits, planFor, rateRefusal, type Plan } from './plan.ts';

type Who = Pick<Principal, 'keyId' | 'accountId' | 'orgId'>;

export class MemoryLimiter {
  readonly config: LimitsConfig;
  private readonly tat = new Map<string, number>();
  private readonly spend = new Map<string, number>();
  private readonly sweeper: NodeJS.Timeout;
  /** Plans per principal for the current month; rebuilt when the month changes. Bounded by clearing. */
  private plans = new Map<string, Plan>();
  private scratch: number[] = [];
  private planMonth = '';
  private monthEndsAt = 0;

  constructor(config: LimitsConfigInput | LimitsConfig = {}, private readonly clock: () => number = Date.now, private readonly share = 1) {
    this.config = configSchema.parse(config);
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  private planOf(principal: Who, now: number): Plan {
    if (now >= this.monthEndsAt || now < this.monthEndsAt - 32 * 86_400_000) {
      this.planMonth = currentMonth(now);
      const d = new Date(now);
      this.monthEndsAt = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
      this.plans.clear();
    }
    const k = `${principal.keyId}\u0000${principal.accountId}\u0000${principal.orgId}`;
    let plan = this.plans.get(k);
    if (!plan) {
      if (this.plans.size >= 50_000) this.plans.clear();
      plan = planFor(this.config, principal, this.share, this.planMonth);
      this.plans.set(k, plan);
    }
    return plan;
  }

  admitSync(principal: Who, _model: string, estimatedTokens: number): Verdict {
    if (!this.config.enabled) return ALLOW;
    const now = this.clock();
    const plan = this.planOf(principal, now);
    const tooLarge = neverFits(plan, estimatedTokens);
    if (tooLarge) return tooLarge;
    for (const b of plan.budgets) {
      const spent = this.spend.get(b.id) ?? 0;
      if (spent >= b.budgetUsd) return budgetRefusal(b, spent, now);
    }
    const rates = plan.rates;
    const nextTats = this.scratch.length >= rates.length ? this.scratch : (this.scratch = new Array<number>(rates.length));
    for (let i = 0; i < rates.length; i++) {
      const r = rates[i];
      const units = r.kind === 'rpm' ? 1 : Math.max(0, estimatedTokens);
      const res = gcra(this.tat.get(r.id) ?? 0, now, r.intervalMs, r.burstMs, units);
      if (!res.ok) return rateRefusal(r, res.retryAfterMs, units);
      nextTats[i] = res.tat;
    }
    for (let i = 0; i < rates.length; i++) this.tat.set(rates[i].id, nextTats[i]);
    return ALLOW;
  }

  settleSync(principal: Who, actualTokens: number, costUsd: number, admittedTokens = 0): void {
    if (!this.config.enabled) return;
    const now = this.clock();
    const plan = this.planOf(principal, now);
    const delta = actualTokens - admittedTokens;
    if (delta !== 0) {
      for (const r of plan.rates) {
        if (r.kind !== 'tpm') continue;
        // Tokens beyond the estimate are owed (tat may move past the burst: later requests wait); unused ones are given back.
        // A tat at or before `now` means a full bucket, so a give-back below `now` changes nothing (as it should).
        this.tat.set(r.id, Math.max(this.tat.get(r.id) ?? 0, now) + delta * r.intervalMs);
      }
    }
    if (costUsd > 0) for (const b of plan.budgets) this.spend.set(b.id, (this.spend.get(b.id) ?? 0) + costUsd);
  }

  admit(principal: Who, model: string, estimatedTokens: number): Promise<Verdict> {
    return Promise.resolve(this.admitSync(principal, model, estimatedTokens));
  }

  settle(principal: Who, actualTokens: number, costUsd: number, admittedTokens = 0): Promise<void> {
    this.settleSync(principal, actualTokens, costUsd, admittedTokens);
    return Promise.resolve();
  }

  /** Seed month-to-date spend (e.g. from the meter's table after a restart). */
  seedSpend(scope: 'key' | 'account' | 'org', id: string, usd: number): void {
    this.spend.set(`budget:${scope}:${id}:${currentMonth(this.clock())}`, usd);
  }

  readiness(): { redisOk: boolean; mode: 'memory' } {
    return { redisOk: true, mode: 'memory' };
  }

  private sweep(): void {
    const now = this.clock();
    for (const [k, t] of this.tat) if (t <= now) this.tat.delete(k);
    const month = currentMonth(now);
    for (const k of this.spend.keys()) if (!k.endsWith(month)) this.spend.delete(k);
  }

  close(): Promise<void> {
    clearInterval(this.sweeper);
    return Promise.resolve();
  }
}
