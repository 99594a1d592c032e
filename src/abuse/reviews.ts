/**
 * Human review of suspected rings. An analyst (or above) approves a ring (its members get the ring's action,
 * caps lifted), downgrades it (one step below the ring's action, or a lower action named) or dismisses it (its
 * members are served normally). Each decision is one row of `abuse_ring_reviews`, written once per ring (a second
 * decision is refused), with the audit record in the same transaction; the rows are the labels the detector's
 * evaluation reads (`approve`/`downgrade` → `ring`, `dismiss` → `not-ring`).
 */
import { recordAdminAction } from '../core/admin-actions.ts';
import { bumpRevision } from '../store/changes.ts';
import type { Db } from '../store/db.ts';
import { ACTION_ORDER, type AbuseActionKind, type Ring } from './types.ts';

export const REVIEW_TOPIC = 'abuse_reviews';
export const DECISIONS = ['approve', 'downgrade', 'dismiss'] as const;
export type ReviewDecision = (typeof DECISIONS)[number];

export interface RingReview {
  ringId: string;
  decision: ReviewDecision;
  /** For evaluation: `ring` (a true ring) or `not-ring` (a false positive). */
  label: 'ring' | 'not-ring';
  /** The ring's action by its score when decided. */
  level: AbuseActionKind;
  /** The action the members get from now on. */
  action: AbuseActionKind;
  score: number;
  members: string[];
  signals: string[];
  note: string | null;
  decidedBy: string;
  decidedAt: number;
}

export class ReviewError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const rank = (a: AbuseActionKind) => ACTION_ORDER.indexOf(a);

/** Pure: the action a decision gives a ring's members, or the reason it is refused. */
export function reviewAction(level: AbuseActionKind, decision: ReviewDecision, to?: AbuseActionKind): AbuseActionKind | string {
  if (decision === 'dismiss') return to === undefined ? 'none' : '$.action: only a downgrade names an action';
  if (decision === 'approve') return to === undefined ? level : '$.action: only a downgrade names an action';
  if (to === undefined) return rank(level) <= rank('flag') ? '$.decision: the ring is at flag (or below): nothing to downgrade to but a dismissal' : ACTION_ORDER[rank(level) - 1]!;
  if (to === 'none') return "$.action: a downgrade keeps an action; use 'dismiss' to clear the ring";
  if (rank(to) >= rank(level)) return `$.action: '${to}' is not below the ring's action '${level}'`;
  return to;
}

function toReview(r: Record<string, unknown>): RingReview {
  return {
    ringId: String(r.ring_id),
    decision: r.decision as ReviewDecision,
    label: r.label as RingReview['label'],
    level: r.level as AbuseActionKind,
    action: r.action as AbuseActionKind,
    score: Number(r.score),
    members: JSON.parse(String(r.members)) as string[],
    signals: JSON.parse(String(r.signals)) as string[],
    note: (r.note as string | null) ?? null,
    decidedBy: String(r.decided_by),
    decidedAt: Number(r.decided_at),
  };
}

export class RingReviewRepository {
  constructor(
    private readonly db: Db,
    /** `auditActor` set: each decision is also an `abuse.ring_reviewed` audit record, its actor the deciding operator. */
    private readonly opts: { auditActor?: string; now?: () => number } = {},
  ) {}

  async get(ringId: string): Promise<RingReview | null> {
    const rows = await this.db.query<Record<string, unknown>>('SELECT * FROM abuse_ring_reviews WHERE ring_id = $1', [ringId]);
    return rows[0] ? toReview(rows[0]) : null;
  }

  async list(limit = 1000): Promise<RingReview[]> {
    const rows = await this.db.query<Record<string, unknown>>('SELECT * FROM abuse_ring_reviews ORDER BY decided_at DESC, ring_id LIMIT $1', [limit]);
    return rows.map(toReview);
  }

  /** Records a decision on `ring` once; a second decision on the same ring id is a 409 naming the first. */
  async decide(ring: Ring, level: AbuseActionKind, input: { decision: ReviewDecision; action?: AbuseActionKind; note?: string | null; by: string }): Promise<RingReview> {
    const action = reviewAction(level, input.decision, input.action);
    if (!ACTION_ORDER.includes(action as AbuseActionKind)) throw new ReviewError(400, 'invalid_request', action);
    const now = (this.opts.now ?? Date.now)();
    const review: RingReview = {
      ringId: ring.id, decision: input.decision, label: input.decision === 'dismiss' ? 'not-ring' : 'ring', level, action: action as AbuseActionKind,
      score: ring.score, members: [...ring.members], signals: ring.evidence.map((e) => e.signal), note: input.note ?? null, decidedBy: input.by, decidedAt: now,
    };
    const inserted = await this.db.transaction(async (tx) => {
      const rows = await tx.query(
        'INSERT INTO abuse_ring_reviews (ring_id, decision, label, level, action, score, members, signals, note, decided_by, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (ring_id) DO NOTHING RETURNING ring_id',
        [review.ringId, review.decision, review.label, review.level, review.action, review.score, JSON.stringify(review.members), JSON.stringify(review.signals), review.note, review.decidedBy, now],
      );
      if (rows.length === 0) return false;
      if (this.opts.auditActor) {
        await recordAdminAction(tx, {
          action: 'abuse.ring_reviewed', actor: review.decidedBy, target: review.ringId,
          details: { decision: review.decision, label: review.label, level, action: review.action, score: review.score, members: review.members, by: review.decidedBy, note: review.note },
        }, now);
      }
      await bumpRevision(tx, REVIEW_TOPIC);
      return true;
    });
    if (!inserted) {
      const first = await this.get(ring.id);
      throw new ReviewError(409, 'already_reviewed', `ring '${ring.id}' was already reviewed: ${first?.decision ?? 'decided'} by ${first?.decidedBy ?? 'another operator'}`);
    }
    return review;
  }
}
