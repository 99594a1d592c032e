/**
 * Cluster-wide "announce once": the first replica to insert an event's dedupe key delivers it; the others see the
 * conflict and stay quiet. Old keys are purged at most hourly (keys older than `keepMs`, default 30 days).
 */
import type { Db } from '../store/db.ts';

export interface Claims {
  /** True when this process is the first to claim `key`. Rejects when the store cannot answer. */
  claim(key: string): Promise<boolean>;
}

export function storeClaims(db: Db, opts: { now?: () => number; keepMs?: number } = {}): Claims {
  const now = opts.now ?? Date.now;
  const keepMs = opts.keepMs ?? 30 * 86_400_000;
  let lastPurge = 0;
  return {
    async claim(key) {
      const t = now();
      if (t - lastPurge > 3_600_000) {
        lastPurge = t;
        await db.query('DELETE FROM notify_sent WHERE at < $1', [t - keepMs]);
      }
      const rows = await db.query('INSERT INTO notify_sent (dedupe_key, at) VALUES ($1, $2) ON CONFLICT (dedupe_key) DO NOTHING RETURNING dedupe_key', [key.slice(0, 500), t]);
      return rows.length === 1;
    },
  };
}
