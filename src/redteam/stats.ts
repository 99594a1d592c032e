/** Rates with 95% Wilson score intervals. Pure. */

const Z = 1.959963984540054;

/** 95% Wilson score interval for k successes in n trials; [0, 1] when n = 0 (nothing is known). */
export function wilson(k: number, n: number, z = Z): [number, number] {
  if (!Number.isInteger(k) || !Number.isInteger(n) || k < 0 || n < 0 || k > n) throw new RangeError(`wilson: need integers 0 <= k <= n, got k=${k} n=${n}`);
  if (n === 0) return [0, 1];
  const p = k / n;
  const z2 = z * z;
  const den = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / den;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / den;
  // Clamp the rounding error at the ends: the exact interval for k = 0 starts at 0 and for k = n ends at 1.
  return [k === 0 ? 0 : Math.max(0, centre - half), k === n ? 1 : Math.min(1, centre + half)];
}

export interface Rate {
  k: number;
  n: number;
  /** k / n, or 0 when n = 0. */
  rate: number;
  ci: [number, number];
}

export function rate(k: number, n: number): Rate {
  return { k, n, rate: n === 0 ? 0 : k / n, ci: wilson(k, n) };
}
