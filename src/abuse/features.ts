/**
 * Per-account behaviour features and the account suspicion score, as pure functions of one table slot.
 * Each feature is normalised to [0,1] where 1 looks like distillation (systematic, reasoning-hungry,
 * output-heavy, machine-timed, round-the-clock traffic from a fresh account).
 */
import { HOURS, TEMPLATE_SLOTS, type AccountTable } from './account-table.ts';

export interface AccountFeatures {
  requests: number;
  reasoningFraction: number;
  outputInputRatio: number;
  /** Share of requests repeating the account's most frequent prompt band key (a template), normalised. */
  templateConcentration: number;
  /** 1 for metronome-regular gaps, 0 for bursty human sessions (coefficient of variation ≥ 2). */
  machineTiming: number;
  /** Normalised entropy of the hour-of-day histogram mapped so that diurnal humans score ~0. */
  roundTheClock: number;
  /** 1 when the first request came within 30 days of sign-up; 0.5 unknown. */
  newness: number;
  /** Requests per active day, normalised (200/day → 1). */
  volume: number;
  suspicion: number;
}

export const FEATURE_WEIGHTS = {
  reasoningFraction: 0.25,
  outputInputRatio: 0.2,
  templateConcentration: 0.2,
  machineTiming: 0.1,
  roundTheClock: 0.1,
  newness: 0.1,
  volume: 0.05,
} as const;

const DAY = 86_400_000;
const clip = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);

export function accountFeatures(t: AccountTable, s: number, minRequests: number): AccountFeatures {
  const n = t.req[s];
  const reasoningFraction = n > 0 ? t.reasoning[s] / n : 0;
  const ratio = t.outTok[s] / Math.max(1, t.inTok[s]);
  let maxT = 0;
  for (let i = s * TEMPLATE_SLOTS; i < (s + 1) * TEMPLATE_SLOTS; i++) if (t.tCnt[i] > maxT) maxT = t.tCnt[i];
  // A perfect template repeats a given band key in ~25% of requests (Jaccard ~0.5 squared); 4 bands per request.
  const templateConcentration = n >= 3 ? clip(maxT / n / 0.25) : 0;
  let machineTiming = 0;
  if (t.gapN[s] >= 3 && t.gapMean[s] > 0) {
    const cv = Math.sqrt(t.gapM2[s] / t.gapN[s]) / t.gapMean[s];
    machineTiming = clip((2 - cv) / 1.5);
  }
  let roundTheClock = 0;
  if (n >= 12) {
    let h = 0;
    for (let i = s * HOURS; i < (s + 1) * HOURS; i++) {
      const p = t.hours[i] / n;
      if (p > 0) h -= p * Math.log(p);
    }
    roundTheClock = clip((h / Math.log(HOURS) - 0.8) / 0.15);
  }
  const created = t.createdAt[s];
  const newness = Number.isNaN(created) ? 0.5 : t.first[s] - created < 30 * DAY ? 1 : 0;
  const days = Math.max(1, (t.last[s] - t.first[s]) / DAY);
  const volume = clip(n / days / 200);
  const raw =
    FEATURE_WEIGHTS.reasoningFraction * clip(reasoningFraction / 0.5) +
    FEATURE_WEIGHTS.outputInputRatio * clip((ratio - 2) / 4) +
    FEATURE_WEIGHTS.templateConcentration * templateConcentration +
    FEATURE_WEIGHTS.machineTiming * machineTiming +
    FEATURE_WEIGHTS.roundTheClock * roundTheClock +
    FEATURE_WEIGHTS.newness * newness +
    FEATURE_WEIGHTS.volume * volume;
  const suspicion = raw * Math.min(1, n / minRequests);
  return { requests: n, reasoningFraction, outputInputRatio: ratio, templateConcentration, machineTiming, roundTheClock, newness, volume, suspicion };
}
