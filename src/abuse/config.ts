/** The `abuse:` section of the gateway YAML. Every key has a default; an absent section means defaults. */
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';

const thresholds = z
  .object({
    flag: z.number().min(0).max(1).default(0.3),
    requireKyc: z.number().min(0).max(1).default(0.45),
    degrade: z.number().min(0).max(1).default(0.6),
    suspend: z.number().min(0).max(1).default(0.75),
  })
  .prefault({})
  .refine((t) => t.flag <= t.requireKyc && t.requireKyc <= t.degrade && t.degrade <= t.suspend, {
    message: 'thresholds must satisfy flag <= requireKyc <= degrade <= suspend',
  });

export const configSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Accounts tracked (LRU). The memory bound is linear in this. */
    accountCapacity: z.number().int().min(16).default(250_000),
    /** Recent request ids remembered for duplicate detection. */
    dedupCapacity: z.number().int().min(16).default(200_000),
    maxClockSkewMs: z.number().int().min(0).default(300_000),
    replayWindowMs: z.number().int().min(0).default(86_400_000),
    /** Requests an account needs before its behaviour counts fully. */
    minRequests: z.number().int().min(1).default(8),
    /** Account suspicion needed to take part in linking. */
    linkThreshold: z.number().min(0).max(1).default(0.3),
    minRingSize: z.number().int().min(2).default(3),
    signupBurstWindowMs: z.number().int().min(1).default(72 * 3_600_000),
    explainedOrgDamping: z.number().min(0).max(1).default(0.85),
    /** Summed pairwise evidence (key weights × purity, cohort, sync) needed to link two suspects. */
    linkScore: z.number().min(0.1).max(10).default(1),
    /** Ring score at which KYC-verified members are no longer capped at verifiedMaxAction (strong evidence). */
    verifiedOverrideScore: z.number().min(0).max(1).default(0.6),
    maxRings: z.number().int().min(1).default(1000),
    maxSuspects: z.number().int().min(1).default(50_000),
    harvestFloorTokens: z.number().min(1).default(2000),
    /** An answer with at least this many output tokens is long-form (the harvest signal). */
    longFormTokens: z.number().int().min(1).default(1000),
    thresholds,
    /** Model served to accounts under `degrade`. */
    degradedModel: z.string().default('degraded'),
    /** Highest automatic action for KYC-verified accounts; anything above goes to human review as a flag. */
    verifiedMaxAction: z.enum(['none', 'flag', 'require-kyc', 'degrade', 'suspend']).default('flag'),
    /** Highest automatic action for weakly linked members (one infrastructure key, no shared template). */
    weakLinkMaxAction: z.enum(['none', 'flag', 'require-kyc', 'degrade', 'suspend']).default('flag'),
    /** In-gateway runner: events per batch, flush delay, re-analysis interval, snapshot file. */
    batchSize: z.number().int().min(1).default(512),
    flushMs: z.number().int().min(1).default(250),
    analyseIntervalMs: z.number().int().min(1000).default(60_000),
    snapshotFile: z.string().nullable().default(null),
    kycUrl: z.string().default('/account/verify'),
    /**
     * One detector for the fleet. `local`: this process detects on its own traffic. `publish`: this replica sends its
     * events to the stream and takes verdicts from the store (written by `gatehouse abuse serve`).
     */
    fleet: z
      .object({
        role: z.enum(['local', 'publish']).default('local'),
        stream: z.string().min(1).default('gatehouse:abuse:events'),
        /** Approximate stream length kept (XADD MAXLEN ~): must exceed the detector's worst backlog. */
        maxLen: z.number().int().min(1000).default(2_000_000),
        group: z.string().min(1).default('abuse-detector'),
        /** Detector service: checkpoint (then acknowledge) after this many entries or ms. */
        checkpointEvery: z.number().int().min(1).default(20_000),
        checkpointMs: z.number().int().min(10).default(1000),
      })
      .strict()
      .prefault({}),
  })
  .prefault({});

export type AbuseConfig = z.output<typeof configSchema>;

/** Parses the `abuse:` section; throws an Error naming each bad key as `$.abuse.<path>: <reason>`. */
export function abuseConfig(input: unknown = {}): AbuseConfig {
  const r = configSchema.safeParse(input ?? {});
  if (!r.success) throw new Error(r.error.issues.map((i) => `$.abuse.${i.path.join('.')}: ${i.message}`).join('; '));
  return r.data;
}

/** Paths in a config file are relative to it: `snapshotFile`. */
export function resolveAbusePaths(config: AbuseConfig, baseDir: string): AbuseConfig {
  const f = config.snapshotFile;
  return f && !isAbsolute(f) ? { ...config, snapshotFile: resolve(baseDir, f) } : config;
}
