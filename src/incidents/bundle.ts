/**
 * `gatehouse incidents export`: an incident's evidence bundle (audit/bundle.ts) — the incident and its timeline,
 * the audit records linked to it (requests), its own audited changes, the abuse actions of its rings and the
 * audited changes of its directives and of the licences of its accounts and organisations, each with the run of
 * records up to the signed checkpoint that covers it, and the directives' history and those licences from the store.
 * The export itself is audited (`incident.exported`).
 *
 * Prompt and response text is included only when the caller passes `text` — which it does only where encrypted
 * retention is on and the exporter's role may read retained text — and only for linked requests whose records are in
 * the bundle and whose text retention still holds. Each inclusion is audited (`retention.read`, the request id as
 * target, with who, which role and which incident), in the same transaction as the export's own record.
 */
import { hostname } from 'node:os';
import { BUNDLE_FORMAT, collectSegments, type EvidenceBundle } from '../audit/bundle.ts';
import { recordAdminAction } from '../core/admin-actions.ts';
import { loadPublicKey } from '../audit/signing.ts';
import { DirectiveRepository } from '../directives/repository.ts';
import { LicenceRepository } from '../policy/licence-repository.ts';
import type { RetainedText } from '../audit/retention.ts';
import type { Db } from '../store/db.ts';
import { IncidentNotFoundError, IncidentRepository } from './repository.ts';

export interface ExportOptions {
  auditPath: string;
  /** The log's signing key spec (private or public): its public half goes into the bundle for convenience. */
  signingKey?: string | null;
  /** Who exports (a person) and the tool (`cli:user@host`), both recorded. */
  by: string;
  auditActor?: string;
  now?: () => number;
  /** Include retained text: given only when retention is on and the exporter's role may read it. */
  text?: BundleTextAccess;
  /** Why text is not included (recorded in the bundle's context when `text` is absent). */
  textNote?: string;
}

export interface BundleTextAccess {
  /** The retained text of a request (null: never retained, or purged); `time` narrows the search to its day. */
  read(requestId: string, time?: number): Promise<RetainedText | null>;
  /** The exporter's role, recorded with each inclusion. */
  role: string;
}

/** Request ids → request time, from the bundle's request records. */
function requestTimes(segments: { lines: string[] }[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of segments)
    for (const line of s.lines) {
      if (!line.includes('"kind":"request"')) continue;
      const rec = JSON.parse(line) as { kind?: string; requestId?: string; requestTime?: number };
      if (rec.kind === 'request' && typeof rec.requestId === 'string') out.set(rec.requestId, Number(rec.requestTime));
    }
  return out;
}

export async function exportIncidentBundle(db: Db, id: string, opts: ExportOptions): Promise<{ bundle: EvidenceBundle; unproven: string[] }> {
  const repo = new IncidentRepository(db);
  const incident = await repo.get(id);
  if (!incident) throw new IncidentNotFoundError(id);
  const timeline = await repo.timelineOf(id);
  const directivesRepo = new DirectiveRepository(db);
  const directives = [];
  for (const d of incident.directives) {
    const rec = await directivesRepo.get(d).catch(() => undefined);
    directives.push(rec ? { directive: rec, history: await directivesRepo.historyOf(d) } : { id: d, missing: 'not in the store' });
  }
  // Licences of the accounts and organisations involved (every grant, revoked ones too, with their validity).
  const licensees = incident.principals.filter((p) => p.startsWith('account:') || p.startsWith('org:'));
  const licenceRepo = new LicenceRepository(db);
  const licences = [];
  for (const p of licensees) {
    const [kind, id] = [p.slice(0, p.indexOf(':')), p.slice(p.indexOf(':') + 1)];
    licences.push(...(await licenceRepo.list(kind === 'org' ? { org: id } : { account: id }).catch(() => [])));
  }
  const { segments, found } = await collectSegments(opts.auditPath, {
    requestIds: new Set(incident.requestIds),
    adminTargets: new Set([incident.id, ...incident.directives, ...licences.map((l) => l.id)]),
    rings: new Set(incident.rings),
  });
  const claimedRequests = incident.requestIds.filter((r) => found.has(r));
  const claimedTargets = [incident.id, ...incident.directives, ...licences.map((l) => l.id)].filter((t) => found.has(t));
  const unproven = [...incident.requestIds.filter((r) => !found.has(r)), ...[incident.id, ...incident.directives].filter((t) => !found.has(t))];
  const now = (opts.now ?? Date.now)();
  // Retained text, for the linked requests the bundle proves.
  const texts: Record<string, RetainedText> = {};
  const textMissing: string[] = [];
  if (opts.text) {
    const times = requestTimes(segments);
    for (const r of claimedRequests) {
      const t = times.get(r);
      const got = await opts.text.read(r, t !== undefined && Number.isFinite(t) ? t : undefined);
      if (got) texts[r] = got;
      else textMissing.push(r);
    }
  }
  const included = Object.keys(texts);
  const promptText = opts.text
    ? { included: included.length, missing: textMissing, role: opts.text.role, note: 'decrypted from encrypted retention at export; not covered by the signatures (its keyed hash is the record\'s promptHash for whoever holds audit.textHashKey)' }
    : (opts.textNote ?? 'not included');
  const bundle: EvidenceBundle = {
    format: BUNDLE_FORMAT,
    createdAt: new Date(now).toISOString(),
    createdBy: `${opts.by} (${opts.auditActor ?? `export@${hostname()}`})`,
    subject: `incident ${incident.id}`,
    claims: { requestIds: claimedRequests, adminTargets: claimedTargets },
    segments,
    ...(opts.signingKey ? { publicKey: loadPublicKey(opts.signingKey).export({ type: 'spki', format: 'pem' }).toString() } : {}),
    context: {
      incident,
      timeline,
      directives,
      licences,
      rings: incident.rings,
      /** Linked records and changes the log did not hold at export (rotated away, or written before audit was on). */
      notInLog: unproven,
      promptText,
      ...(opts.text ? { texts } : {}),
    },
  };
  const actor = opts.auditActor ?? 'incident-export';
  await db.transaction(async (tx) => {
    for (const r of included) await recordAdminAction(tx, { action: 'retention.read', actor, target: r, details: { by: opts.by, role: opts.text!.role, purpose: 'incident.exported', incident: incident.id } }, now);
    await recordAdminAction(tx, { action: 'incident.exported', actor, target: incident.id, details: { by: opts.by, segments: segments.length, records: segments.reduce((n, s) => n + s.lines.length, 0), notInLog: unproven.length, texts: included.length } }, now);
  });
  return { bundle, unproven };
}
