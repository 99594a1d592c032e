/**
 * Reading the audit log back: all files of the log in chain order (quarantined segments' good prefixes first),
 * filtered by principal, model, action and time. Reads the files whole; fine for logs up to a few GB, and
 * the query path is for incident work, not for the request hot path.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AuditLine } from './chain.ts';

export interface AuditFilter {
  /** Matches the key id, account id or org id of a request, or the actor/target of an admin action. */
  principal?: string;
  account?: string;
  /** Matches modelRequested or modelServed. */
  model?: string;
  /** Request decision (allow|route|refuse|invalid|error) or admin action (key.created…), or a record kind. */
  action?: string;
  kind?: string;
  /** Inclusive epoch ms bounds on the record's append `time`. */
  from?: number;
  to?: number;
  limit?: number;
}

async function readLines(path: string, limitBytes: number | null, depth: number): Promise<AuditLine[]> {
  let buf = await readFile(path);
  if (limitBytes !== null) buf = buf.subarray(0, limitBytes);
  const out: AuditLine[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(10, pos);
    if (nl === -1) break;
    try {
      out.push(JSON.parse(buf.toString('utf8', pos, nl)) as AuditLine);
    } catch {
      break; // a bad line ends what can be trusted in this file; `audit verify` says where and why
    }
    pos = nl + 1;
  }
  const first = out[0];
  const prev = first?.kind === 'segment' ? (first.previous as { file?: string; goodBytes?: number } | undefined) : undefined;
  if (prev?.file && typeof prev.goodBytes === 'number' && depth < 1000) {
    try {
      return [...(await readLines(join(dirname(path), prev.file), prev.goodBytes, depth + 1)), ...out];
    } catch {
      return out;
    }
  }
  return out;
}

/** Every record of the log at `path`, oldest first. */
export function readAuditRecords(path: string): Promise<AuditLine[]> {
  return readLines(path, null, 0);
}

export function matches(rec: AuditLine, f: AuditFilter): boolean {
  if (f.from !== undefined && rec.time < f.from) return false;
  if (f.to !== undefined && rec.time > f.to) return false;
  if (f.kind !== undefined && rec.kind !== f.kind) return false;
  const p = rec.principal as { keyId?: string | null; accountId?: string | null; orgId?: string | null } | undefined;
  if (f.account !== undefined && p?.accountId !== f.account) return false;
  if (f.principal !== undefined) {
    const hit = p ? p.keyId === f.principal || p.accountId === f.principal || p.orgId === f.principal : rec.actor === f.principal || rec.target === f.principal;
    if (!hit) return false;
  }
  if (f.model !== undefined && rec.modelRequested !== f.model && rec.modelServed !== f.model) return false;
  if (f.action !== undefined && rec.action !== f.action && rec.kind !== f.action) return false;
  return true;
}

export async function queryAudit(path: string, f: AuditFilter): Promise<{ records: AuditLine[]; truncated: boolean }> {
  const all = await readAuditRecords(path);
  const limit = f.limit ?? Infinity;
  const records: AuditLine[] = [];
  for (const r of all) {
    if (!matches(r, f)) continue;
    if (records.length >= limit) return { records, truncated: true };
    records.push(r);
  }
  return { records, truncated: false };
}

export const CSV_COLUMNS = [
  'seq', 'time', 'kind', 'requestId', 'keyId', 'accountId', 'orgId', 'protocol', 'modelRequested', 'modelServed', 'action', 'outcome',
  'status', 'code', 'ref', 'labels', 'inputTokens', 'outputTokens', 'usageEstimated', 'costUsd', 'latencyMs', 'actor', 'target', 'details', 'hash',
] as const;

function csvCell(v: unknown): string {
  if (v === undefined || v === null) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsvRow(rec: AuditLine): string {
  const p = (rec.principal ?? {}) as Record<string, unknown>;
  return CSV_COLUMNS.map((c) => csvCell(c === 'keyId' || c === 'accountId' || c === 'orgId' ? p[c] : rec[c])).join(',');
}

/** Parse `--from`/`--to`: epoch ms, or an ISO date/time (a bare date is midnight UTC). */
export function parseTime(value: string, name: string): number {
  if (/^\d+$/.test(value)) return Number(value);
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new Error(`${name}: '${value}' is not a date (use ISO 8601, e.g. 2026-01-31 or 2026-01-31T12:00:00Z, or epoch ms)`);
  return t;
}
