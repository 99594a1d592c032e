/**
 * ScreeningRepository: the only code that reads or writes the screening tables. Recording matches, reviewing them
 * (compare-and-set on `version`, audited through the audit inbox and attributed) and the set of blocked subjects
 * the gateway gate enforces. Every change bumps the `screening` revision so every replica's gate reloads.
 */
import { randomBytes } from 'node:crypto';
import { recordAdminAction } from '../core/admin-actions.ts';
import { bumpRevision } from '../store/changes.ts';
import type { Db } from '../store/db.ts';
import type { Match, Subject } from './matcher.ts';

export const SCREENING_TOPIC = 'screening';

export type ReviewStatus = 'pending' | 'confirmed' | 'cleared';

export interface ScreeningResult {
  id: string;
  subjectKind: 'account' | 'org';
  subjectId: string;
  subjectName: string;
  list: string;
  entryId: string;
  entryName: string;
  matchedName: string;
  score: number;
  decision: 'hit' | 'review';
  status: ReviewStatus;
  explanation: Match['explanation'] & { entry: Match['entry'] };
  listVersion: string;
  screenedAt: number;
  reviewedAt: number | null;
  reviewedBy: string | null;
  reviewNote: string | null;
  incidentId: string | null;
  version: number;
}

export class ScreeningConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScreeningConflictError';
  }
}

interface Row {
  id: string;
  subject_kind: string;
  subject_id: string;
  subject_name: string;
  list: string;
  entry_id: string;
  entry_name: string;
  matched_name: string;
  score: number;
  decision: string;
  status: string;
  explanation: string;
  list_version: string;
  screened_at: number;
  reviewed_at: number | null;
  reviewed_by: string | null;
  review_note: string | null;
  incident_id: string | null;
  version: number;
}
const COLUMNS = 'id, subject_kind, subject_id, subject_name, list, entry_id, entry_name, matched_name, score, decision, status, explanation, list_version, screened_at, reviewed_at, reviewed_by, review_note, incident_id, version';

function toResult(r: Row): ScreeningResult {
  return {
    id: r.id,
    subjectKind: r.subject_kind as 'account' | 'org',
    subjectId: r.subject_id,
    subjectName: r.subject_name,
    list: r.list,
    entryId: r.entry_id,
    entryName: r.entry_name,
    matchedName: r.matched_name,
    score: Number(r.score),
    decision: r.decision as 'hit' | 'review',
    status: r.status as ReviewStatus,
    explanation: JSON.parse(r.explanation) as ScreeningResult['explanation'],
    listVersion: r.list_version,
    screenedAt: Number(r.screened_at),
    reviewedAt: r.reviewed_at === null ? null : Number(r.reviewed_at),
    reviewedBy: r.reviewed_by,
    reviewNote: r.review_note,
    incidentId: r.incident_id,
    version: Number(r.version),
  };
}

export class ScreeningRepository {
  private readonly now: () => number;
  constructor(
    private readonly db: Db,
    private readonly opts: { now?: () => number; auditActor?: string } = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** The list versions last screened against. */
  async listVersions(): Promise<Map<string, string>> {
    const rows = await this.db.query<{ list: string; version: string }>('SELECT list, version FROM screening_lists');
    return new Map(rows.map((r) => [r.list, r.version]));
  }

  /**
   * Records one run: each match is inserted (`pending`) or, when the same subject already matched the same entry,
   * updated (score, explanation, list version) keeping its review status — a cleared false positive stays cleared.
   * Returns the results that are new hits (to open incidents for).
   */
  async record(subjects: ReadonlyMap<string, Subject>, matches: readonly Match[], lists: ReadonlyMap<string, { version: string; entries: number }>): Promise<ScreeningResult[]> {
    const now = this.now();
    const fresh: ScreeningResult[] = [];
    await this.db.transaction(async (tx) => {
      for (const m of matches) {
        const subject = subjects.get(m.subjectId)!;
        const listVersion = lists.get(m.entry.list)?.version ?? 'unknown';
        const explanation = JSON.stringify({ ...m.explanation, entry: m.entry });
        const existing = await tx.query<Row>(`SELECT ${COLUMNS} FROM screening_results WHERE subject_kind = $1 AND subject_id = $2 AND list = $3 AND entry_id = $4`, [subject.kind, subject.id, m.entry.list, m.entry.id]);
        if (existing[0]) {
          await tx.query('UPDATE screening_results SET score = $2, decision = $3, explanation = $4, list_version = $5, screened_at = $6, subject_name = $7, matched_name = $8, version = version + 1 WHERE id = $1', [existing[0].id, m.score, m.decision, explanation, listVersion, now, subject.name, m.matchedName]);
          const wasHit = existing[0].decision === 'hit';
          if (!wasHit && m.decision === 'hit' && existing[0].status === 'pending') fresh.push(toResult({ ...existing[0], decision: 'hit', score: m.score, explanation, version: existing[0].version + 1 }));
          continue;
        }
        const row: Row = {
          id: `scr_${now.toString(36)}${randomBytes(4).toString('hex')}`,
          subject_kind: subject.kind,
          subject_id: subject.id,
          subject_name: subject.name,
          list: m.entry.list,
          entry_id: m.entry.id,
          entry_name: m.entry.name,
          matched_name: m.matchedName,
          score: m.score,
          decision: m.decision,
          status: 'pending',
          explanation,
          list_version: listVersion,
          screened_at: now,
          reviewed_at: null,
          reviewed_by: null,
          review_note: null,
          incident_id: null,
          version: 1,
        };
        await tx.query(`INSERT INTO screening_results (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`, Object.values(row));
        if (m.decision === 'hit') {
          fresh.push(toResult(row));
          if (this.opts.auditActor) await recordAdminAction(tx, { action: 'screening.hit', actor: this.opts.auditActor, target: `${subject.kind}:${subject.id}`, details: { list: m.entry.list, entryId: m.entry.id, entryName: m.entry.name, score: m.score } }, now);
        }
      }
      for (const [list, v] of lists) {
        const up = await tx.query('UPDATE screening_lists SET version = $2, entries = $3, screened_at = $4 WHERE list = $1 RETURNING list', [list, v.version, v.entries, now]);
        if (up.length === 0) await tx.query('INSERT INTO screening_lists (list, version, entries, screened_at) VALUES ($1, $2, $3, $4)', [list, v.version, v.entries, now]);
      }
      await bumpRevision(tx, SCREENING_TOPIC);
    });
    return fresh;
  }

  async linkIncident(resultId: string, incidentId: string): Promise<void> {
    await this.db.query('UPDATE screening_results SET incident_id = $2 WHERE id = $1', [resultId, incidentId]);
  }

  /** Confirms (the subject is the listed party: stays blocked) or clears (a false positive: unblocked) a match. */
  async review(id: string, input: { decision: 'confirm' | 'clear'; by: string; why: string; version?: number }): Promise<ScreeningResult> {
    if (input.decision !== 'confirm' && input.decision !== 'clear') throw new ScreeningConflictError(`decision must be confirm or clear, got '${String(input.decision)}'`);
    if (!input.by?.trim() || !input.why?.trim()) throw new ScreeningConflictError('a review needs by and why');
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<Row>(`SELECT ${COLUMNS} FROM screening_results WHERE id = $1`, [id]);
      if (!rows[0]) throw new ScreeningConflictError(`no screening result '${id}'`);
      const cur = rows[0];
      if (input.version !== undefined && input.version !== Number(cur.version)) throw new ScreeningConflictError(`screening result '${id}' is at version ${cur.version}, not ${input.version}: it was changed since`);
      const status: ReviewStatus = input.decision === 'confirm' ? 'confirmed' : 'cleared';
      const now = this.now();
      const up = await tx.query(`UPDATE screening_results SET status = $2, reviewed_at = $3, reviewed_by = $4, review_note = $5, version = version + 1 WHERE id = $1 AND version = $6 RETURNING id`, [id, status, now, input.by, input.why, cur.version]);
      if (up.length === 0) throw new ScreeningConflictError(`screening result '${id}' was reviewed concurrently; re-read it`);
      if (this.opts.auditActor) await recordAdminAction(tx, { action: 'screening.reviewed', actor: this.opts.auditActor, target: `${cur.subject_kind}:${cur.subject_id}`, details: { result: id, by: input.by, why: input.why, status, list: cur.list, entryId: cur.entry_id, score: Number(cur.score) } }, now);
      await bumpRevision(tx, SCREENING_TOPIC);
      return toResult({ ...cur, status, reviewed_at: now, reviewed_by: input.by, review_note: input.why, version: Number(cur.version) + 1 });
    });
  }

  async list(filter: { status?: ReviewStatus; decision?: 'hit' | 'review' } = {}): Promise<ScreeningResult[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.status) params.push(filter.status), where.push(`status = $${params.length}`);
    if (filter.decision) params.push(filter.decision), where.push(`decision = $${params.length}`);
    const rows = await this.db.query<Row>(`SELECT ${COLUMNS} FROM screening_results${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY screened_at DESC, id LIMIT 10000`, params);
    return rows.map(toResult);
  }

  /** Subjects blocked for governed models: a hit not cleared. Keys `account:ID` and `org:ID`, with the result behind each. */
  async blocked(): Promise<Map<string, { resultId: string; list: string; entryId: string; score: number }>> {
    const rows = await this.db.query<{ id: string; subject_kind: string; subject_id: string; list: string; entry_id: string; score: number }>(
      "SELECT id, subject_kind, subject_id, list, entry_id, score FROM screening_results WHERE decision = 'hit' AND status IN ('pending', 'confirmed')",
    );
    const out = new Map<string, { resultId: string; list: string; entryId: string; score: number }>();
    for (const r of rows) out.set(`${r.subject_kind}:${r.subject_id}`, { resultId: r.id, list: r.list, entryId: r.entry_id, score: Number(r.score) });
    return out;
  }
}
