/**
 * Admin API for abuse rings, mounted by the lead behind admin-token auth:
 *   GET /admin/v1/abuse/rings?limit=&minScore=&members=   rings, best first (members omitted with members=false)
 *   GET /admin/v1/abuse/rings/:id                         one ring with members, evidence, linking signals, timeline
 *   GET /admin/v1/abuse/rings/:id/explain                 the same as text lines a reviewer reads
 *   GET /admin/v1/abuse/accounts/:accountId               the action in force for an account
 *   GET /admin/v1/abuse/stats                             detector counters (accepted, skipped by reason, memory bound)
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { DetectorStats } from './detector.ts';
import { explainRing } from './explain.ts';
import type { AccountAction } from './gate.ts';
import type { Ring } from './types.ts';

export interface AbuseAdminDeps {
  rings(): Ring[];
  actionOf(accountId: string): AccountAction | undefined;
  stats(): DetectorStats;
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
    const rings = deps
      .rings()
      .filter((r) => r.score >= minScore)
      .slice(0, limit)
      .map((r) => (withMembers ? { ...r, size: r.members.length } : { ...r, members: undefined, size: r.members.length }));
    return { rings, count: rings.length };
  });
  app.get('/admin/v1/abuse/rings/:id', async (req, reply) => {
    const { id } = req.params as { id: string };
    const ring = deps.rings().find((r) => r.id === id);
    if (!ring) return fail(reply, 404, 'not_found', `$.params.id: no ring '${id}' in the latest analysis`);
    return { ring: { ...ring, size: ring.members.length } };
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
