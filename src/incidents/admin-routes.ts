/**
 * Admin HTTP API for incidents (mounted behind admin-token auth):
 *   GET  /admin/v1/incidents                      ?state=&limit= → {incidents: [... with deadlines]}
 *   POST /admin/v1/incidents                      open by hand → 201 {incident}
 *   GET  /admin/v1/incidents/:id                  → {incident (with deadlines and time left), timeline}
 *   POST /admin/v1/incidents/:id/transition       {to, by, why, version?, regimes?, facts?, reportRef?} → {incident}
 *   GET  /admin/v1/incidents/:id/report/:regime   the regime's report template filled in (text/plain)
 *   GET  /admin/v1/incidents/:id/bundle[?text=true] the evidence bundle (audited as `incident.exported`, by the
 *                                                  caller); `text=true` adds retained prompt/response text when the
 *                                                  caller's role may read it (else 403, audited as `retention.denied`)
 *                                                  and retention holds it, each inclusion audited (`retention.read`)
 * Errors: 400 `invalid_request` with `issues`; 404 unknown id; 409 `conflict` — a stale version (another change won)
 * or a transition the workflow does not allow.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError, installErrorHandler, prefixFor, requireBody } from '../admin/http.ts';
import { PolicyValidationError } from '../core/validation.ts';
import { STATES, type IncidentState } from './model.ts';
import { deadlinesFor, renderReport, type RegimeSet } from './regimes.ts';
import { IncidentNotFoundError, type IncidentRepository } from './repository.ts';
import { exportIncidentBundle, type BundleTextAccess } from './bundle.ts';
import type { Db } from '../store/db.ts';

/** What the bundle route needs from the gateway: the log, retention, and who is asking. */
export interface IncidentBundleDeps {
  db: Db;
  /** The audit log file; null when the gateway runs without one. */
  auditPath: string | null;
  signingKey: string | null;
  /** Retained text, when `audit.retention` is on. */
  vault: Pick<BundleTextAccess, 'read'> | null;
  /** The caller's name (recorded as the exporter). */
  actorOf(request: FastifyRequest): string;
  /** The caller's role and whether it may read retained prompt text. */
  textAccessOf(request: FastifyRequest): { role: string; allowed: boolean };
  /** Records a refused request for text in the audit log (`retention.denied`). */
  recordAdmin?: (action: string, actor: string, target?: string, details?: Record<string, unknown>) => void;
}

export interface IncidentAdminDeps {
  repo: IncidentRepository;
  regimes: RegimeSet;
  now?: () => number;
  prefix?: string;
  /** Enables `GET /incidents/:id/bundle`. */
  bundle?: IncidentBundleDeps;
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

      const b = deps.bundle;
      if (b)
        scope.get<{ Params: { id: string }; Querystring: Record<string, string | undefined> }>('/incidents/:id/bundle', async (request, reply) => {
          const { text, ...unknown } = request.query;
          const extra = Object.keys(unknown);
          if (extra.length) throw new PolicyValidationError(extra.map((k) => ({ path: `query.${k}`, message: 'unknown query parameter (expected text)' })));
          if (text !== undefined && !['true', 'false', '1', '0'].includes(text)) throw new PolicyValidationError([{ path: 'query.text', message: `expected true or false, got '${text}'` }]);
          const withText = text === 'true' || text === '1';
          if (!b.auditPath) throw new HttpError(404, 'not_found', 'the audit log is off (no audit: section): there are no records to bundle');
          const access = b.textAccessOf(request);
          if (withText && !access.allowed) {
            b.recordAdmin?.('retention.denied', b.actorOf(request), request.params.id, { role: access.role, purpose: 'incident.exported' });
            throw new HttpError(403, 'forbidden', `the ${access.role} role may not read retained prompt text; export without text=true, or ask an operator whose role may`);
          }
          const opts = { auditPath: b.auditPath, signingKey: b.signingKey, by: b.actorOf(request), auditActor: 'admin-api', now };
          const { bundle } = await exportIncidentBundle(
            b.db,
            request.params.id,
            withText && b.vault ? { ...opts, text: { read: (id, t) => b.vault!.read(id, t), role: access.role } } : { ...opts, textNote: withText ? 'not included: text retention is off (audit.retention.enabled: false)' : 'not included' },
          );
          return reply.header('content-disposition', `attachment; filename="${request.params.id.replace(/[^A-Za-z0-9_.-]/g, '_')}.bundle.json"`).send(bundle);
        });
    },
    { prefix },
  );
}
