/**
 * `gatehouse incidents export`: an incident's evidence bundle (audit/bundle.ts) — the incident and its timeline,
 * the audit records linked to it (requests), its own audited changes, the abuse actions of its rings and the
 * audited changes of its directives and of the licences of its accounts and organisations, each with the run of
 * records up to the signed checkpoint that covers it, and the directives' history and those licences from the store. No prompt or response text is included. The export itself is audited
 * (`incident.exported`).
 */
import { hostname } from 'node:os';
import { BUNDLE_FORMAT, collectSegments, type EvidenceBundle } from '../audit/bundle.ts';
import { recordAdminAction } from '../core/admin-actions.ts';
import { loadPublicKey } from '../audit/signing.ts';
import { DirectiveRepository } from '../directives/repository.ts';
import { LicenceRepository } from '../policy/licence-repository.ts';
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
      promptText: 'not included',
    },
  };
  await db.transaction(async (tx) => {
    await recordAdminAction(tx, { action: 'incident.exported', actor: opts.auditActor ?? 'incident-export', target: incident.id, details: { by: opts.by, segments: segments.length, records: segments.reduce((n, s) => n + s.lines.length, 0), notInLog: unproven.length } }, now);
  });
  return { bundle, unproven };
}
