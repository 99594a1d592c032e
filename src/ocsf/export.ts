/**
 * Streaming OCSF export of an audit log: records are read file by file (audit/query.ts, bounded memory, the event
 * loop yielded between chunks) and each mapped event is yielded as one JSON line.
 */
import { auditRecords } from '../audit/query.ts';
import { toOcsf, type MapOptions, type OcsfEvent } from './map.ts';

export type OcsfClassName = 'api' | 'auth' | 'finding' | 'account';
export const CLASS_OF: Record<OcsfClassName, number> = { api: 6003, auth: 3002, finding: 2004, account: 3001 };

export interface ExportFilter {
  /** Inclusive epoch ms bounds on the audit record's time. */
  from?: number;
  to?: number;
  /** Only these classes (default all). */
  classes?: readonly OcsfClassName[];
  /** Most events. */
  limit?: number;
}

export async function* ocsfEvents(auditPath: string, f: ExportFilter = {}, opts: MapOptions = {}): AsyncGenerator<OcsfEvent> {
  const wanted = f.classes && f.classes.length ? new Set(f.classes.map((c) => CLASS_OF[c])) : null;
  const limit = f.limit ?? Infinity;
  let n = 0;
  for await (const rec of auditRecords(auditPath)) {
    if (f.from !== undefined && rec.time < f.from) continue;
    if (f.to !== undefined && rec.time > f.to) continue;
    for (const ev of toOcsf(rec, opts)) {
      if (wanted && !wanted.has(ev.class_uid)) continue;
      if (n++ >= limit) return;
      yield ev;
    }
  }
}

export function parseClasses(value: string): OcsfClassName[] {
  const out: OcsfClassName[] = [];
  for (const c of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(c in CLASS_OF)) throw new Error(`unknown OCSF class '${c}' (expected api, auth, finding, account)`);
    out.push(c as OcsfClassName);
  }
  return out;
}
