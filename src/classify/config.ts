/**
 * The `classify:` config section. Per tier, per label: an action and the score threshold at which it applies.
 * Absent section = the defaults below (every harm category refused for every tier, self-harm answered with a
 * supportive safe completion, graded access to security-offensive for higher tiers).
 */
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { ALL_LABELS, RETIRED_LABELS } from './labels.ts';

/**
 * `allow`, `refuse`, `complete` (answer with a supportive safe completion instead of the model: the rule's `message`,
 * or SAFE_COMPLETION_DEFAULT), `route:<model>` (serve from a named model, e.g. one tuned for crisis support) or
 * `require:<tier>` (refuse, naming the tier that would be allowed).
 */
export const actionSchema = z
  .string()
  .regex(/^(allow|refuse|complete|route:[A-Za-z0-9._:/@-]+|require:[A-Za-z0-9._-]+)$/, 'expected allow | refuse | complete | route:<model> | require:<tier>');

export const ruleSchema = z
  .object({
    action: actionSchema,
    threshold: z.number().min(0).max(1).default(0.5),
    /** What happens when this label's score could not be computed (stage error or timeout). Default: closed for refuse/require, open otherwise. */
    failMode: z.enum(['open', 'closed']).optional(),
    /** For `complete`: the assistant reply returned instead of the model's. */
    message: z.string().min(1).max(4000).optional(),
  })
  .strict();
export type Rule = z.infer<typeof ruleSchema>;

/** The safe completion for `complete` rules without a `message`: supportive, no method information, points to help. */
export const SAFE_COMPLETION_DEFAULT =
  "I'm really sorry you're going through this, and I'm glad you reached out. I can't help with anything that could hurt you, but you don't have to face this alone. If you might act on these thoughts or are in danger, please call your local emergency number now. You can also reach a crisis line: in the US call or text 988, in the UK and Ireland call Samaritans on 116 123, or find a line in your country at findahelpline.com. If you'd like, tell me a bit about what's been happening — I'm here to listen.";

function labelProblem(k: string): string | null {
  if ((ALL_LABELS as readonly string[]).includes(k)) return null;
  return RETIRED_LABELS[k] ?? `unknown label ${JSON.stringify(k)}; labels are ${ALL_LABELS.join(', ')}`;
}
const labelKey = z.string().superRefine((k, ctx) => {
  const problem = labelProblem(k);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
export const tierRulesSchema = z.record(z.string(), ruleSchema).superRefine((rules, ctx) => {
  for (const k of Object.keys(rules)) {
    const problem = labelProblem(k);
    if (problem) ctx.addIssue({ code: 'custom', path: [k], message: problem });
  }
}) as unknown as z.ZodType<Partial<Record<(typeof ALL_LABELS)[number], Rule>>>;
export type TierRules = Partial<Record<(typeof ALL_LABELS)[number], Rule>>;

const r = (action: string, threshold: number): Rule => ({ action, threshold });

// Thresholds: chosen on the dev split by `gatehouse calibrate` (see BENCHMARKS.md), rounded. Re-run calibrate after
// retraining: thresholds belong to one artefact.
// Every harm category has an action under every tier. The harmful is refused; self-harm gets a supportive safe
// completion (never a bare refusal); specialized advice (medical, legal, financial) is scored and audited but served.
// Higher tiers relax only security-offensive (graded access for defenders).
const HARM_DEFAULTS: TierRules = {
  'bio-chem': r('refuse', 0.4),
  'weapons-explosives': r('refuse', 0.5),
  'violent-crimes': r('refuse', 0.5),
  'non-violent-crimes': r('refuse', 0.5),
  'sex-crimes': r('refuse', 0.5),
  'child-exploitation': r('refuse', 0.3),
  'sexual-content': r('refuse', 0.6),
  'self-harm': r('complete', 0.5),
  hate: r('refuse', 0.5),
  harassment: r('refuse', 0.5),
  privacy: r('refuse', 0.5),
  elections: r('refuse', 0.5),
  'specialized-advice': r('allow', 0.5),
};
export const DEFAULT_TIERS: Record<string, TierRules> = {
  general: {
    ...HARM_DEFAULTS,
    'security-offensive': r('refuse', 0.4),
    jailbreak: r('refuse', 0.55),
  },
  verified: {
    ...HARM_DEFAULTS,
    'security-offensive': r('require:trusted-defender', 0.4),
    jailbreak: r('refuse', 0.55),
  },
  'trusted-defender': {
    ...HARM_DEFAULTS,
    'security-offensive': r('allow', 0.4),
    jailbreak: r('refuse', 0.7),
  },
  internal: {
    ...HARM_DEFAULTS,
    'security-offensive': r('allow', 0.4),
    jailbreak: r('allow', 0.7),
  },
};

// Chosen on the dev split (BENCHMARKS.md): everyday refusals under 0.5 %, sensitive-but-benign ~3 %.
export const HARM_MASS_DEFAULT = 0.4;
export const HARM_MASS_MIN_TOP_DEFAULT = 0.2;

export const streamSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Most characters of unchecked output that may reach the client before a violation in them is caught. 0 = hold the whole response until it has been checked. */
    holdBackChars: z.number().int().min(0).default(256),
    /** Characters of output the classifier sees per check (the running window). */
    windowChars: z.number().int().min(64).max(65_536).default(2_000),
  })
  .strict();

const labelEnum = labelKey as unknown as z.ZodType<(typeof ALL_LABELS)[number]>;
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
    /**
     * When the summed score of the harm labels a tier acts on reaches this, the top one of them triggers its action
     * even under its own threshold (decide.ts). 1.01 turns it off.
     */
    harmMassThreshold: z.number().min(0).max(1.01).default(HARM_MASS_DEFAULT),
    /** ... provided the top harm label itself scores at least this. */
    harmMassMinTop: z.number().min(0).max(1).default(HARM_MASS_MIN_TOP_DEFAULT),
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
