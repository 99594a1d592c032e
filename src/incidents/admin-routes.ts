/**
 * Admin HTTP API for incidents (mounted behind admin-token auth):
 *   GET  /admin/v1/incidents                      ?state=&limit= → {incidents: [... with deadlines]}
 *   POST /admin/v1/incidents                      open by hand → 201 {incident}
 *   GET  /admin/v1/incidents/:id                  → {incident (with deadlines and time left), timeline}
 *   POST /admin/v1/incidents/:id/transition       {to, by, why, version?, regimes?, facts?, reportRef?} → {incident}
 *   GET  /admin/v1/incidents/:id/report/:regime   the regime's report template filled in (text/plain)
 * Errors: 400 `invalid_request` with `issues`; 404 unknown id; 409 `conflict` — a stale version (another change won)
 * or a transition the workflow does not allow.
 */
import type { FastifyInstance } from 'fastify';
import { HttpError, installErrorHandler, prefixFor, requireBody } from '../admin/http.ts';
import { PolicyValidationError } from '../core/validation.ts';
import { STATES, type IncidentState } from './model.ts';
import { deadlinesFor, renderReport, type RegimeSet } from './regimes.ts';
import { IncidentNotFoundError, type IncidentRepository } from './repository.ts';

export interface IncidentAdminDeps {
  repo: IncidentRepository;
  regimes: RegimeSet;
  now?: () => number;
  prefix?: string;
}

export function registerIncidentAdminRoutes(app: FastifyInstance, deps: IncidentAdminDeps): FastifyInstance {
  const prefix = prefixFor(app, deps.prefix);
  const now = deps.now ?? Date.now;
  return app.register(
    async (scope) => {
      installErrorHandler(scope, 'incident');

      scope.get<{ Querystring: Record<string, string | undefined> }>('/incidents', async (request) => {
        const { state, limit, ...unknown } = request.query;
        const extra = Object.keys(unknown);
        if (extra.length) throw new PolicyValidationError(extra.map((k) => ({ path: `query.${k}`, message: 'unknown query parameter (expected state, limit)' })));
        if (state !== undefined && !(STATES as readonly string[]).includes(state)) throw new PolicyValidationError([{ path: 'query.state', message: `expected one of ${STATES.join(', ')}, got '${state}'` }]);
        if (limit !== undefined && (!/^\d+$/.test(limit) || Number(limit) < 1 || Number(limit) > 10_000)) throw new PolicyValidationError([{ path: 'query.limit', message: 'expected an integer from 1 to 10000' }]);
        const t = now();
        const list = await deps.repo.list({ ...(state ? { state: state as IncidentState } : {}), ...(limit ? { limit: Number(limit) } : {}) });
        return { incidents: list.map((i) => ({ ...i, deadlines: deadlinesFor(i, deps.regimes, t) })) };
      });

      scope.post('/incidents', async (request, reply) => {
        const inc = await deps.repo.open(requireBody(request.body, 'an incident'));
        return reply.code(201).send({ incident: { ...inc, deadlines: deadlinesFor(inc, deps.regimes, now()) } });
      });

      scope.get<{ Params: { id: string } }>('/incidents/:id', async (request) => {
        const inc = await deps.repo.get(request.params.id);
        if (!inc) throw new IncidentNotFoundError(request.params.id);
        return { incident: { ...inc, deadlines: deadlinesFor(inc, deps.regimes, now()) }, timeline: await deps.repo.timelineOf(inc.id) };
      });

      scope.post<{ Params: { id: string } }>('/incidents/:id/transition', async (request) => {
        const inc = await deps.repo.transition(request.params.id, requireBody(request.body, '{to, by, why}'));
        return { incident: { ...inc, deadlines: deadlinesFor(inc, deps.regimes, now()) } };
      });

      scope.get<{ Params: { id: string; regime: string } }>('/incidents/:id/report/:regime', async (request, reply) => {
        const inc = await deps.repo.get(request.params.id);
        if (!inc) throw new IncidentNotFoundError(request.params.id);
        const g = deps.regimes.byId.get(request.params.regime);
        if (!g) throw new HttpError(404, 'not_found', `no regime '${request.params.regime}' (known: ${[...deps.regimes.byId.keys()].join(', ')})`);
        const d = deadlinesFor(inc, deps.regimes, now()).find((x) => x.regime === g.id);
        return reply.type('text/plain; charset=utf-8').send(renderReport(inc, g, d));
      });
    },
    { prefix },
  );
}
