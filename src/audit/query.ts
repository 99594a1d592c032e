/**
 * Reading the audit log back: all files of the log in chain order (rotated files and quarantined segments' good
 * prefixes first), filtered by principal, model, action and time, streamed rather than read whole.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { AuditLine } from './chain.ts';
import { chainFiles } from './files.ts';

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

/**
 * Every record of the log at `path`, oldest first, streamed file by file: memory stays bounded by one line, and
 * the event loop is yielded between chunks, so a query on a large log does not stall a gateway serving requests.
 * A line that does not parse ends what can be trusted in its file (`audit verify` says where and why); a segment
 * whose predecessor is missing starts the log there.
 */
export async function* auditRecords(path: string): AsyncGenerator<AuditLine> {
  const { files } = await chainFiles(path);
  for (const f of files) {
    if (f.limit === 0) continue;
    const input = createReadStream(f.path, f.limit === null ? {} : { end: f.limit - 1 });
    const lines = createInterface({ input, crlfDelay: Infinity });
    try {
      for await (const line of lines) {
        if (line === '') continue;
        let rec: AuditLine;
        try {
          rec = JSON.parse(line) as AuditLine;
        } catch {
          break;
        }
        yield rec;
      }
    } finally {
      lines.close();
      input.destroy();
    }
  }
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

/** Matching records, oldest first, up to `f.limit`; `truncated` says more matched. Reading stops there. */
export async function queryAudit(path: string, f: AuditFilter): Promise<{ records: AuditLine[]; truncated: boolean }> {
  const limit = f.limit ?? Infinity;
  const records: AuditLine[] = [];
  for await (const r of auditRecords(path)) {
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
  if (/^\d+$/.test(value)) {
    const ms = Number(value);
    // Past what a Date can hold (8.64e15) nothing is ever recorded; say so rather than match nothing or throw later.
    if (ms > 8.64e15) throw new Error(`${name}: ${value.slice(0, 40)} is out of range (epoch milliseconds go up to 8640000000000000)`);
    return ms;
  }
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new Error(`${name}: '${value}' is not a date (use ISO 8601, e.g. 2026-01-31 or 2026-01-31T12:00:00Z, or epoch ms)`);
  return t;
}
