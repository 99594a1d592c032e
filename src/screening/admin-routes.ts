/**
 * Admin HTTP API for denied-party screening (mounted behind admin-token auth):
 *   GET  /admin/v1/screening/results              ?status=pending|confirmed|cleared → {results}
 *   POST /admin/v1/screening/results/:id/review   {decision: confirm|clear, by, why, version?} → {result}
 * Errors: 400 `invalid_request`; 404 unknown id; 409 `conflict` (changed since the given version, or reviewed
 * concurrently).
 */
import type { FastifyInstance } from 'fastify';
import { HttpError, installErrorHandler, prefixFor, requireBody } from '../admin/http.ts';
import { PolicyValidationError } from '../core/validation.ts';
import { ScreeningConflictError, type ReviewStatus, type ScreeningRepository } from './repository.ts';

export function registerScreeningAdminRoutes(app: FastifyInstance, deps: { repo: ScreeningRepository; prefix?: string }): FastifyInstance {
  const prefix = prefixFor(app, deps.prefix);
  return app.register(
    async (scope) => {
      installErrorHandler(scope, 'screening');
      scope.get<{ Querystring: Record<string, string | undefined> }>('/screening/results', async (request) => {
        const { status, ...unknown } = request.query;
        if (Object.keys(unknown).length) throw new PolicyValidationError(Object.keys(unknown).map((k) => ({ path: `query.${k}`, message: 'unknown query parameter (expected status)' })));
        if (status !== undefined && !['pending', 'confirmed', 'cleared'].includes(status)) throw new PolicyValidationError([{ path: 'query.status', message: `expected pending, confirmed or cleared, got '${status}'` }]);
        return { results: await deps.repo.list(status ? { status: status as ReviewStatus } : {}) };
      });
      scope.post<{ Params: { id: string } }>('/screening/results/:id/review', async (request) => {
        const b = requireBody(request.body, '{decision, by, why}');
        const extra = Object.keys(b).filter((k) => !['decision', 'by', 'why', 'version'].includes(k));
        if (extra.length) throw new PolicyValidationError(extra.map((k) => ({ path: k, message: `unknown field '${k}'` })));
        if (b.decision !== 'confirm' && b.decision !== 'clear') throw new PolicyValidationError([{ path: 'decision', message: "expected 'confirm' or 'clear'" }]);
        for (const k of ['by', 'why'] as const) if (typeof b[k] !== 'string' || !(b[k] as string).trim()) throw new PolicyValidationError([{ path: k, message: 'is required' }]);
        if (b.version !== undefined && !Number.isInteger(b.version)) throw new PolicyValidationError([{ path: 'version', message: 'expected an integer' }]);
        try {
          return { result: await deps.repo.review(request.params.id, { decision: b.decision, by: b.by as string, why: b.why as string, ...(b.version !== undefined ? { version: b.version as number } : {}) }) };
        } catch (err) {
          if (err instanceof ScreeningConflictError) throw new HttpError(/^no screening result/.test(err.message) ? 404 : 409, /^no screening result/.test(err.message) ? 'not_found' : 'conflict', err.message);
          throw err;
        }
      });
    },
    { prefix },
  );
}
