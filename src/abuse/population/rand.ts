/**
 * xoshiro128** seeded through splitmix32, with the distributions the population generator draws from
 * (Pareto volumes, Weibull gaps, Poisson counts, categorical picks). Independent of simulate.ts's mulberry32.
 */
function splitmix32(x: number): () => number {
  return () => {
    x = (x + 0x9e3779b9) | 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return (z ^ (z >>> 15)) >>> 0;
  };
}

export class Rand {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number, stream = 0) {
    const sm = splitmix32((seed >>> 0) ^ Math.imul(stream + 1, 0x85ebca6b));
    this.a = sm();
    this.b = sm();
    this.c = sm();
    this.d = sm() | 1;
  }
  /** Uniform in [0, 1). */
  next(): number {
    const r = Math.imul(Math.imul(this.b, 5) << 7 | Math.imul(this.b, 5) >>> 25, 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = (this.d << 11) | (this.d >>> 21);
    return r / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(a: readonly T[]): T {
    return a[Math.floor(this.next() * a.length)];
  }
  /** Pareto with scale xm and shape alpha (heavy tail for alpha near 1). */
  pareto(xm: number, alpha: number): number {
    return xm / Math.pow(1 - this.next(), 1 / alpha);
  }
  /** Weibull with scale lambda and shape k (k < 1: bursty; k > 1: regular). */
  weibull(lambda: number, k: number): number {
    return lambda * Math.pow(-Math.log(1 - this.next()), 1 / k);
  }
  /** Standard normal (Marsaglia polar). */
  gauss(): number {
    for (;;) {
      const u = 2 * this.next() - 1;
      const v = 2 * this.next() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) return u * Math.sqrt((-2 * Math.log(s)) / s);
    }
  }
  /** Poisson by inversion for small means, normal approximation above 50. */
  poisson(mean: number): number {
    if (mean > 50) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.gauss()));
    const L = Math.exp(-mean);
    let k = 0;
    let p = 1;
    do {
      k++;
      p *= this.next();
    } while (p > L);
    return k - 1;
  }
  /** Gamma-distributed token counts: mean m, coefficient of variation cv (sum of exponentials for shape ≥ 1). */
  tokens(mean: number, cv: number): number {
    const shape = Math.max(1, Math.round(1 / (cv * cv)));
    let s = 0;
    for (let i = 0; i < shape; i++) s -= Math.log(1 - this.next());
    return Math.max(1, Math.round((s / shape) * mean));
  }
}
