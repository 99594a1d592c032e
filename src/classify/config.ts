/**
 * The `classify:` config section. Per tier, per label: an action and the score threshold at which it applies.
 * Absent section = the defaults below (refuse offensive security, bio-chem and clear other harm for general users,
 * graded access for higher tiers).
 */
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { ALL_LABELS } from './labels.ts';

/** `allow`, `refuse`, `route:<model>` (serve from a named fallback model) or `require:<tier>` (refuse, naming the tier that would be allowed). */
export const actionSchema = z
  .string()
  .regex(/^(allow|refuse|route:[A-Za-z0-9._:/@-]+|require:[A-Za-z0-9._-]+)$/, 'expected allow | refuse | route:<model> | require:<tier>');

export const ruleSchema = z
  .object({
    action: actionSchema,
    threshold: z.number().min(0).max(1).default(0.5),
    /** What happens when this label's score could not be computed (stage error or timeout). Default: closed for refuse/require, open otherwise. */
    failMode: z.enum(['open', 'closed']).optional(),
  })
  .strict();
export type Rule = z.infer<typeof ruleSchema>;

export const tierRulesSchema = z.partialRecord(z.enum(ALL_LABELS), ruleSchema);
export type TierRules = z.infer<typeof tierRulesSchema>;

const r = (action: string, threshold: number): Rule => ({ action, threshold });

// Thresholds chosen on the dev split by `gatehouse calibrate --dev default --target-fpr
// security-offensive=0.005,bio-chem=0.003,other-harm=0.01,jailbreak=0.003` (see bench/results/classify.md), rounded.
// Re-run calibrate after retraining: thresholds belong to one artefact.
// other-harm is scored and audited but not acted on by default: without a large permissive set of general
// conversation (Dolly is share-alike and excluded), the embedded model flags short chit-chat ("hi", "Tell me a
// story.") as other-harm. Operators who need it set `refuse` in their own tiers (and re-calibrate on their traffic).
export const DEFAULT_TIERS: Record<string, TierRules> = {
  general: {
    'security-offensive': r('refuse', 0.28),
    'bio-chem': r('refuse', 0.22),
    'other-harm': r('allow', 0.62),
    jailbreak: r('refuse', 0.55),
  },
  verified: {
    'security-offensive': r('require:trusted-defender', 0.28),
    'bio-chem': r('refuse', 0.22),
    'other-harm': r('allow', 0.62),
    jailbreak: r('refuse', 0.55),
  },
  'trusted-defender': {
    'security-offensive': r('allow', 0.28),
    'bio-chem': r('refuse', 0.22),
    'other-harm': r('allow', 0.7),
    jailbreak: r('refuse', 0.7),
  },
  internal: {
    'bio-chem': r('refuse', 0.28),
  },
};

export const streamSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Most characters of unchecked output that may reach the client before a violation in them is caught. 0 = hold the whole response until it has been checked. */
    holdBackChars: z.number().int().min(0).default(256),
    /** Characters of output the classifier sees per check (the running window). */
    windowChars: z.number().int().min(64).max(65_536).default(2_000),
  })
  .strict();

const labelEnum = z.enum(ALL_LABELS);
const band = z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]).refine(([lo, hi]) => lo <= hi, 'band must be [lo, hi] with lo <= hi');
const stageCommon = {
  name: z.string().optional(),
  /** Labels the stage decides when it runs. */
  labels: z.array(labelEnum).min(1),
  /** Escalate when any covered label's embedded score is within this band. */
  band: band.default([0.05, 0.6]),
  timeoutMs: z.number().int().min(1).max(60_000).default(1_500),
};
export const stageSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('onnx'), path: z.string().min(1), bits: z.number().int().min(4).max(22), inputName: z.string().optional(), outputName: z.string().optional(), ...stageCommon }).strict(),
  z
    .object({
      type: z.literal('guard'),
      baseUrl: z.string().url(),
      model: z.string().min(1),
      format: z.enum(['llama-guard-3', 'llama-guard-4', 'qwen3guard']),
      /** Name of the environment variable holding the endpoint's API key (never the key itself). */
      apiKeyEnv: z.string().optional(),
      categoryMap: z.record(z.string(), labelEnum).optional(),
      ...stageCommon,
    })
    .strict(),
]);
export type StageConfig = z.infer<typeof stageSchema>;

export const configSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** `default` = the embedded artefact models/classifier/default.bin, or a path to another artefact. */
    model: z.string().default('default'),
    /** Tier used for principals whose tier has no rules here. */
    fallbackTier: z.string().default('general'),
    tiers: z.record(z.string(), tierRulesSchema).default(DEFAULT_TIERS),
    stream: streamSchema.default({ enabled: true, holdBackChars: 256, windowChars: 2_000 }),
    /** Stronger stages for uncertain cases, run in order (see cascade.ts). Empty = embedded model only. */
    cascade: z.array(stageSchema).default([]),
    /** Candidate thresholds evaluated beside the live ones; disagreements are counted, never acted on. */
    shadow: z.object({ tiers: z.record(z.string(), tierRulesSchema) }).strict().optional(),
  })
  .strict();

export type ClassifyConfig = z.infer<typeof configSchema>;

export function parseClassifyConfig(section: unknown): ClassifyConfig {
  const res = configSchema.safeParse(section ?? {});
  if (!res.success) {
    const msg = res.error.issues.map((i) => `classify.${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(msg);
  }
  return res.data;
}

/** Paths in a config file are relative to it: `model` (unless `default`) and ONNX stages' `path`. */
export function resolveClassifyPaths(config: ClassifyConfig, baseDir: string): ClassifyConfig {
  const at = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  return {
    ...config,
    model: config.model === 'default' ? config.model : at(config.model),
    cascade: config.cascade.map((s) => (s.type === 'onnx' ? { ...s, path: at(s.path) } : s)),
  };
}
