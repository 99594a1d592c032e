/** A periodic `SELECT 1` against the store, read by `/readyz` (the `store` line). */
import type { Db } from './db.ts';

export interface StoreProbe {
  /** A readiness check (the `ReadinessCheck` contract): ok while the last probe answered. */
  readonly readiness: { readonly name: 'store'; check(): { ok: boolean; detail: string } };
  stop(): void;
}

export function startStoreProbe(db: Db, intervalMs = 2000): StoreProbe {
  let ok = true;
  const timer = setInterval(() => {
    db.query('SELECT 1').then(
      () => (ok = true),
      () => (ok = false),
    );
  }, intervalMs);
  timer.unref();
  return { readiness: { name: 'store', check: () => ({ ok, detail: db.dialect }) }, stop: () => clearInterval(timer) };
}
