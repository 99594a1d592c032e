/** Reading usage back: filters and grouping over meter_usage_daily, with whitelisted column names. */
import type { Db } from '../store/db.ts';
import { utcDay } from './usage.ts';

export const GROUPS = { day: 'day', model: 'model', account: 'account_id', org: 'org_id', key: 'key_id' } as const;
export type GroupBy = keyof typeof GROUPS;

export interface UsageFilter {
  /** Inclusive UTC days, YYYY-MM-DD. */
  from?: string;
  to?: string;
  account?: string;
  org?: string;
  key?: string;
  model?: string;
  groupBy?: GroupBy[];
}

export interface UsageRow {
  day?: string;
  model?: string;
  account?: string;
  org?: string;
  key?: string;
  requests: number;
  refused: number;
  estimated: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

/** The latest time a JavaScript Date can represent, in epoch milliseconds. */
const MAX_EPOCH_MS = 8.64e15;

/** Accepts YYYY-MM-DD, an ISO time, or epoch ms; returns the UTC day. */
export function parseDay(value: string, name: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value + 'T00:00:00Z'))) return value;
  const t = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (Number.isNaN(t)) throw new Error(`${name}: '${value}' is not a date (use YYYY-MM-DD, ISO 8601 or epoch ms)`);
  // Epoch milliseconds past what a Date can hold (±8.64e15) would make utcDay throw a RangeError.
  if (t > MAX_EPOCH_MS) throw new Error(`${name}: ${value.slice(0, 40)} is out of range (epoch milliseconds go up to ${MAX_EPOCH_MS})`);
  return utcDay(t);
}

export function parseGroupBy(value: string, name: string): GroupBy[] {
  const parts = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const p of parts) if (!(p in GROUPS)) throw new Error(`${name}: '${p}' is not one of ${Object.keys(GROUPS).join(', ')}`);
  return [...new Set(parts)] as GroupBy[];
}

export async function queryUsage(db: Db, f: UsageFilter): Promise<UsageRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, v: unknown) => {
    params.push(v);
    where.push(sql.replace('?', `$${params.length}`));
  };
  if (f.from) add('day >= ?', f.from);
  if (f.to) add('day <= ?', f.to);
  if (f.account) add('account_id = ?', f.account);
  if (f.org) add('org_id = ?', f.org);
  if (f.key) add('key_id = ?', f.key);
  if (f.model) add('model = ?', f.model);
  const groups = f.groupBy ?? [];
  const cols = groups.map((g) => `${GROUPS[g]} AS ${g === 'key' ? 'key_' : g}`);
  const sql =
    `SELECT ${[...cols, 'SUM(requests) AS requests', 'SUM(refused) AS refused', 'SUM(estimated) AS estimated', 'SUM(input_tokens) AS input_tokens', 'SUM(output_tokens) AS output_tokens', 'SUM(cost_usd) AS cost_usd'].join(', ')}` +
    ` FROM meter_usage_daily` +
    (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
    (groups.length ? ` GROUP BY ${groups.map((g) => GROUPS[g]).join(', ')} ORDER BY ${groups.map((g) => GROUPS[g]).join(', ')}` : '');
  const rows = await db.query<Record<string, unknown>>(sql, params);
  return rows
    .filter((r) => groups.length > 0 || r.requests !== null)
    .map((r) => {
      const out: UsageRow = {
        requests: Number(r.requests ?? 0),
        refused: Number(r.refused ?? 0),
        estimated: Number(r.estimated ?? 0),
        inputTokens: Number(r.input_tokens ?? 0),
        outputTokens: Number(r.output_tokens ?? 0),
        costUsd: Number(r.cost_usd ?? 0),
      };
      for (const g of groups) (out as unknown as Record<string, unknown>)[g] = r[g === 'key' ? 'key_' : g];
      return out;
    });
}

/** Month-to-date spend for one scope (used to seed spend budgets after a restart). */
export async function spendSince(db: Db, scope: 'key' | 'account' | 'org', id: string, fromDay: string): Promise<number> {
  const col = GROUPS[scope];
  const rows = await db.query<{ c: number | null }>(`SELECT SUM(cost_usd) AS c FROM meter_usage_daily WHERE ${col} = $1 AND day >= $2`, [id, fromDay]);
  return Number(rows[0]?.c ?? 0);
}

const CSV_HEAD = ['requests', 'refused', 'estimated', 'inputTokens', 'outputTokens', 'costUsd'] as const;

export function usageCsv(rows: UsageRow[], groups: GroupBy[]): string {
  const head = [...groups, ...CSV_HEAD];
  const cell = (v: unknown) => {
    const s = v === undefined || v === null ? '' : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return head.join(',') + '\n' + rows.map((r) => head.map((h) => cell((r as unknown as Record<string, unknown>)[h])).join(',') + '\n').join('');
}
