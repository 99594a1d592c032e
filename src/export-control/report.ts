/**
 * The export-control record for a period: for each licence of the ledger, every request served under it (who,
 * which model, from which country of residence, when), and every request refused for lack of a licence
 * (`licence_required`, by directive or policy rule). Built from the audit log and the licence ledger, read only.
 *
 * Which licence a served request was allowed under is read from its audit record (`ref.licence`, written by the
 * gateway with the decision). Records written before the gateway recorded it are decided again with the gateway's
 * own decision code (`AccessSnapshot.decide` with the whole ledger, revoked licences included, at the request's own
 * time). The principal's
 * attributes are joined as replay does (key store or principals file; today's attributes).
 *
 * Each licence's exports (the ledger's export records: recipient, model, destination, validity) are listed with the
 * served requests each covers — same model, the recipient is the account or its organisation, the destination is
 * the principal's residence, at a time the export was in force — and the served requests no recorded export covers
 * are listed apart (`outsideExports`).
 */
import type { Principal } from '../core/types.ts';
import type { LicenceRecord } from '../policy/licences.ts';
import { exportCovering, type LicenceExport } from '../policy/licence-exports.ts';
import type { AccessSnapshot } from '../policy/snapshot.ts';
import type { PrincipalLookup } from '../replay/engine.ts';
import { readLines, type SourceFile } from '../replay/reader.ts';

export interface ServedRequest {
  requestId: string;
  time: number;
  keyId: string | null;
  accountId: string | null;
  orgId: string | null;
  model: string;
  residence: string | null;
  nationalities: readonly string[];
}

export interface RefusedRequest {
  requestId: string;
  time: number;
  keyId: string | null;
  accountId: string | null;
  orgId: string | null;
  model: string;
  /** What required the licence: `directive:ID` or `rule:ID`. */
  requiredBy: string;
}

export interface LicenceSection {
  licence: LicenceRecord;
  served: { count: number; byModel: Record<string, number>; byAccount: Record<string, number>; byResidence: Record<string, number>; requests: ServedRequest[] };
  /** The licence's recorded exports, each with the served requests it covers (ids). */
  exports: Array<{ export: LicenceExport; served: { count: number; requests: string[] } }>;
  /** Served under the licence, but covered by none of its recorded exports. */
  outsideExports: { count: number; requests: string[] };
}

export interface LicenceReport {
  period: { from: string | null; to: string | null };
  generatedAt: string;
  licences: LicenceSection[];
  refusedForLackOfLicence: { count: number; byModel: Record<string, number>; byRequiredBy: Record<string, number>; requests: RefusedRequest[] };
  /** Served requests whose principal is not known (attributes needed to tell the licence): counted, not attributed. */
  unattributed: { count: number; examples: string[] };
  /** Bad lines of the log (file:line: why), skipped. */
  badRecords: Array<{ file: string; line: number; reason: string }>;
  notes: string[];
}

const SERVED = new Set(['ok', 'moderated', 'client_closed', 'stream_error']);

export interface ReportOptions {
  from?: number;
  to?: number;
  /** Most request ids listed per licence and for refusals (all are counted; default unlimited). */
  maxListed?: number;
  /** The ledger's export records (of any licence; revoked ones included). */
  exports?: readonly LicenceExport[];
}

function bump(m: Record<string, number>, k: string): void {
  m[k] = (m[k] ?? 0) + 1;
}

export async function licenceReport(files: readonly SourceFile[], access: AccessSnapshot, ledger: readonly LicenceRecord[], principals: PrincipalLookup, opts: ReportOptions = {}): Promise<LicenceReport> {
  const max = opts.maxListed ?? Infinity;
  const sections = new Map<string, LicenceSection>();
  for (const l of ledger) sections.set(l.id, { licence: l, served: { count: 0, byModel: {}, byAccount: {}, byResidence: {}, requests: [] }, exports: [], outsideExports: { count: 0, requests: [] } });
  const exportsOf = new Map<string, LicenceExport[]>();
  for (const e of opts.exports ?? []) {
    const s = sections.get(e.licenceId);
    if (!s) continue;
    s.exports.push({ export: e, served: { count: 0, requests: [] } });
    const list = exportsOf.get(e.licenceId);
    if (list) list.push(e);
    else exportsOf.set(e.licenceId, [e]);
  }
  const refused: LicenceReport['refusedForLackOfLicence'] = { count: 0, byModel: {}, byRequiredBy: {}, requests: [] };
  const unattributed = { count: 0, examples: [] as string[] };
  const badRecords: LicenceReport['badRecords'] = [];
  const from = opts.from ?? -Infinity;
  const to = opts.to ?? Infinity;
  await readLines(files, {
    line(text, file, line) {
      let r: Record<string, any>;
      try {
        r = JSON.parse(text) as Record<string, any>;
      } catch (err) {
        if (badRecords.length < 100) badRecords.push({ file, line, reason: `not a JSON record: ${(err as Error).message}` });
        return true;
      }
      if (r === null || typeof r !== 'object' || (r.kind !== undefined && r.kind !== 'request')) return true;
      const time = typeof r.requestTime === 'number' ? r.requestTime : typeof r.time === 'number' ? r.time : NaN;
      if (!(time >= from && time <= to)) return true;
      const pid = (r.principal ?? {}) as { keyId?: string | null; accountId?: string | null; orgId?: string | null };
      const who = { keyId: pid.keyId ?? null, accountId: pid.accountId ?? null, orgId: pid.orgId ?? null };
      if (r.outcome === 'refused' && r.code === 'licence_required') {
        const ref = (r.ref ?? {}) as { directive?: string; rule?: string };
        const requiredBy = ref.directive ? `directive:${ref.directive}` : ref.rule ? `rule:${ref.rule}` : 'unknown';
        refused.count++;
        bump(refused.byModel, String(r.modelRequested));
        bump(refused.byRequiredBy, requiredBy);
        if (refused.requests.length < max) refused.requests.push({ requestId: String(r.requestId), time, ...who, model: String(r.modelRequested), requiredBy });
        return true;
      }
      if (!SERVED.has(r.outcome) || typeof r.modelServed !== 'string') return true;
      // The audit record names the licence a served request was allowed under (`ref.licence`); records written
      // before it did are attributed by deciding again.
      const recorded = typeof (r.ref as { licence?: unknown } | undefined)?.licence === 'string' ? ((r.ref as { licence: string }).licence) : undefined;
      const p: Principal | undefined = principals(who);
      if (!recorded && !p) {
        unattributed.count++;
        if (unattributed.examples.length < 10) unattributed.examples.push(String(r.requestId));
        return true;
      }
      const licenceId = recorded ?? access.decide(p!, r.modelServed, time).ref?.licence;
      if (!licenceId) return true;
      const s = sections.get(licenceId);
      if (!s) return true; // a licence not in the ledger cannot be decided by it; cannot happen with the same ledger
      s.served.count++;
      bump(s.served.byModel, r.modelServed);
      bump(s.served.byAccount, p?.accountId ?? who.accountId ?? '(unknown)');
      bump(s.served.byResidence, p?.residence ?? '(unknown)');
      if (s.served.requests.length < max) s.served.requests.push({ requestId: String(r.requestId), time, ...who, model: r.modelServed, residence: p?.residence ?? null, nationalities: p?.nationalities ?? [] });
      const e = exportCovering(exportsOf.get(licenceId) ?? [], { accountId: p?.accountId ?? who.accountId, orgId: p?.orgId ?? who.orgId, model: r.modelServed, residence: p?.residence ?? null, time });
      const bucket = e ? s.exports.find((x) => x.export === e)!.served : s.outsideExports;
      bucket.count++;
      if (bucket.requests.length < max) bucket.requests.push(String(r.requestId));
      return true;
    },
  });
  return {
    period: { from: Number.isFinite(from) ? new Date(from).toISOString() : null, to: Number.isFinite(to) ? new Date(to).toISOString() : null },
    generatedAt: new Date().toISOString(),
    licences: [...sections.values()].filter((s) => overlaps(s.licence, from, to) || s.served.count > 0),
    refusedForLackOfLicence: refused,
    unattributed,
    badRecords,
    notes: [
      'Served requests are attributed to the licence their audit record names (ref.licence); records without one are attributed to the licence the access decision names when re-decided at the request time with the whole ledger (revoked licences included, each until its revocation) and the principal’s current attributes.',
      'Refusals for lack of a licence are as recorded (code licence_required).',
      'Each served request is matched to the licence export that covers it: same model, recipient its account or organisation, destination its principal’s current country of residence, export in force at the request time; requests no recorded export covers are listed under outsideExports.',
    ],
  };
}

function overlaps(l: LicenceRecord, from: number, to: number): boolean {
  const end = l.revokedAt !== null ? Math.min(l.validTo, l.revokedAt) : l.validTo;
  return l.validFrom <= to && end >= from;
}
