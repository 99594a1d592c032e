/**
 * Evidence bundles: chosen records of an audit log, provable offline without the rest of the log. A bundle holds
 * `segments` — runs of consecutive audit lines, byte for byte — each starting at a record of interest and ending at
 * the first signed checkpoint after it, so the run's hash chain connects every record in it to a signature. The
 * verifier re-hashes every line, checks the chain within each run (seq, prevHash), checks each closing checkpoint's
 * Ed25519 signature, and checks that every record the bundle claims to prove is in a run. Any edit to a line, a
 * removed or inserted line, or a forged checkpoint makes it fail, naming the first bad record.
 *
 * What else the bundle carries (the incident, its timeline, directive history…) is context; it is bound to the log
 * through the admin records of its changes, which are in the segments like any other record.
 */
import type { KeyObject } from 'node:crypto';
import { auditRecords } from './query.ts';
import { canonicalJson } from './canonical-json.ts';
import { scanChain, type AuditLine } from './chain.ts';
import { loadPublicKey, verifyCheckpoint } from './signing.ts';

export const BUNDLE_FORMAT = 'gatehouse-evidence-bundle/1';

export interface BundleSegment {
  /** The audit lines, each exactly as in the log (canonical JSON with its hash), oldest first. */
  lines: string[];
}

export interface EvidenceBundle {
  format: typeof BUNDLE_FORMAT;
  createdAt: string;
  createdBy: string;
  /** What the bundle is about (e.g. `incident inc_…`). */
  subject: string;
  /** Request ids and admin targets the segments must prove. */
  claims: { requestIds: string[]; adminTargets: string[] };
  segments: BundleSegment[];
  /** The log's checkpoint public key (SPKI PEM), when known; a verifier should use its own copy. */
  publicKey?: string;
  context: Record<string, unknown>;
}

/** Which records a bundle is built around. */
export interface Selection {
  requestIds: ReadonlySet<string>;
  /** Admin records whose target is one of these (an incident's own changes, directives…). */
  adminTargets: ReadonlySet<string>;
  /** Abuse actions of these rings. */
  rings?: ReadonlySet<string>;
  /** Most segments' lines in all (a run stops growing past it; verification then reports it unsealed). */
  maxLines?: number;
}

function selected(rec: AuditLine, s: Selection): boolean {
  if (rec.kind === 'request') return s.requestIds.has(rec.requestId as string);
  if (rec.kind !== 'admin') return false;
  if (typeof rec.target === 'string' && s.adminTargets.has(rec.target)) return true;
  const ring = (rec.details as { ringId?: unknown } | undefined)?.ringId;
  return rec.action === 'abuse.action' && typeof ring === 'string' && (s.rings?.has(ring) ?? false);
}

/** Reads the log once and cuts the segments: from each selected record to the next checkpoint (inclusive). */
export async function collectSegments(auditPath: string, s: Selection): Promise<{ segments: BundleSegment[]; found: Set<string> }> {
  const segments: BundleSegment[] = [];
  const found = new Set<string>();
  const max = s.maxLines ?? 1_000_000;
  let total = 0;
  let open: BundleSegment | null = null;
  let lastSeq = -1;
  for await (const rec of auditRecords(auditPath)) {
    // A gap in seq (a segment boundary after quarantine) ends a run: the chain does not continue across it.
    if (open && rec.seq !== lastSeq + 1) open = null;
    lastSeq = rec.seq;
    const hit = selected(rec, s);
    if (hit) {
      if (rec.kind === 'request') found.add(rec.requestId as string);
      else found.add(String(rec.target ?? (rec.details as { ringId?: string } | undefined)?.ringId));
      if (!open) segments.push((open = { lines: [] }));
    }
    if (!open) continue;
    if (total >= max) {
      open = null;
      continue;
    }
    // The line as the log holds it: the canonical JSON of the body with the record's own hash appended (never a
    // recomputed one, so a record altered in the log stays detectably altered in the bundle).
    const { hash, ...body } = rec;
    const json = canonicalJson(body);
    open.lines.push(`${json.slice(0, -1)},"hash":${JSON.stringify(hash)}}`);
    total++;
    if (rec.kind === 'checkpoint') open = null;
  }
  return { segments, found };
}

export interface BundleVerification {
  ok: boolean;
  /** Records whose hash and chain verified. */
  records: number;
  segments: number;
  /** Segments closed by a checkpoint whose signature verified. */
  sealedSegments: number;
  signaturesChecked: boolean;
  /** Where the key came from: the verifier's own (`given`), or the bundle's (`bundle`: proves consistency only — whoever made the bundle chose that key). */
  keySource: 'given' | 'bundle' | null;
  /** The first problem: which segment, which line of it, which record, why. */
  firstBad: { segment: number; line: number; seq: number | null; reason: string } | null;
  /** Claimed records not found in any segment. */
  missing: string[];
}

/**
 * Verifies a bundle offline. `publicKey` (a key spec or KeyObject) overrides the one in the bundle; without either,
 * hashes and chains are checked but signatures cannot be, and the result says so.
 */
export function verifyBundle(bundle: unknown, publicKey?: KeyObject | string | null): BundleVerification {
  const result: BundleVerification = { ok: false, records: 0, segments: 0, sealedSegments: 0, signaturesChecked: false, keySource: null, firstBad: null, missing: [] };
  const b = bundle as Partial<EvidenceBundle> | null;
  if (!b || typeof b !== 'object' || b.format !== BUNDLE_FORMAT || !Array.isArray(b.segments) || !b.claims) {
    result.firstBad = { segment: 0, line: 0, seq: null, reason: `not an evidence bundle (expected format '${BUNDLE_FORMAT}')` };
    return result;
  }
  const spec = publicKey ?? b.publicKey ?? null;
  let key: KeyObject | null = null;
  if (spec) {
    try {
      key = typeof spec === 'string' ? loadPublicKey(spec) : spec;
    } catch (err) {
      result.firstBad = { segment: 0, line: 0, seq: null, reason: `public key: ${(err as Error).message}` };
      return result;
    }
  }
  result.signaturesChecked = key !== null;
  result.keySource = key === null ? null : publicKey ? 'given' : 'bundle';
  const found = new Set<string>();
  for (let i = 0; i < b.segments.length; i++) {
    const seg = b.segments[i]!;
    if (!Array.isArray(seg?.lines) || seg.lines.some((l) => typeof l !== 'string' || l.includes('\n'))) {
      result.firstBad = { segment: i + 1, line: 0, seq: null, reason: 'segment lines are not a list of single-line strings' };
      return result;
    }
    let sealed = false;
    const scan = scanChain(Buffer.from(seg.lines.map((l) => l + '\n').join('')), {
      expect: null,
      collect: true,
      check: (rec) => {
        if (rec.kind !== 'checkpoint') return null;
        if (rec.sealedSeq !== rec.seq - 1 || rec.sealedHash !== rec.prevHash) return 'checkpoint does not seal the record before it';
        if (key) {
          if (!verifyCheckpoint(key, { seq: rec.sealedSeq as number, hash: rec.sealedHash as string, time: rec.time }, String(rec.signature))) return 'checkpoint signature does not verify with the public key';
          sealed = true;
        }
        return null;
      },
    });
    result.records += scan.count;
    result.segments++;
    if (scan.firstBad) {
      result.firstBad = { segment: i + 1, line: scan.firstBad.line ?? 0, seq: scan.firstBad.seq, reason: scan.firstBad.reason };
      return result;
    }
    const last = scan.records[scan.records.length - 1];
    if (key && (!sealed || last?.kind !== 'checkpoint')) {
      result.firstBad = { segment: i + 1, line: seg.lines.length, seq: last?.seq ?? null, reason: 'segment does not end at a signed checkpoint: its records are not provable' };
      return result;
    }
    if (sealed) result.sealedSegments++;
    for (const rec of scan.records) {
      if (rec.kind === 'request') found.add(rec.requestId as string);
      else if (rec.kind === 'admin' && typeof rec.target === 'string') found.add(rec.target);
    }
  }
  const claims = [...(b.claims.requestIds ?? []), ...(b.claims.adminTargets ?? [])];
  result.missing = claims.filter((c) => !found.has(c));
  result.ok = result.missing.length === 0;
  return result;
}

export function describeBundleProblem(v: BundleVerification): string {
  if (v.firstBad) return `segment ${v.firstBad.segment}, line ${v.firstBad.line}${v.firstBad.seq !== null ? ` (record seq ${v.firstBad.seq})` : ''}: ${v.firstBad.reason}`;
  if (v.missing.length) return `records claimed but not in the bundle: ${v.missing.slice(0, 10).join(', ')}${v.missing.length > 10 ? ', …' : ''}`;
  return 'ok';
}
