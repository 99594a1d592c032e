/**
 * Two-person control: a change that needs a second operator is stored as a pending request; a different operator
 * approves it (it is then applied, in their name and the requester's) or either rejects it. Self-approval is
 * refused. Kinds: `directive.issue` (the payload is the directive issue body), `directive.amend` (the amendment,
 * with the directive's id under `id`), `directive.lift` ({id, by, why}: lifting a suspension) and `keys.revoke`
 * ({id, reason?}: a key revocation past the operator's allowance).
 * In an emergency (when configured) the requester applies a pending change at once: its status becomes
 * `review-required` until a second operator acknowledges it (`reviewed`).
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../store/db.ts';

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'failed' | 'expired' | 'review-required' | 'reviewed';
export type ApprovalKind = 'directive.issue' | 'directive.amend' | 'directive.lift' | 'keys.revoke';

export interface Approval {
  id: string;
  kind: ApprovalKind;
  payload: Record<string, unknown>;
  status: ApprovalStatus;
  requestedBy: string;
  requestedAt: number;
  expiresAt: number;
  decidedBy: string | null;
  decidedAt: number | null;
  decisionNote: string | null;
  resultId: string | null;
  /** Set when the requester applied the change at once in an emergency. */
  emergencyReason: string | null;
  reviewedBy: string | null;
  reviewedAt: number | null;
  reviewNote: string | null;
}

export class ApprovalError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

function toApproval(r: Record<string, unknown>): Approval {
  const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    id: String(r.id),
    kind: r.kind as Approval['kind'],
    payload: JSON.parse(String(r.payload)) as Record<string, unknown>,
    status: r.status as ApprovalStatus,
    requestedBy: String(r.requested_by),
    requestedAt: Number(r.requested_at),
    expiresAt: Number(r.expires_at),
    decidedBy: (r.decided_by as string | null) ?? null,
    decidedAt: n(r.decided_at),
    decisionNote: (r.decision_note as string | null) ?? null,
    resultId: (r.result_id as string | null) ?? null,
    emergencyReason: (r.emergency_reason as string | null) ?? null,
    reviewedBy: (r.reviewed_by as string | null) ?? null,
    reviewedAt: n(r.reviewed_at),
    reviewNote: (r.review_note as string | null) ?? null,
  };
}

export class ApprovalRepository {
  constructor(
    private readonly db: Db,
    private readonly expireMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async request(kind: ApprovalKind, payload: Record<string, unknown>, by: string): Promise<Approval> {
    const id = `apr-${randomUUID()}`;
    const now = this.now();
    await this.db.query('INSERT INTO approvals (id, kind, payload, status, requested_by, requested_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)', [id, kind, JSON.stringify(payload), 'pending', by, now, now + this.expireMs]);
    return (await this.get(id))!;
  }

  async get(id: string): Promise<Approval | null> {
    await this.expire();
    const rows = await this.db.query<Record<string, unknown>>('SELECT * FROM approvals WHERE id = $1', [id]);
    return rows[0] ? toApproval(rows[0]) : null;
  }

  async list(status?: ApprovalStatus): Promise<Approval[]> {
    await this.expire();
    const rows = status
      ? await this.db.query<Record<string, unknown>>('SELECT * FROM approvals WHERE status = $1 ORDER BY requested_at DESC LIMIT 500', [status])
      : await this.db.query<Record<string, unknown>>('SELECT * FROM approvals ORDER BY requested_at DESC LIMIT 500');
    return rows.map(toApproval);
  }

  /**
   * Claims a pending request for a decision. The conditional UPDATE is the lock: of two operators deciding at
   * once, exactly one claims it (the other is told who did).
   */
  async decide(id: string, by: string, status: 'approved' | 'rejected', note: string | null): Promise<Approval> {
    const current = await this.get(id);
    if (!current) throw new ApprovalError(404, 'not_found', `no approval request '${id}'`);
    if (current.status !== 'pending') throw new ApprovalError(409, 'conflict', `approval request '${id}' is already ${current.status}${current.decidedBy ? ` (by ${current.decidedBy})` : ''}`);
    if (status === 'approved' && current.requestedBy === by) throw new ApprovalError(403, 'self_approval', `'${by}' requested this change and cannot approve it: a second operator must`);
    await this.db.query("UPDATE approvals SET status = $2, decided_by = $3, decided_at = $4, decision_note = $5 WHERE id = $1 AND status = 'pending'", [id, status, by, this.now(), note]);
    const after = (await this.get(id))!;
    if (after.decidedBy !== by || after.status !== status) throw new ApprovalError(409, 'conflict', `approval request '${id}' was decided by ${after.decidedBy ?? 'someone else'} first`);
    return after;
  }

  /**
   * The requester applies their own pending change at once, declaring an emergency: the request moves to
   * `review-required` (a second operator must acknowledge it afterwards). Only the requester may.
   */
  async emergency(id: string, by: string, reason: string): Promise<Approval> {
    const current = await this.get(id);
    if (!current) throw new ApprovalError(404, 'not_found', `no approval request '${id}'`);
    if (current.requestedBy !== by) throw new ApprovalError(403, 'not_requester', `only the requester ('${current.requestedBy}') may apply this change in an emergency; a second operator approves it instead`);
    if (current.status !== 'pending') throw new ApprovalError(409, 'conflict', `approval request '${id}' is already ${current.status}${current.decidedBy ? ` (by ${current.decidedBy})` : ''}`);
    await this.db.query("UPDATE approvals SET status = 'review-required', decided_by = $2, decided_at = $3, emergency_reason = $4 WHERE id = $1 AND status = 'pending'", [id, by, this.now(), reason]);
    const after = (await this.get(id))!;
    if (after.status !== 'review-required' || after.decidedBy !== by) throw new ApprovalError(409, 'conflict', `approval request '${id}' was decided by ${after.decidedBy ?? 'someone else'} first`);
    return after;
  }

  /** A second operator acknowledges a change applied in an emergency (after-the-fact review). */
  async review(id: string, by: string, note: string | null): Promise<Approval> {
    const current = await this.get(id);
    if (!current) throw new ApprovalError(404, 'not_found', `no approval request '${id}'`);
    if (current.status !== 'review-required') throw new ApprovalError(409, 'conflict', `approval request '${id}' is ${current.status}${current.reviewedBy ? ` (reviewed by ${current.reviewedBy})` : ''}: only a change applied in an emergency awaits review`);
    if (current.requestedBy === by) throw new ApprovalError(403, 'self_review', `'${by}' applied this change and cannot review it: a second operator must`);
    await this.db.query("UPDATE approvals SET status = 'reviewed', reviewed_by = $2, reviewed_at = $3, review_note = $4 WHERE id = $1 AND status = 'review-required'", [id, by, this.now(), note]);
    const after = (await this.get(id))!;
    if (after.reviewedBy !== by) throw new ApprovalError(409, 'conflict', `approval request '${id}' was reviewed by ${after.reviewedBy ?? 'someone else'} first`);
    return after;
  }

  /**
   * Reserves one key revocation for `operator` and says how many others they made (or reserved) within the window.
   * The reservation is written before counting, so of two concurrent revocations each sees the other: a race holds
   * both rather than letting both through.
   */
  async reserveRevocation(operator: string, keyId: string, windowMs: number): Promise<{ id: string; before: number }> {
    const now = this.now();
    const id = `rev-${randomUUID()}`;
    await this.db.query('INSERT INTO key_revocations (id, operator, key_id, at) VALUES ($1, $2, $3, $4)', [id, operator, keyId, now]);
    const rows = await this.db.query<{ n: number | string }>('SELECT COUNT(*) AS n FROM key_revocations WHERE operator = $1 AND at > $2 AND id <> $3', [operator, now - windowMs, id]);
    return { id, before: Number(rows[0]?.n ?? 0) };
  }

  /** Takes back a reservation whose revocation did not happen (held, unknown key, already revoked). */
  async releaseRevocation(id: string): Promise<void> {
    await this.db.query('DELETE FROM key_revocations WHERE id = $1', [id]);
  }

  async settle(id: string, result: { resultId: string } | { failed: string }): Promise<Approval> {
    if ('resultId' in result) await this.db.query('UPDATE approvals SET result_id = $2 WHERE id = $1', [id, result.resultId]);
    else await this.db.query("UPDATE approvals SET status = 'failed', decision_note = $2 WHERE id = $1", [id, result.failed.slice(0, 2000)]);
    return (await this.get(id))!;
  }

  private async expire(): Promise<void> {
    await this.db.query("UPDATE approvals SET status = 'expired' WHERE status = 'pending' AND expires_at <= $1", [this.now()]);
  }
}
