/** Evaluation arithmetic: per-label precision / recall / false-positive rate, Wilson intervals, threshold choice. Pure. */

export interface Rates {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  precision: number;
  recall: number;
  fpr: number;
  recallCi: [number, number];
  fprCi: [number, number];
}

/** 95% Wilson score interval for k successes in n trials. */
export function wilson(k: number, n: number): [number, number] {
  if (n === 0) return [0, 1];
  const z = 1.96;
  const p = k / n;
  const d = 1 + (z * z) / n;
  const c = (p + (z * z) / (2 * n)) / d;
  const h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / d;
  return [Math.max(0, c - h), Math.min(1, c + h)];
}

export function rates(pos: readonly number[], neg: readonly number[], threshold: number): Rates {
  let tp = 0;
  let fp = 0;
  for (const s of pos) if (s >= threshold) tp++;
  for (const s of neg) if (s >= threshold) fp++;
  const fn = pos.length - tp;
  const tn = neg.length - fp;
  return {
    tp, fp, fn, tn,
    precision: tp + fp === 0 ? 1 : tp / (tp + fp),
    recall: pos.length === 0 ? 0 : tp / pos.length,
    fpr: neg.length === 0 ? 0 : fp / neg.length,
    recallCi: wilson(tp, pos.length),
    fprCi: wilson(fp, neg.length),
  };
}

/**
 * Lowest threshold whose false-positive rate on `neg` is ≤ targetFpr (so recall is as high as that FPR allows).
 * Returns the threshold and the rates it gives on the same data.
 */
export function chooseThreshold(pos: readonly number[], neg: readonly number[], targetFpr: number): { threshold: number } & Rates {
  if (!(targetFpr >= 0 && targetFpr <= 1)) throw new Error(`target FPR must be in [0,1], got ${targetFpr}`);
  const sorted = [...neg].sort((a, b) => b - a);
  const allowed = Math.floor(targetFpr * sorted.length + 1e-9);
  // Threshold just above the highest negative that must be excluded.
  let threshold = allowed < sorted.length ? sorted[allowed] + 1e-6 : 0;
  threshold = Math.min(1, Math.max(0, Number(threshold.toFixed(6))));
  // Rounding may have landed at or below the excluded negative: step up until it is excluded.
  while (allowed < sorted.length && threshold <= sorted[allowed] && threshold < 1) threshold = Math.min(1, threshold + 1e-6);
  return { threshold, ...rates(pos, neg, threshold) };
}
