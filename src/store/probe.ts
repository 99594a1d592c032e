/** A periodic `SELECT 1` against the store, read by `/readyz` (the `store` line). */
import type { Db } from './db.ts';

export interface StoreProbe {
  /** A readiness check (the `ReadinessCheck` contract): ok while the last probe answered. */
  readonly readiness: { readonly name: 'store'; check(): { ok: boolean; detail: string } };
  stop(): void;
}

/** `onDown` is called when the store stops answering (once per outage, not on every failed probe). */
export function startStoreProbe(db: Db, intervalMs = 2000, onDown?: (err: Error) => void): StoreProbe {
  let ok = true;
  const timer = setInterval(() => {
    db.query('SELECT 1').then(
      () => (ok = true),
      (err: Error) => {
        if (ok) onDown?.(err);
        ok = false;
      },
    );
  }, intervalMs);
  timer.unref();
  return { readiness: { name: 'store', check: () => ({ ok, detail: db.dialect }) }, stop: () => clearInterval(timer) };
}
