import { z } from 'zod';

/** Limits for one principal scope. Absent = unlimited. */
export const limitSetSchema = z
  .object({
    /** Requests per minute. */
    rpm: z.number().int().min(1).optional(),
    /** Tokens (input + output) per minute. */
    tpm: z.number().int().min(1).optional(),
    /** Spend per calendar month (UTC), USD. */
    monthlyBudgetUsd: z.number().min(0).optional(),
  })
  .strict();

const scopeMap = z.record(z.string().min(1), limitSetSchema);

/** YAML section `limits:`. */
export const configSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Limits applied to every key / account / org without an override. */
    defaults: z
      .object({ key: limitSetSchema.default({}), account: limitSetSchema.default({}), org: limitSetSchema.default({}) })
      .strict()
      .prefault({}),
    /** Per-principal overrides by id; each replaces the default field by field. */
    overrides: z
      .object({ key: scopeMap.default({}), account: scopeMap.default({}), org: scopeMap.default({}) })
      .strict()
      .prefault({}),
    /**
     * Burst allowance, in seconds of the rate: 60 lets a whole minute's allowance through at once (a token bucket
     * holding one minute); 1 spreads requests evenly. Long-run rate is the limit either way.
     */
    burstSeconds: z.number().min(0.001).max(3600).default(60),
    redis: z
      .object({
        /** Key prefix in Redis. */
        keyPrefix: z.string().default('gatehouse:limits:'),
        /** Give up on Redis for one decision after this long and use the fallback. */
        timeoutMs: z.number().int().min(1).default(100),
        /** When Redis is unreachable: `local` = per-replica limits, `allow` = no limits, `refuse` = 503. */
        fallback: z.enum(['local', 'allow', 'refuse']).default('local'),
        /** With fallback `local`, each replica allows this fraction of every limit (e.g. 1/replicas). */
        localShare: z.number().min(0.001).max(1).default(1),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

export type LimitsConfig = z.infer<typeof configSchema>;
export type LimitsConfigInput = z.input<typeof configSchema>;
export type LimitSet = z.infer<typeof limitSetSchema>;
