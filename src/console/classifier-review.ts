/**
 * Classifier review: the classifier's recent refusals, read from the audit log (label, scores, code, model, request
 * id — never prompt text, which the log does not hold), and an operator's mark on each (`right` or `wrong`), kept in
 * `classifier_marks` (one per request id; marking again replaces it) and exported as JSONL for measuring the
 * classifier.
 *   GET  /console/classifier-refusals?hours=&limit=   newest first, each with its mark (or null)
 *   POST /console/classifier-marks {requestId, mark, note?}
 *   GET  /console/classifier-marks                    JSONL, one mark a line, newest first
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { auditRecords } from '../audit/query.ts';
import type { Db } from '../store/db.ts';
import type { RecordAdmin } from './auth.ts';

export const MARKS = ['right', 'wrong'] as const;
export type Mark = (typeof MARKS)[number];

export interface ClassifierRefusal {
  requestId: string;
  time: number;
  model: string | null;
  label: string;
  code: string | null;
  scores: Record<string, number>;
}

export interface ClassifierMark extends ClassifierRefusal {
  mark: Mark;
  note: string | null;
  markedBy: string;
  markedAt: number;
}

/** Pure: whether an audit record is a classifier refusal (a judgement: the classifier being unavailable is not one). */
export function asClassifierRefusal(rec: Record<string, unknown>): ClassifierRefusal | null {
  const ref = rec.ref as { classifier?: unknown } | undefined;
  if (rec.kind !== 'request' || rec.action !== 'refuse' || typeof ref?.classifier !== 'string' || rec.code === 'classifier_unavailable') return null;
  if (typeof rec.requestId !== 'string') return null;
  return {
    requestId: rec.requestId,
    time: Number(rec.requestTime ?? rec.time),
    model: typeof rec.modelRequested === 'string' ? rec.modelRequested : null,
    label: ref.classifier,
    code: typeof rec.code === 'string' ? rec.code : null,
    scores: (rec.labels as Record<string, number> | undefined) ?? {},
  };
}

/** The classifier refusals appended since `from`, newest first, at most `limit`. */
export async function classifierRefusals(auditPath: string, from: number, limit: number): Promise<ClassifierRefusal[]> {
  const out: ClassifierRefusal[] = [];
  for await (const rec of auditRecords(auditPath)) {
    if (rec.time < from) continue;
    const r = asClassifierRefusal(rec as unknown as Record<string, unknown>);
    if (r) out.push(r);
    if (out.length > limit) out.shift();
  }
  return out.reverse();
}

function toMark(r: Record<string, unknown>): ClassifierMark {
  return {
    requestId: String(r.request_id), mark: r.mark as Mark, label: String(r.label), code: (r.code as string | null) ?? null,
    scores: JSON.parse(String(r.scores)) as Record<string, number>, model: (r.model as string | null) ?? null,
    time: Number(r.request_time), note: (r.note as string | null) ?? null, markedBy: String(r.marked_by), markedAt: Number(r.marked_at),
  };
}

export class ClassifierMarkRepository {
  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  async list(limit = 10000): Promise<ClassifierMark[]> {
    const rows = await this.db.query<Record<string, unknown>>('SELECT * FROM classifier_marks ORDER BY marked_at DESC, request_id LIMIT $1', [limit]);
    return rows.map(toMark);
  }

  async set(refusal: ClassifierRefusal, mark: Mark, note: string | null, by: string): Promise<ClassifierMark> {
    const at = this.now();
    await this.db.query(
      `INSERT INTO classifier_marks (request_id, mark, label, code, scores, model, request_time, note, marked_by, marked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (request_id) DO UPDATE SET mark = excluded.mark, note = excluded.note, marked_by = excluded.marked_by, marked_at = excluded.marked_at`,
      [refusal.requestId, mark, refusal.label, refusal.code, JSON.stringify(refusal.scores), refusal.model, refusal.time, note, by, at],
    );
    return { ...refusal, mark, note, markedBy: by, markedAt: at };
  }
}

function fail(reply: FastifyReply, status: number, type: string, message: string) {
  return reply.code(status).send({ error: { type, message } });
}

export interface ClassifierReviewDeps {
  auditPath: string | null;
  marks: ClassifierMarkRepository;
  recordAdmin: RecordAdmin;
  actorOf(request: FastifyRequest): string;
  now?: () => number;
}

export function registerClassifierReviewRoutes(app: FastifyInstance, deps: ClassifierReviewDeps): void {
  const now = deps.now ?? Date.now;
  app.get('/console/classifier-refusals', async (req, reply) => {
    if (!deps.auditPath) return fail(reply, 503, 'unavailable', 'the audit log is off on this gateway');
    const q = (req.query ?? {}) as Record<string, unknown>;
    const hours = q.hours === undefined ? 24 : Number(q.hours);
    if ((q.hours !== undefined && (typeof q.hours !== 'string' || !/^\d+$/.test(q.hours))) || hours < 1 || hours > 720) return fail(reply, 400, 'invalid_request', '$.query.hours: expected an integer from 1 to 720');
    const limit = q.limit === undefined ? 200 : Number(q.limit);
    if ((q.limit !== undefined && (typeof q.limit !== 'string' || !/^\d+$/.test(q.limit))) || limit < 1 || limit > 1000) return fail(reply, 400, 'invalid_request', '$.query.limit: expected an integer from 1 to 1000');
    const refusals = await classifierRefusals(deps.auditPath, now() - hours * 3_600_000, limit);
    const marks = new Map((await deps.marks.list()).map((m) => [m.requestId, m]));
    return { refusals: refusals.map((r) => ({ ...r, mark: marks.get(r.requestId)?.mark ?? null, markedBy: marks.get(r.requestId)?.markedBy ?? null })), count: refusals.length };
  });
  app.post('/console/classifier-marks', async (req, reply) => {
    if (!deps.auditPath) return fail(reply, 503, 'unavailable', 'the audit log is off on this gateway');
    const body = req.body as Record<string, unknown> | null | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body)) return fail(reply, 400, 'invalid_request', '$: expected a JSON object {requestId, mark, note?}');
    for (const k of Object.keys(body)) if (!['requestId', 'mark', 'note'].includes(k)) return fail(reply, 400, 'invalid_request', `$.${k}: unknown field (expected requestId, mark, note)`);
    if (typeof body.requestId !== 'string' || body.requestId === '' || body.requestId.length > 200) return fail(reply, 400, 'invalid_request', '$.requestId: expected a request id');
    if (typeof body.mark !== 'string' || !(MARKS as readonly string[]).includes(body.mark)) return fail(reply, 400, 'invalid_request', `$.mark: expected one of ${MARKS.join(', ')}`);
    if (body.note !== undefined && body.note !== null && (typeof body.note !== 'string' || body.note.length > 2000)) return fail(reply, 400, 'invalid_request', '$.note: expected a string of at most 2000 characters');
    let refusal: ClassifierRefusal | null = null;
    for await (const rec of auditRecords(deps.auditPath)) {
      if (rec.requestId !== body.requestId) continue;
      refusal = asClassifierRefusal(rec as unknown as Record<string, unknown>) ?? refusal;
    }
    if (!refusal) return fail(reply, 404, 'not_found', `$.requestId: no classifier refusal '${body.requestId}' in the audit log`);
    const by = deps.actorOf(req);
    const saved = await deps.marks.set(refusal, body.mark as Mark, (body.note as string | null | undefined) ?? null, by);
    deps.recordAdmin('console.classifier_marked', by, refusal.requestId, { mark: saved.mark, label: saved.label, code: saved.code, note: saved.note });
    return reply.code(201).send({ mark: saved });
  });
  app.get('/console/classifier-marks', async (_req, reply) => {
    const marks = await deps.marks.list();
    return reply.type('application/x-ndjson; charset=utf-8').header('content-disposition', 'attachment; filename="classifier-marks.jsonl"').send(marks.map((m) => JSON.stringify(m)).join('\n') + (marks.length ? '\n' : ''));
  });
}
