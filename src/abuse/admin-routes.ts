/**
 * Admin API for abuse rings, mounted by the lead behind admin-token auth:
 *   GET /admin/v1/abuse/rings?limit=&minScore=&members=   rings, best first (members omitted with members=false)
 *   GET /admin/v1/abuse/rings/:id                         one ring with members, evidence, linking signals, timeline
 *   GET /admin/v1/abuse/rings/:id/explain                 the same as text lines a reviewer reads
 *   GET /admin/v1/abuse/accounts/:accountId               the action in force for an account
 *   GET /admin/v1/abuse/stats                             detector counters (accepted, skipped by reason, memory bound)
 *   POST /admin/v1/abuse/rings/:id/review                 a reviewer's decision {decision: approve|downgrade|dismiss, action?, note?}
 *   GET /admin/v1/abuse/reviews                           every decision: the labels for the detector's evaluation
 * Rings listed and shown carry `level` (the ring's action by its score) and `decision` (the review, or null).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DetectorStats } from './detector.ts';
import { explainRing } from './explain.ts';
import type { AccountAction } from './gate.ts';
import { DECISIONS, ReviewError, type RingReview, type RingReviewRepository } from './reviews.ts';
import { ACTION_ORDER, type AbuseActionKind, type Ring } from './types.ts';

export interface AbuseAdminDeps {
  rings(): Ring[];
  actionOf(accountId: string): AccountAction | undefined;
  stats(): DetectorStats;
  /** The ring's action by its score alone (thresholds). */
  levelOf?(score: number): AbuseActionKind;
  /** Review decisions (absent: no review routes). */
  reviews?: {
    repo: RingReviewRepository;
    /** Who is deciding: the signed-in operator, the token's owner, or the shared token's identity. */
    actorOf(request: FastifyRequest): string;
    /** Installs the decisions in the gate after one is made. */
    reviewed(): Promise<void>;
  };
}

function fail(reply: FastifyReply, status: number, type: string, message: string) {
  return reply.code(status).send({ error: { type, message } });
}

function intParam(v: unknown, name: string, min: number, max: number, dflt: number): number | string {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d+$/.test(v) || n < min || n > max) return `$.query.${name}: expected an integer from ${min} to ${max}`;
  return n;
}

export function registerAbuseAdminRoutes(app: FastifyInstance, deps: AbuseAdminDeps): void {
  const level = (r: Ring): AbuseActionKind | undefined => deps.levelOf?.(r.score);
  const reviewsOf = async (): Promise<Map<string, RingReview>> => new Map((await deps.reviews?.repo.list())?.map((v) => [v.ringId, v]) ?? []);
  app.get('/admin/v1/abuse/rings', async (req, reply) => {
    const q = (req.query ?? {}) as Record<string, unknown>;
    const limit = intParam(q.limit, 'limit', 1, 1000, 100);
    if (typeof limit === 'string') return fail(reply, 400, 'invalid_request', limit);
    let minScore = 0;
    if (q.minScore !== undefined) {
      minScore = Number(q.minScore);
      if (typeof q.minScore !== 'string' || q.minScore.trim() === '' || !Number.isFinite(minScore) || minScore < 0 || minScore > 1) return fail(reply, 400, 'invalid_request', '$.query.minScore: expected a number from 0 to 1');
    }
    if (q.members !== undefined && q.members !== 'true' && q.members !== 'false') return fail(reply, 400, 'invalid_request', '$.query.members: expected true or false');
    const withMembers = q.members !== 'false';
    const reviews = await reviewsOf();
    const rings = deps
      .rings()
      .filter((r) => r.score >= minScore)
      .slice(0, limit)
      .map((r) => ({ ...r, ...(withMembers ? {} : { members: undefined }), size: r.members.length, level: level(r), decision: reviews.get(r.id) ?? null }));
    return { rings, count: rings.length };
  });
  app.get('/admin/v1/abuse/rings/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    const ring = deps.rings().find((r) => r.id === id);
    if (!ring) return fail(reply, 404, 'not_found', `$.params.id: no ring '${id}' in the latest analysis`);
    return { ring: { ...ring, size: ring.members.length, level: level(ring), decision: (await deps.reviews?.repo.get(id)) ?? null } };
  });
  app.post('/admin/v1/abuse/rings/:id/review', async (req, reply) => {
    const rv = deps.reviews;
    if (!rv) return fail(reply, 404, 'not_found', 'ring reviews need the store');
    const { id } = req.params as { id: string };
    const body = req.body as Record<string, unknown> | null | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body)) return fail(reply, 400, 'invalid_request', '$: expected a JSON object {decision, action?, note?}');
    for (const k of Object.keys(body)) if (!['decision', 'action', 'note'].includes(k)) return fail(reply, 400, 'invalid_request', `$.${k}: unknown field (expected decision, action, note)`);
    if (typeof body.decision !== 'string' || !(DECISIONS as readonly string[]).includes(body.decision)) return fail(reply, 400, 'invalid_request', `$.decision: expected one of ${DECISIONS.join(', ')}`);
    if (body.action !== undefined && (typeof body.action !== 'string' || !(ACTION_ORDER as readonly string[]).includes(body.action))) return fail(reply, 400, 'invalid_request', `$.action: expected one of ${ACTION_ORDER.join(', ')}`);
    if (body.note !== undefined && body.note !== null && (typeof body.note !== 'string' || body.note.length > 2000)) return fail(reply, 400, 'invalid_request', '$.note: expected a string of at most 2000 characters');
    const ring = deps.rings().find((r) => r.id === id);
    if (!ring) return fail(reply, 404, 'not_found', `$.params.id: no ring '${id}' in the latest analysis`);
    try {
      const review = await rv.repo.decide(ring, level(ring) ?? 'flag', {
        decision: body.decision as RingReview['decision'],
        ...(body.action !== undefined ? { action: body.action as AbuseActionKind } : {}),
        note: (body.note as string | null | undefined) ?? null,
        by: rv.actorOf(req),
      });
      await rv.reviewed();
      return reply.code(201).send({ review });
    } catch (e) {
      if (e instanceof ReviewError) return fail(reply, e.status, e.type, e.message);
      throw e;
    }
  });
  app.get('/admin/v1/abuse/reviews', async (req, reply) => {
    if (!deps.reviews) return { reviews: [], count: 0 };
    const q = (req.query ?? {}) as Record<string, unknown>;
    const limit = intParam(q.limit, 'limit', 1, 10000, 1000);
    if (typeof limit === 'string') return fail(reply, 400, 'invalid_request', limit);
    const reviews = await deps.reviews.repo.list(limit);
    return { reviews, count: reviews.length };
  });
  app.get('/admin/v1/abuse/rings/:id/explain', async (req, reply) => {
    const { id } = req.params as { id: string };
    const ring = deps.rings().find((r) => r.id === id);
    if (!ring) return fail(reply, 404, 'not_found', `$.params.id: no ring '${id}' in the latest analysis`);
    return { ring: { ...ring, size: ring.members.length }, explanation: explainRing(ring, deps.actionOf) };
  });
  app.get('/admin/v1/abuse/accounts/:accountId', async (req) => {
    const { accountId } = req.params as { accountId: string };
    const a = deps.actionOf(accountId);
    return { accountId, action: a?.action ?? 'none', ringId: a?.ringId ?? null, score: a?.score ?? 0, reasons: a?.reasons ?? [] };
  });
  app.get('/admin/v1/abuse/stats', async () => deps.stats());
}
