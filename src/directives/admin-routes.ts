/**
 * Admin HTTP API for directives (mounted behind admin-token auth by the server):
 *   GET    /admin/v1/directives            ?status=active|lifted → {directives: [... with state]}
 *   POST   /admin/v1/directives            issue → 201 {directive}
 *   GET    /admin/v1/directives/:id        → {directive, history}
 *   PATCH  /admin/v1/directives/:id        amend (fields to change + by, why) → {directive}
 *   POST   /admin/v1/directives/:id/lift   {by, why} → {directive}
 * Validation errors: 400 with `issues: [{path, message}]`; unknown id 404; lifted or concurrent change 409.
 */
import type { FastifyInstance } from 'fastify';
import { HttpError, installErrorHandler, prefixFor, requireBody } from '../admin/http.ts';
import { PolicyValidationError } from '../core/validation.ts';
import { directiveState } from './model.ts';
import { DirectiveNotFoundError, type DirectiveRepository } from './repository.ts';

export interface DirectiveAdminDeps {
  /** Whoever owns the directives repository (policy's AccessControl); null repository: no store configured. */
  access: { readonly directivesRepo: DirectiveRepository | null };
  prefix?: string;
}

export function registerDirectiveAdminRoutes(app: FastifyInstance, deps: DirectiveAdminDeps): FastifyInstance {
  const prefix = prefixFor(app, deps.prefix);
  const repo = () => {
    if (!deps.access.directivesRepo) throw new HttpError(503, 'unavailable', 'no store configured: directives are unavailable');
    return deps.access.directivesRepo;
  };
  return app.register(
    async (scope) => {
      installErrorHandler(scope, 'directive');

      scope.get<{ Querystring: Record<string, string | undefined> }>('/directives', async (request) => {
        const { status, ...unknown } = request.query;
        const extra = Object.keys(unknown);
        if (extra.length) throw new PolicyValidationError(extra.map((k) => ({ path: `query.${k}`, message: 'unknown query parameter (expected status)' })));
        if (status !== undefined && status !== 'active' && status !== 'lifted') throw new PolicyValidationError([{ path: 'query.status', message: `expected 'active' or 'lifted', got '${status}'` }]);
        const now = Date.now();
        return { directives: (await repo().list(status ? { status } : {})).map((d) => ({ ...d, state: directiveState(d, now) })) };
      });

      scope.post('/directives', async (request, reply) => {
        const directive = await repo().issue(requireBody(request.body, 'a directive'));
        return reply.code(201).send({ directive: { ...directive, state: directiveState(directive, Date.now()) } });
      });

      scope.get<{ Params: { id: string } }>('/directives/:id', async (request) => {
        const directive = await repo().get(request.params.id);
        if (!directive) throw new DirectiveNotFoundError(request.params.id);
        return { directive: { ...directive, state: directiveState(directive, Date.now()) }, history: await repo().historyOf(directive.id) };
      });

      scope.patch<{ Params: { id: string } }>('/directives/:id', async (request) => {
        const directive = await repo().amend(request.params.id, requireBody(request.body, 'fields to change, by and why'));
        return { directive: { ...directive, state: directiveState(directive, Date.now()) } };
      });

      scope.post<{ Params: { id: string } }>('/directives/:id/lift', async (request) => {
        const directive = await repo().lift(request.params.id, requireBody(request.body, '{by, why}'));
        return { directive: { ...directive, state: directiveState(directive, Date.now()) } };
      });
    },
    { prefix },
  );
}
