/**
 * Scores × tier × config → Verdict. Pure. The most severe triggered action wins (refuse > require > complete > route >
 * allow);
 * among equals, the label whose score exceeds its threshold by most. A score that is missing or not a number means a
 * classifier stage failed: the label then follows its fail mode instead of being silently skipped.
 */
import type { Verdict } from '../core/types.ts';
import { SAFE_COMPLETION_DEFAULT, type ClassifyConfig, type Rule, type TierRules } from './config.ts';
import { isHarmLabel, type Label } from './labels.ts';

const SEVERITY = { allow: 0, route: 1, complete: 2, require: 3, refuse: 4, failClosed: 5 } as const;

export function codeFor(label: string): string {
  return `classifier_${label.replace(/-/g, '_')}`;
}

export function rulesFor(tier: string, config: ClassifyConfig): TierRules {
  return config.tiers[tier] ?? config.tiers[config.fallbackTier] ?? {};
}

function failModeOf(rule: Rule): 'open' | 'closed' {
  if (rule.failMode) return rule.failMode;
  return rule.action === 'refuse' || rule.action.startsWith('require:') ? 'closed' : 'open';
}

/** Per harm label, the largest harm mass of one view it tops (the classifier's PipelineInfo.harmMass). */
export type ViewHarmMass = Partial<Record<Label, number>>;

export function decideAction(scores: Partial<Record<Label, number>>, tier: string, config: ClassifyConfig, viewMass?: ViewHarmMass): Verdict {
  return decideWithRules(scores, rulesFor(tier, config), config.harmMassThreshold, config.harmMassMinTop, viewMass);
}

/**
 * `harmMassThreshold`: the harm categories split one harmful request's probability between them ("kidnap and torture
 * my therapist" is part violent crime, part harassment), so each may stay under its own threshold. When the summed
 * score of the harm labels this tier acts on reaches the threshold, the highest-scoring of them triggers its own
 * action, provided that label itself scores at least `harmMassMinTop` (an uncertain model spreads probability over all
 * seventeen labels, and the thirteen harm labels would otherwise add up on gibberish). Omit (or 1+) to judge each
 * label alone.
 * `viewMass`: when the classifier reports the harm mass per view (PipelineInfo.harmMass), the rule reads it instead of
 * summing per-label scores, which are maxima over views: in a long document one paragraph's hate score and another's
 * privacy score are no evidence that either paragraph is harmful. Without it (a cascade stage replaced scores, or
 * replayed records) the per-label scores are summed.
 */
export function decideWithRules(scores: Partial<Record<Label, number>>, rules: TierRules, harmMassThreshold?: number, harmMassMinTop = 0, viewMass?: ViewHarmMass): Verdict {
  let best: { sev: number; margin: number; label: string; rule: Rule } | null = null;
  const reasons: string[] = [];
  if (harmMassThreshold !== undefined && harmMassThreshold <= 1 && viewMass) {
    for (const [label, m] of Object.entries(viewMass) as [Label, number][]) {
      const rule = rules[label];
      const s = scores[label];
      if (!rule || rule.action === 'allow' || typeof s !== 'number' || !Number.isFinite(s) || s < harmMassMinTop || m < harmMassThreshold) continue;
      const kind = rule.action.split(':')[0] as 'route' | 'complete' | 'require' | 'refuse';
      if (best && (SEVERITY[kind] < best.sev || (SEVERITY[kind] === best.sev && m - harmMassThreshold <= best.margin))) continue;
      best = { sev: SEVERITY[kind], margin: m - harmMassThreshold, label, rule };
    }
    if (best) reasons.push(`harm mass ${(best.margin + harmMassThreshold).toFixed(3)} >= ${harmMassThreshold} in one view (top ${best.label}) → ${best.rule.action}`);
  } else if (harmMassThreshold !== undefined && harmMassThreshold <= 1) {
    let mass = 0;
    let top: Label | null = null;
    for (const [label, rule] of Object.entries(rules) as [Label, Rule][]) {
      if (!isHarmLabel(label) || rule.action === 'allow') continue;
      const s = scores[label];
      if (typeof s !== 'number' || !Number.isFinite(s)) continue; // fail modes are applied per label below
      mass += s;
      if (top === null || s > (scores[top] as number)) top = label;
    }
    if (top !== null && mass >= harmMassThreshold && (scores[top] as number) >= harmMassMinTop) {
      const rule = rules[top]!;
      const kind = rule.action.split(':')[0] as 'route' | 'complete' | 'require' | 'refuse';
      reasons.push(`harm mass ${mass.toFixed(3)} >= ${harmMassThreshold} (top ${top} ${(scores[top] as number).toFixed(3)}) → ${rule.action}`);
      best = { sev: SEVERITY[kind], margin: mass - harmMassThreshold, label: top, rule };
    }
  }
  for (const [label, rule] of Object.entries(rules) as [Label, Rule][]) {
    const s = scores[label];
    if (typeof s !== 'number' || !Number.isFinite(s)) {
      if (failModeOf(rule) === 'closed') {
        reasons.push(`${label}: score unavailable, fail closed`);
        if (!best || best.sev < SEVERITY.failClosed) best = { sev: SEVERITY.failClosed, margin: 1, label, rule };
      } else reasons.push(`${label}: score unavailable, fail open`);
      continue;
    }
    if (s < rule.threshold) continue;
    const kind = rule.action.split(':')[0] as 'allow' | 'route' | 'complete' | 'require' | 'refuse';
    if (kind === 'allow') continue;
    reasons.push(`${label} ${s.toFixed(3)} >= ${rule.threshold} → ${rule.action}`);
    const sev = SEVERITY[kind];
    const margin = s - rule.threshold;
    if (!best || sev > best.sev || (sev === best.sev && margin > best.margin)) best = { sev, margin, label, rule };
  }
  if (!best) return { action: 'allow' };
  const { label, rule, sev } = best;
  const ref = { classifier: label };
  if (sev === SEVERITY.failClosed)
    return { action: 'refuse', status: 503, code: 'classifier_unavailable', message: `The safeguards classifier could not assess this request (${label}); try again later.`, ref, reasons };
  if (rule.action === 'refuse')
    return { action: 'refuse', status: 403, code: codeFor(label), message: `This request was declined by the safeguards classifier (${label}).`, ref, reasons };
  if (rule.action === 'complete') {
    // A refusal that carries a safe completion: the request path answers with `safeCompletion` as a normal assistant
    // reply; one that does not support it still shows the caller the supportive message.
    const text = rule.message ?? SAFE_COMPLETION_DEFAULT;
    return { action: 'refuse', status: 403, code: `${codeFor(label)}_safe_completion`, message: text, ref, reasons, safeCompletion: text };
  }
  if (rule.action.startsWith('require:')) {
    const tier = rule.action.slice('require:'.length);
    return { action: 'refuse', status: 403, code: `${codeFor(label)}_requires_tier`, message: `This request needs the ${tier} access tier (${label}).`, ref, requires: [`tier:${tier}`], reasons };
  }
  return { action: 'route', model: rule.action.slice('route:'.length), code: `${codeFor(label)}_routed`, ref, reasons };
}
