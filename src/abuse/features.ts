/**
 * Per-account behaviour features and the account suspicion score, as pure functions of one table slot and the
 * population's own distribution (`PopulationStats`). Each feature is in [0,1], 1 looking like distillation.
 *
 * Suspicion is led by harvest intensity — long-form answers and output volume relative to the population —
 * because that is what a distiller buys and what ordinary heavy users (many short chats), coding agents (huge
 * inputs, modest outputs), classes (a few answers each) and automation (short extractions) do not. Reasoning
 * requests, timing, round-the-clock activity and account newness are weak supporting features: a class
 * assignment saying "show your work" moves suspicion by at most 0.05.
 */
import { AccountTable, HOURS, SHAPE_SLOTS, TEMPLATE_SLOTS } from './account-table.ts';

export interface AccountFeatures {
  requests: number;
  reasoningFraction: number;
  outputInputRatio: number;
  /** Share of answers of at least `longFormTokens` tokens, normalised (0.2 → 0, 0.7 → 1). */
  longForm: number;
  /** Total output tokens relative to the population's 75th percentile of active accounts (log scale). */
  harvest: number;
  /** Share of requests repeating the account's most frequent prompt band key (a template), normalised. */
  templateConcentration: number;
  /** Distinct prompt items per request (1: never asks the same thing twice). */
  itemDiversity: number;
  /** Distinct network prefixes, normalised (3 → 0, 18 → 1): proxy rotation. */
  rotation: number;
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

/** Population context for relative features, computed once per analysis. */
export interface PopulationStats {
  /** 75th percentile of total output tokens over accounts with at least minRequests requests. */
  outP75: number;
  /** Median output/input ratio over the same accounts. */
  ratioP50: number;
}

export const DEFAULT_POPULATION_STATS: PopulationStats = { outP75: 20_000, ratioP50: 4 };

export const FEATURE_WEIGHTS = {
  longForm: 0.4,
  harvest: 0.15,
  newness: 0.1,
  rotation: 0.1,
  outputInputRatio: 0.05,
  reasoningFraction: 0.05,
  machineTiming: 0.05,
  roundTheClock: 0.05,
  templateConcentration: 0.05,
} as const;

const DAY = 86_400_000;
const clip = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);

export function populationStats(t: AccountTable, minRequests: number): PopulationStats {
  const outs: number[] = [];
  const ratios: number[] = [];
  for (const s of t.slots()) {
    if (t.req[s] < minRequests) continue;
    outs.push(t.outTok[s]);
    ratios.push(t.outTok[s] / Math.max(1, t.inTok[s]));
  }
  if (outs.length < 20) return DEFAULT_POPULATION_STATS;
  const q = (a: number[], p: number) => Float64Array.from(a).sort()[Math.min(a.length - 1, Math.floor(a.length * p))];
  return { outP75: Math.max(1000, q(outs, 0.75)), ratioP50: Math.max(0.5, q(ratios, 0.5)) };
}

export function accountFeatures(t: AccountTable, s: number, minRequests: number, pop: PopulationStats = DEFAULT_POPULATION_STATS): AccountFeatures {
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
  const longForm = n > 0 ? clip((t.longOut[s] / n - 0.2) / 0.5) : 0;
  const harvest = clip(Math.log10(Math.max(1, t.outTok[s]) / pop.outP75) + 0.5);
  const itemsSeen = AccountTable.distinct(t.itemBits, s);
  const itemDiversity = n > 0 && itemsSeen > 0 ? Math.min(1, itemsSeen / Math.min(n, 400)) : 0;
  const rotation = clip((AccountTable.distinct(t.pfxBits, s) - 3) / 15);
  const ratioRel = clip(Math.log2(Math.max(1e-9, ratio / pop.ratioP50)) / 2);
  const W = FEATURE_WEIGHTS;
  const raw =
    W.longForm * longForm +
    W.harvest * harvest +
    W.newness * newness +
    W.rotation * rotation +
    W.outputInputRatio * ratioRel +
    W.reasoningFraction * clip(reasoningFraction / 0.5) +
    W.machineTiming * machineTiming +
    W.roundTheClock * roundTheClock +
    W.templateConcentration * templateConcentration;
  const suspicion = raw * Math.min(1, n / minRequests);
  return { requests: n, reasoningFraction, outputInputRatio: ratio, longForm, harvest, templateConcentration, itemDiversity, rotation, machineTiming, roundTheClock, newness, volume, suspicion };
}

/** The account's most frequent prompt structure key, or -1. */
export function topShape(t: AccountTable, s: number): number {
  let best = -1;
  let cnt = 0;
  for (let i = s * SHAPE_SLOTS; i < (s + 1) * SHAPE_SLOTS; i++) {
    if (t.shCnt[i] > cnt) {
      cnt = t.shCnt[i];
      best = t.shKey[i];
    }
  }
  return cnt >= Math.max(2, t.req[s] * 0.2) ? best : -1;
}
