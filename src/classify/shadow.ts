/**
 * Shadow mode: candidate rules (and optionally a candidate model) evaluated beside the live ones on the same request.
 * Disagreements are counted by kind (`refuse→allow`, …) and reported to the caller for logging; the shadow verdict is
 * never acted on.
 */
import type { Verdict } from '../core/types.ts';
import type { ClassifyConfig, TierRules } from './config.ts';
import { decideAction, decideWithRules } from './decide.ts';
import type { Scores } from './labels.ts';

export interface ShadowOutcome {
  live: Verdict;
  shadow: Verdict;
  disagree: boolean;
}

export interface Shadow {
  compare(liveScores: Scores, tier: string, candidateScores?: Scores): ShadowOutcome;
  readonly counts: { total: number; disagreements: number; byKind: Record<string, number> };
}

function key(v: Verdict): string {
  return v.action === 'route' ? `route:${v.model}` : v.action === 'refuse' ? `refuse:${v.code}` : 'allow';
}

export function createShadow(live: ClassifyConfig, candidateTiers: Record<string, TierRules>): Shadow {
  const counts = { total: 0, disagreements: 0, byKind: {} as Record<string, number> };
  return {
    counts,
    compare(liveScores, tier, candidateScores) {
      const l = decideAction(liveScores, tier, live);
      const rules = candidateTiers[tier] ?? candidateTiers[live.fallbackTier] ?? {};
      const s = decideWithRules(candidateScores ?? liveScores, rules, live.harmMassThreshold, live.harmMassMinTop);
      counts.total++;
      const disagree = key(l) !== key(s);
      if (disagree) {
        counts.disagreements++;
        const k = `${l.action}→${s.action}`;
        counts.byKind[k] = (counts.byKind[k] ?? 0) + 1;
      }
      return { live: l, shadow: s, disagree };
    },
  };
}
