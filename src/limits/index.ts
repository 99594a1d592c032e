/**
 * The limiter the gateway uses: Redis-backed (global across replicas) when a Redis URL is given, else in-memory.
 *   const limiter = await createRateLimiter(limitsConfig, process.env.REDIS_URL ?? config.redis.url);
 *   const v = await limiter.admit(principal, model, estimatedTokens);  // Verdict: allow, or refuse 429/503
 *   … after the response …  await limiter.settle(principal, actualTokens, costUsd, estimatedTokens);
 */
import type { Principal, Verdict } from '../core/types.ts';
import { configSchema, type LimitsConfig } from './config.ts';
import { MemoryLimiter } from './memory.ts';

export interface RateLimiter {
  admit(principal: Pick<Principal, 'keyId' | 'accountId' | 'orgId'>, model: string, estimatedTokens: number): Promise<Verdict>;
  settle(principal: Pick<Principal, 'keyId' | 'accountId' | 'orgId'>, actualTokens: number, costUsd: number, admittedTokens?: number): Promise<void>;
  readiness(): { redisOk: boolean; mode: string };
  close(): Promise<void>;
  /** The same decisions without a promise, for limiters that decide in memory (the gate then adds no await). */
  admitSync?(principal: Pick<Principal, 'keyId' | 'accountId' | 'orgId'>, model: string, estimatedTokens: number): Verdict;
  settleSync?(principal: Pick<Principal, 'keyId' | 'accountId' | 'orgId'>, actualTokens: number, costUsd: number, admittedTokens?: number): void;
}

/** The Redis client is loaded only when a Redis URL is given. */
export async function createRateLimiter(config: unknown, redisUrl?: string): Promise<RateLimiter> {
  const cfg: LimitsConfig = configSchema.parse(config ?? {});
  if (!redisUrl) return new MemoryLimiter(cfg);
  const { RedisLimiter } = await import('./redis.ts');
  return new RedisLimiter(redisUrl, cfg);
}

export { MemoryLimiter, configSchema };
