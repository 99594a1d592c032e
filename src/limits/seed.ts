/**
 * After a restart an in-memory limiter knows no spend; monthly budgets would start again from zero. Seeding reads
 * this month's spend per key, account and org from the meter's table (one grouped query per scope) at start-up.
 */
import type { Db } from '../store/db.ts';
import type { MemoryLimiter } from './memory.ts';
import { currentMonth } from './plan.ts';

const COLUMNS = { key: 'key_id', account: 'account_id', org: 'org_id' } as const;

/** Returns how many principals were seeded. Spend recorded after the meter's last flush is not included. */
export async function seedSpendFromMeter(limiter: MemoryLimiter, db: Db, now = Date.now()): Promise<number> {
  const monthStart = `${currentMonth(now)}-01`;
  let n = 0;
  for (const [scope, col] of Object.entries(COLUMNS) as [keyof typeof COLUMNS, string][]) {
    const rows = await db.query<{ id: string; spent: number }>(
      `SELECT ${col} AS id, SUM(cost_usd) AS spent FROM meter_usage_daily WHERE day >= $1 AND ${col} <> '' GROUP BY ${col}`,
      [monthStart],
    );
    for (const r of rows) {
      if (Number(r.spent) > 0) {
        limiter.seedSpend(scope, r.id, Number(r.spent));
        n++;
      }
    }
  }
  return n;
}
