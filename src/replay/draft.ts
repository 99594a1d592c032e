/**
 * Baseline and draft scenarios. The baseline is what is in force: the config's policy file, the store's active
 * directives and licences, the config's `classify:` section. A draft replaces any of: the policy (a policy file),
 * directives (files in the admin API's directive shape, added or replacing one of the same id; `lift` removes
 * one), classifier thresholds (a `classify:` fragment merged tier by tier, label by label). Everything is compiled
 * with the gateway's own code (policy/compile, directives/model, classify/config) and every problem is reported
 * with file:line:col (or a JSON path for admin API bodies).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { tierRulesSchema, type ClassifyConfig, type TierRules } from '../classify/config.ts';
import { configSchema as limitsSchema, type LimitsConfig } from '../limits/config.ts';
import { compileDirective, issueSchema, type CompiledDirective, type DirectiveRecord } from '../directives/model.ts';
import { CompiledPolicy, compilePolicyObject, compilePolicyText } from '../policy/compile.ts';
import type { GroupTable } from '../population/groups.ts';
import { LicenceIndex, type LicenceRecord } from '../policy/licences.ts';
import { AccessSnapshot } from '../policy/snapshot.ts';
import { jsonSink, PolicyValidationError, prefixed, YamlSource, zodIssues, type IssueSink } from '../core/validation.ts';
import type { Scenario } from './engine.ts';
import { replayLimits } from './limits.ts';

/** What is in force, with the parts a draft may need to recompile against its own groups. */
export interface Baseline {
  access: AccessSnapshot;
  classify: ClassifyConfig | null;
  models: readonly string[];
  /** Country groups before any policy's own (shipped + operator files). */
  groups: GroupTable;
  /** The config's `policy.default` override, applied to a draft policy as the gateway would. */
  policyDefault?: 'allow' | 'deny';
  /** Licence records, so licences can be re-indexed against a draft policy's groups. */
  licences?: readonly LicenceRecord[];
  /** The configured `limits:` section (null or absent: no limits). Replayed only when a draft changes limits. */
  limits?: LimitsConfig | null;
}

/** A source given as a file path or as already-parsed data (admin API), with a name for messages. */
export type Input = { path: string } | { value: unknown; name: string };

export interface DraftInput {
  policy?: Input | { text: string; name: string };
  directives?: Input[];
  lift?: string[];
  classify?: Input;
  /** A whole `limits:` section (or a file with `limits:` in it) replacing the configured one. */
  limits?: Input;
}

export interface Draft {
  scenario: Scenario;
  /** The baseline to compare with: as given, plus its own limits replayed when the draft changes limits. */
  baseline: Scenario;
  /** Release what the scenarios hold (the replayed limiters' timers). */
  close(): Promise<void>;
  /** Human-readable summary of what the draft changes. */
  summary: string[];
  warnings: string[];
}

export function baselineScenario(b: Baseline): Scenario {
  return { access: b.access, classify: b.classify, models: new Set(b.models) };
}

/** Reads a YAML/JSON file: its value and an issue sink that points into it. */
function load(input: Input): { value: unknown; sink: IssueSink; name: string } {
  if ('value' in input) return { value: input.value, sink: jsonSink([input.name]), name: input.name };
  let text: string;
  try {
    text = readFileSync(input.path, 'utf8');
  } catch (err) {
    throw new PolicyValidationError([{ file: input.path, path: '(root)', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
  }
  const { source, value } = YamlSource.parse(text, input.path);
  return { value, sink: source, name: input.path };
}

/** The directive shape of the admin API; `by`/`why` are not needed for a draft, and no `effectiveAt` means always in force. */
const draftDirectiveSchema = issueSchema.extend({ by: z.string().optional(), why: z.string().optional() });

function parseDirectives(input: Input, index: number): { records: DirectiveRecord[]; sinks: IssueSink[] } {
  const { value, sink } = load(input);
  const items = Array.isArray(value) ? value : [value];
  const sinks = items.map((_, i) => (Array.isArray(value) ? prefixed(sink, [i]) : sink));
  const records = items.map((item, i) => {
    const s = sinks[i]!;
    const r = draftDirectiveSchema.safeParse(item);
    if (!r.success) throw new PolicyValidationError(zodIssues(r.error, s));
    const d = r.data;
    return {
      id: d.id ?? `draft-${index + 1}${Array.isArray(value) ? `.${i + 1}` : ''}`,
      models: d.models,
      population: d.population,
      effect: d.effect,
      effectiveAt: d.effectiveAt ?? 0,
      expiresAt: d.expiresAt,
      authority: d.authority,
      reference: d.reference,
      status: 'active' as const,
      issuedAt: 0,
      issuedBy: d.by ?? 'replay draft',
      updatedAt: 0,
      liftedAt: null,
    };
  });
  return { records, sinks };
}

const classifyDraftSchema = z.strictObject({
  enabled: z.boolean().optional(),
  fallbackTier: z.string().min(1).optional(),
  tiers: z.record(z.string(), tierRulesSchema).optional(),
});

/** Merges a classify fragment over the baseline section: per tier, per label (a label's rule is replaced whole). */
function mergeClassify(base: ClassifyConfig | null, input: Input): { config: ClassifyConfig; changed: string[] } {
  const { value, sink } = load(input);
  const section = value !== null && typeof value === 'object' && !Array.isArray(value) && 'classify' in value ? (value as { classify: unknown }).classify : value;
  const s = section === value ? sink : prefixed(sink, ['classify']);
  const r = classifyDraftSchema.safeParse(section ?? {});
  if (!r.success) throw new PolicyValidationError(zodIssues(r.error, s));
  if (!base) throw new PolicyValidationError([{ path: '(root)', message: 'the baseline has no classify section (classifier off): a threshold draft needs one to change', ...('path' in input ? { file: input.path } : {}) }]);
  const tiers: Record<string, TierRules> = {};
  for (const [t, rules] of Object.entries(base.tiers)) tiers[t] = { ...rules };
  const changed: string[] = [];
  for (const [t, rules] of Object.entries(r.data.tiers ?? {})) {
    tiers[t] = { ...(tiers[t] ?? {}), ...rules };
    for (const [label, rule] of Object.entries(rules)) changed.push(`${t}.${label}: ${rule!.action} at ${rule!.threshold}`);
  }
  const config: ClassifyConfig = { ...base, tiers };
  if (r.data.enabled !== undefined) (config.enabled = r.data.enabled), changed.push(`enabled: ${r.data.enabled}`);
  if (r.data.fallbackTier !== undefined) (config.fallbackTier = r.data.fallbackTier), changed.push(`fallbackTier: ${r.data.fallbackTier}`);
  return { config, changed };
}

function compilePolicy(input: NonNullable<DraftInput['policy']>, b: Baseline): CompiledPolicy {
  const opts = { models: b.models, groups: b.groups, ...(b.policyDefault ? { defaultAction: b.policyDefault } : {}) };
  if ('text' in input) return compilePolicyText(input.text, input.name, opts);
  if ('path' in input) {
    let text: string;
    try {
      text = readFileSync(input.path, 'utf8');
    } catch (err) {
      throw new PolicyValidationError([{ file: input.path, path: '(root)', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
    }
    return compilePolicyText(text, input.path, opts);
  }
  return compilePolicyObject(input.value, opts);
}

/** Builds the draft scenario. Throws PolicyValidationError (every problem, located) for a bad draft. */
export function buildDraft(b: Baseline, input: DraftInput): Draft {
  const summary: string[] = [];
  const warnings: string[] = [];
  let policy = b.access.policy;
  if (input.policy) {
    policy = compilePolicy(input.policy, b);
    summary.push(`policy: ${policy.rules.length} rules from ${'path' in input.policy ? input.policy.path : input.policy.name} (default ${policy.defaultAction})`);
  }
  const groupsChanged = policy !== b.access.policy;
  const lift = new Set(input.lift ?? []);
  for (const id of lift) {
    if (!b.access.directives.some((d) => d.id === id)) throw new PolicyValidationError([{ path: `lift`, message: `no active directive '${id}' to lift` }]);
    summary.push(`lift directive ${id}`);
  }
  const drafts: CompiledDirective[] = [];
  (input.directives ?? []).forEach((d, i) => {
    const { records, sinks } = parseDirectives(d, i);
    records.forEach((rec, j) => {
      drafts.push(compileDirective(rec, { groups: policy.groups, models: b.models, routeEdges: policy.routeEdges }, sinks[j]));
      summary.push(`directive ${rec.id}: ${rec.effect} on ${rec.models.join(', ')}${b.access.directives.some((x) => x.id === rec.id) ? ' (replaces the active one)' : ''}`);
    });
  });
  const draftIds = new Set(drafts.map((d) => d.id));
  const kept: CompiledDirective[] = [];
  for (const d of b.access.directives) {
    if (lift.has(d.id) || draftIds.has(d.id)) continue;
    if (!groupsChanged) {
      kept.push(d);
      continue;
    }
    // The draft policy may redefine groups the directive names: recompile against them, as a reload does.
    try {
      kept.push(compileDirective(d.record, { groups: policy.groups, models: [] }));
    } catch (err) {
      warnings.push(`directive ${d.id} does not compile against the draft policy's groups and would not be enforced: ${(err as Error).message}`);
    }
  }
  let licences = b.access.licences;
  if (groupsChanged && b.licences) licences = LicenceIndex.build(b.licences, policy.groups, (id, why) => warnings.push(`licence ${id} skipped under the draft policy's groups: ${why}`));
  let classify = b.classify;
  if (input.classify) {
    const m = mergeClassify(b.classify, input.classify);
    classify = m.config;
    summary.push(...m.changed.map((c) => `classify ${c}`));
  }
  const access = new AccessSnapshot(policy, [...kept, ...drafts], licences, b.models);
  const scenario: Scenario = { access, classify, models: new Set(b.models) };
  const baseline = baselineScenario(b);
  const closers: Array<() => Promise<void>> = [];
  if (input.limits) {
    const { value, sink } = load(input.limits);
    const section = value !== null && typeof value === 'object' && !Array.isArray(value) && 'limits' in value ? (value as { limits: unknown }).limits : value;
    const r = limitsSchema.safeParse(section ?? {});
    if (!r.success) throw new PolicyValidationError(zodIssues(r.error, section === value ? sink : prefixed(sink, ['limits'])));
    const draftLimits = replayLimits(r.data);
    const baseLimits = replayLimits(b.limits ?? limitsSchema.parse({ enabled: false }));
    scenario.limits = draftLimits;
    baseline.limits = baseLimits;
    closers.push(draftLimits.close, baseLimits.close);
    summary.push(`limits: ${describeLimits(r.data)} (replayed for baseline and draft)`);
  }
  return { scenario, baseline, summary, warnings, close: async () => void (await Promise.all(closers.map((c) => c()))) };
}

function describeLimits(c: LimitsConfig): string {
  if (!c.enabled) return 'off';
  const parts: string[] = [];
  for (const scope of ['key', 'account', 'org'] as const) {
    const d = c.defaults[scope];
    const set = Object.entries(d).map(([k, v]) => `${k} ${v}`);
    if (set.length) parts.push(`${scope} ${set.join(', ')}`);
    const n = Object.keys(c.overrides[scope]).length;
    if (n) parts.push(`${n} ${scope} override${n > 1 ? 's' : ''}`);
  }
  return parts.length ? parts.join('; ') : 'none set';
}
