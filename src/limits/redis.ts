/**
 * Redis limiter: the same GCRA and budgets as the in-memory one, evaluated atomically in one Lua script per
 * decision so replicas share one allowance. Time comes from Redis (`TIME`), so replicas' clocks do not matter.
 * Every check of a request is evaluated before any is committed (as in memory).
 *
 * Redis unreachable (or slower than `redis.timeoutMs`): the decision falls back per `redis.fallback` —
 * `local` uses an in-process limiter with `localShare` of each limit (per-replica limits), `allow` admits,
 * `refuse` answers 503. `readiness().redisOk` says which state we are in, for /readyz.
 */
import { Redis } from 'ioredis';
import type { Principal, Verdict } from '../core/types.ts';
import { configSchema, type LimitsConfig, type LimitsConfigInput } from './config.ts';
import { ALLOW, budgetRefusal, currentMonth, neverFits, planFor, rateRefusal } from './plan.ts';
import { MemoryLimiter } from './memory.ts';

type Who = Pick<Principal, 'keyId' | 'accountId' | 'orgId'>;

// KEYS: rate keys (nr of them) then budget keys. ARGV: nr, then interval/burst/units per rate, then budget per budget key.
// Returns {0} admitted; {1, i, overMs, now} rate i refused; {2, i, spent, now} budget i exhausted.
const ADMIT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local nr = tonumber(ARGV[1])
local nb = #KEYS - nr
for i = 1, nb do
  local spent = tonumber(redis.call('GET', KEYS[nr + i]) or '0')
  if spent >= tonumber(ARGV[1 + 3 * nr + i]) then return {2, i, tostring(spent), tostring(now)} end
end
local tats = {}
for i = 1, nr do
  local interval = tonumber(ARGV[3 * i - 1])
  local burst = tonumber(ARGV[3 * i])
  local units = tonumber(ARGV[3 * i + 1])
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  if tat < now then tat = now end
  local nxt = tat + units * interval
  local over = nxt - now - burst
  if over > 0.000001 then return {1, i, tostring(over), tostring(now)} end
  tats[i] = nxt
end
for i = 1, nr do
  redis.call('SET', KEYS[i], string.format('%.3f', tats[i]), 'PX', math.ceil(tats[i] - now) + 1000)
end
return {0}
`;

// KEYS: tpm keys (nr) then budget keys. ARGV: nr, interval/delta per tpm key, cost, budget ttl ms.
const SETTLE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local nr = tonumber(ARGV[1])
for i = 1, nr do
  local interval = tonumber(ARGV[2 * i])
  local delta = tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0')
  if tat < now then tat = now end
  tat = tat + delta * interval
  local ttl = math.ceil(tat - now) + 1000
  if ttl < 1000 then ttl = 1000 end
  redis.call('SET', KEYS[i], string.format('%.3f', tat), 'PX', ttl)
end
local cost = tonumber(ARGV[2 * nr + 2])
if cost > 0 then
  for i = nr + 1, #KEYS do
    redis.call('INCRBYFLOAT', KEYS[i], ARGV[2 * nr + 2])
    redis.call('PEXPIRE', KEYS[i], ARGV[2 * nr + 3])
  end
end
return 0
`;

const BUDGET_TTL_MS = 40 * 86_400_000;

type ScriptRedis = Redis & {
  ghLimitAdmit(numKeys: number, ...args: (string | number)[]): Promise<[number, number?, string?, string?]>;
  ghLimitSettle(numKeys: number, ...args: (string | number)[]): Promise<number>;
};

export class RedisLimiter {
  readonly config: LimitsConfig;
  readonly redis: ScriptRedis;
  private readonly local: MemoryLimiter;
  private redisOk = false;
  lastError: string | null = null;

  constructor(url: string, config: LimitsConfigInput | LimitsConfig = {}) {
    this.config = configSchema.parse(config);
    this.local = new MemoryLimiter(this.config, Date.now, this.config.redis.localShare);
    this.redis = new Redis(url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: this.config.redis.timeoutMs,
      // Keep reconnecting (at most every 2 s) so limits become global again once Redis is back.
      retryStrategy: (n) => Math.min(2000, 50 * n),
    }) as ScriptRedis;
    this.redis.defineCommand('ghLimitAdmit', { lua: ADMIT });
    this.redis.defineCommand('ghLimitSettle', { lua: SETTLE });
    this.redis.on('ready', () => (this.redisOk = true));
    this.redis.on('error', (e: Error) => {
      this.redisOk = false;
      this.lastError = e.message;
    });
    this.redis.on('end', () => (this.redisOk = false));
    this.redis.on('close', () => (this.redisOk = false));
  }

  /** Resolves once connected (or rejects after timeoutMs); the limiter works (falling back) without waiting. */
  async ready(timeoutMs = 2000): Promise<void> {
    if (this.redis.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis not ready after ${timeoutMs} ms`)), timeoutMs);
      this.redis.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private key(id: string): string {
    return this.config.redis.keyPrefix + id;
  }

  async admit(principal: Who, model: string, estimatedTokens: number): Promise<Verdict> {
    if (!this.config.enabled) return ALLOW;
    const plan = planFor(this.config, principal, 1, currentMonth(Date.now()));
    if (plan.rates.length === 0 && plan.budgets.length === 0) return ALLOW;
    const tooLarge = neverFits(plan, estimatedTokens);
    if (tooLarge) return tooLarge;
    const keys = [...plan.rates.map((r) => this.key(r.id)), ...plan.budgets.map((b) => this.key(b.id))];
    const args: (string | number)[] = [plan.rates.length];
    const units = plan.rates.map((r) => (r.kind === 'rpm' ? 1 : Math.max(0, estimatedTokens)));
    plan.rates.forEach((r, i) => args.push(r.intervalMs, r.burstMs, units[i]));
    for (const b of plan.budgets) args.push(b.budgetUsd);
    let res: [number, number?, string?, string?];
    try {
      res = await this.redis.ghLimitAdmit(keys.length, ...keys, ...args);
      this.redisOk = true;
    } catch (e) {
      return this.fallbackAdmit(e, principal, model, estimatedTokens);
    }
    if (res[0] === 0) return ALLOW;
    const i = (res[1] ?? 1) - 1;
    const now = Number(res[3]);
    if (res[0] === 1) return rateRefusal(plan.rates[i], Number(res[2]), units[i]);
    return budgetRefusal(plan.budgets[i], Number(res[2]), now);
  }

  /** Charge what a request really used. `admittedTokens` is the estimate passed to admit (only the difference is charged). */
  async settle(principal: Who, actualTokens: number, costUsd: number, admittedTokens = 0): Promise<void> {
    if (!this.config.enabled) return;
    const plan = planFor(this.config, principal, 1, currentMonth(Date.now()));
    const tpm = plan.rates.filter((r) => r.kind === 'tpm');
    const delta = actualTokens - admittedTokens;
    const useTpm = delta !== 0 ? tpm : [];
    if (useTpm.length === 0 && (costUsd <= 0 || plan.budgets.length === 0)) return;
    const keys = [...useTpm.map((r) => this.key(r.id)), ...plan.budgets.map((b) => this.key(b.id))];
    const args: (string | number)[] = [useTpm.length];
    for (const r of useTpm) args.push(r.intervalMs, delta);
    args.push(costUsd, BUDGET_TTL_MS);
    try {
      await this.redis.ghLimitSettle(keys.length, ...keys, ...args);
      this.redisOk = true;
    } catch (e) {
      this.noteFailure(e);
      this.local.settleSync(principal, actualTokens, costUsd, admittedTokens);
    }
  }

  private noteFailure(e: unknown): void {
    this.redisOk = false;
    this.lastError = e instanceof Error ? e.message : String(e);
  }

  private fallbackAdmit(e: unknown, principal: Who, model: string, estimatedTokens: number): Verdict {
    this.noteFailure(e);
    switch (this.config.redis.fallback) {
      case 'allow':
        return ALLOW;
      case 'refuse':
        return { action: 'refuse', status: 503, code: 'rate_limiter_unavailable', message: 'rate limiter unavailable; retry shortly', retryAfter: 1 };
      default:
        return this.local.admitSync(principal, model, estimatedTokens);
    }
  }

  readiness(): { redisOk: boolean; mode: 'redis' | 'fallback'; fallback: string; lastError: string | null } {
    return { redisOk: this.redisOk, mode: this.redisOk ? 'redis' : 'fallback', fallback: this.config.redis.fallback, lastError: this.redisOk ? null : this.lastError };
  }

  async close(): Promise<void> {
    await this.local.close();
    this.redis.disconnect();
  }
}
