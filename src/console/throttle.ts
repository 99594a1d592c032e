/**
 * Fixed-window counters for failed sign-ins and refused admin calls, per key (account name, client address,
 * operator). In memory, per replica: an attacker spread across N replicas gets N times the allowance. Bounded: past
 * MAX_KEYS the table is cleared (the worst case is a fresh allowance, never unbounded memory).
 */
const MAX_KEYS = 100_000;

export class Throttle {
  private readonly windows = new Map<string, { start: number; count: number }>();
  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until `key` may try again, or 0 when it is under its allowance. */
  retryAfter(key: string): number {
    const w = this.windows.get(key);
    if (!w) return 0;
    const elapsed = this.now() - w.start;
    if (elapsed >= this.windowMs) {
      this.windows.delete(key);
      return 0;
    }
    return w.count >= this.max ? Math.ceil((this.windowMs - elapsed) / 1000) : 0;
  }

  hit(key: string): void {
    const now = this.now();
    const w = this.windows.get(key);
    if (w && now - w.start < this.windowMs) w.count++;
    else {
      if (this.windows.size >= MAX_KEYS) this.windows.clear();
      this.windows.set(key, { start: now, count: 1 });
    }
  }

  reset(key: string): void {
    this.windows.delete(key);
  }
}
