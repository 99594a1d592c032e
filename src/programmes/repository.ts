/**
 * Store I/O for programme applications and grants, and for KYC verifications. Every mutation records an audit
 * inbox row in its own transaction and bumps the `programmes` revision, so every gateway reloads its overlay.
 */
import { randomBytes } from 'node:crypto';
import { recordAdminAction } from '../core/admin-actions.ts';
import type { KycLevel } from '../core/types.ts';
import { AdminConflictError, AdminNotFoundError } from '../admin/http.ts';
import { bumpRevision } from '../store/changes.ts';
import type { Db } from '../store/db.ts';
import type { Grant, TrustState } from './overlay.ts';

export const PROGRAMMES_TOPIC = 'programmes';

export type ApplicationStatus = 'applied' | 'granted' | 'rejected' | 'revoked';

export interface Application {
  id: string;
  programme: string;
  subject: { kind: 'account' | 'org'; id: string };
  evidence: { text: string; links: string[] };
  status: ApplicationStatus;
  tier: string | null;
  expiresAt: number | null;
  decidedBy: string | null;
  decidedAt: number | null;
  reason: string | null;
  createdAt: number;
  updatedAt: number;
}

type Row = Record<string, unknown>;

function toApplication(r: Row): Application {
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    id: String(r.id),
    programme: String(r.programme),
    subject: { kind: r.subject_kind as 'account' | 'org', id: String(r.subject_id) },
    evidence: JSON.parse(String(r.evidence)) as Application['evidence'],
    status: r.status as ApplicationStatus,
    tier: (r.tier as string | null) ?? null,
    expiresAt: num(r.expires_at),
    decidedBy: (r.decided_by as string | null) ?? null,
    decidedAt: num(r.decided_at),
    reason: (r.reason as string | null) ?? null,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

export class ProgrammeRepository {
  /** `auditActor`: set when the gateway keeps an audit log (without one, nothing drains the inbox, so nothing is recorded). */
  constructor(
    private readonly db: Db,
    private readonly opts: { auditActor?: string } = {},
  ) {}

  private async record(tx: Db, action: string, target: string, details: Record<string, unknown>, now: number, actor?: string): Promise<void> {
    if (this.opts.auditActor) await recordAdminAction(tx, { action, actor: actor ?? this.opts.auditActor, target, details }, now);
  }

  async apply(input: { programme: string; subject: Application['subject']; evidence: Application['evidence'] }, now = Date.now()): Promise<Application> {
    const id = `prg_${randomBytes(9).toString('base64url')}`;
    await this.db.transaction(async (tx) => {
      await tx.query(
        'INSERT INTO programme_applications (id, programme, subject_kind, subject_id, evidence, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)',
        [id, input.programme, input.subject.kind, input.subject.id, JSON.stringify(input.evidence), 'applied', now],
      );
      await this.record(tx, 'programme.applied', `${input.subject.kind}:${input.subject.id}`, { application: id, programme: input.programme, evidenceLinks: input.evidence.links }, now);
      await bumpRevision(tx, PROGRAMMES_TOPIC);
    });
    return (await this.get(id))!;
  }

  async get(id: string): Promise<Application | undefined> {
    const rows = await this.db.query('SELECT * FROM programme_applications WHERE id = $1', [id]);
    return rows[0] ? toApplication(rows[0]) : undefined;
  }

  async list(filter: { status?: ApplicationStatus; programme?: string } = {}): Promise<Application[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.status) where.push(`status = $${params.push(filter.status)}`);
    if (filter.programme) where.push(`programme = $${params.push(filter.programme)}`);
    const rows = await this.db.query(`SELECT * FROM programme_applications${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id`, params);
    return rows.map(toApplication);
  }

  /** grant: from `applied`; reject: from `applied`; revoke: from `granted`. Anything else is a conflict. */
  async decide(id: string, d: { decision: 'grant' | 'reject' | 'revoke'; by: string; reason: string | null; tier?: string | null; expiresAt?: number | null }, now = Date.now()): Promise<Application> {
    const from: ApplicationStatus = d.decision === 'revoke' ? 'granted' : 'applied';
    const to: ApplicationStatus = d.decision === 'grant' ? 'granted' : d.decision === 'reject' ? 'rejected' : 'revoked';
    await this.db.transaction(async (tx) => {
      const rows = await tx.query('SELECT * FROM programme_applications WHERE id = $1', [id]);
      if (!rows[0]) throw new AdminNotFoundError(`no programme application '${id}'`);
      const cur = toApplication(rows[0]);
      if (cur.status !== from) throw new AdminConflictError(`application '${id}' is ${cur.status}; ${d.decision} needs it ${from}`);
      const sets = d.decision === 'grant' ? ', tier = $6, expires_at = $7' : '';
      const params: unknown[] = [to, d.by, now, d.reason, id];
      if (d.decision === 'grant') params.push(d.tier ?? null, d.expiresAt ?? null);
      // The status in the WHERE makes concurrent decisions on one application serialise: only one matches.
      const updated = await tx.query(`UPDATE programme_applications SET status = $1, decided_by = $2, decided_at = $3, updated_at = $3, reason = $4${sets} WHERE id = $5 AND status = '${from}' RETURNING id`, params);
      if (!updated.length) throw new AdminConflictError(`application '${id}' changed concurrently`);
      const details = { application: id, programme: cur.programme, by: d.by, reason: d.reason, ...(d.decision === 'grant' ? { tier: d.tier ?? null, expiresAt: d.expiresAt ?? null } : {}) };
      await this.record(tx, `programme.${to}`, `${cur.subject.kind}:${cur.subject.id}`, details, now);
      await bumpRevision(tx, PROGRAMMES_TOPIC);
    });
    return (await this.get(id))!;
  }

  /**
   * Applies a provider's verification event once: 'duplicate' when its id was seen before (nothing changes). An
   * older event than the one already applied for the account is recorded as seen but does not change the level.
   */
  async applyVerification(ev: { eventId: string; accountId: string; level: KycLevel; time: number }, now = Date.now()): Promise<'applied' | 'duplicate' | 'superseded'> {
    return this.db.transaction(async (tx) => {
      const inserted = await tx.query('INSERT INTO kyc_events (event_id, received_at) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING RETURNING event_id', [ev.eventId, now]);
      if (!inserted.length) return 'duplicate';
      const cur = await tx.query<{ provider_time: unknown }>('SELECT provider_time FROM kyc_verifications WHERE account_id = $1', [ev.accountId]);
      if (cur[0] && Number(cur[0].provider_time) > ev.time) return 'superseded';
      await tx.query(
        'INSERT INTO kyc_verifications (account_id, level, event_id, provider_time, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id) DO UPDATE SET level = excluded.level, event_id = excluded.event_id, provider_time = excluded.provider_time, updated_at = excluded.updated_at',
        [ev.accountId, ev.level, ev.eventId, ev.time, now],
      );
      await this.record(tx, 'kyc.verified', `account:${ev.accountId}`, { event: ev.eventId, level: ev.level }, now, 'kyc-webhook');
      await bumpRevision(tx, PROGRAMMES_TOPIC);
      return 'applied';
    });
  }

  async verification(accountId: string): Promise<{ level: KycLevel; eventId: string; updatedAt: number } | undefined> {
    const rows = await this.db.query('SELECT * FROM kyc_verifications WHERE account_id = $1', [accountId]);
    return rows[0] ? { level: rows[0].level as KycLevel, eventId: String(rows[0].event_id), updatedAt: Number(rows[0].updated_at) } : undefined;
  }

  /** Everything the request-path overlay needs: granted applications (expired ones too; the overlay checks time) and levels. */
  async loadState(): Promise<TrustState> {
    const grants: Grant[] = (await this.db.query("SELECT * FROM programme_applications WHERE status = 'granted'")).map((r) => {
      const a = toApplication(r);
      return { id: a.id, programme: a.programme, subjectKind: a.subject.kind, subjectId: a.subject.id, tier: a.tier, expiresAt: a.expiresAt };
    });
    const kyc = new Map<string, KycLevel>();
    for (const r of await this.db.query('SELECT account_id, level FROM kyc_verifications')) kyc.set(String(r.account_id), r.level as KycLevel);
    return { grants, kyc };
  }
}
