/**
 * Admin HTTP API for policy and licences (mounted behind admin-token auth by the server):
 *   POST   /admin/v1/policy/explain   {keyId | principal, model, at?} → explanation (directives, rules, licences, verdict)
 *   GET    /admin/v1/policy/status    → {fresh, lastSyncAt, revisions, rules, directivesInForce, licences}
 *   GET    /admin/v1/licences         ?org=ID | ?account=ID → {licences}
 *   POST   /admin/v1/licences         grant → 201 {licence}
 *   GET    /admin/v1/licences/:id     → {licence}
 *   DELETE /admin/v1/licences/:id     revoke, body {by, why} → {licence}
 *   GET    /admin/v1/licences/:id/exports              → {exports} (revoked ones included)
 *   POST   /admin/v1/licences/:id/exports              record an export {recipient, model, destination, validFrom?, validTo?, by, id?} → 201 {export}
 *   DELETE /admin/v1/licences/:id/exports/:exportId    revoke it, body {by, why} → {export}
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { KYC_LEVELS, type KycLevel, type Principal } from '../core/types.ts';
import { countryCodeProblem } from '../population/countries.ts';
import type { AccessControl } from './access-control.ts';
import { HttpError, installErrorHandler, prefixFor, requireBody } from '../admin/http.ts';
import { LicenceNotFoundError } from './licence-repository.ts';
import { jsonSink, PolicyValidationError, zodIssues } from '../core/validation.ts';
import { epochOrIso } from '../population/time.ts';

export interface PolicyAdminDeps {
  access: AccessControl;
  /** Looks a key up by id (e.g. KeyRegistry/KeyRepository); needed for `keyId` in explain. */
  principalOf?: (keyId: string) => Promise<Principal | undefined> | Principal | undefined;
  prefix?: string;
}

const code = z.string().superRefine((v, ctx) => {
  const problem = countryCodeProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
export const explainSchema = z
  .strictObject({
    keyId: z.string().min(1).optional(),
    principal: z
      .strictObject({
        keyId: z.string().default('(explain)'),
        accountId: z.string().default('(explain)'),
        orgId: z.string().nullable().default(null),
        nationalities: z.array(code).default([]),
        residence: code.nullable().default(null),
        kyc: z.enum(KYC_LEVELS as [KycLevel, ...KycLevel[]]).default('none'),
        programmes: z.array(z.string()).default([]),
        tier: z.string().default('general'),
        staff: z.boolean().default(false),
      })
      .optional(),
    model: z.string().min(1),
    at: epochOrIso.optional(),
  })
  .refine((b) => (b.keyId === undefined) !== (b.principal === undefined), 'give exactly one of keyId, principal');

export function registerPolicyAdminRoutes(app: FastifyInstance, deps: PolicyAdminDeps): FastifyInstance {
  const prefix = prefixFor(app, deps.prefix);
  const { access } = deps;
  return app.register(
    async (scope) => {
      installErrorHandler(scope, 'policy');

      scope.post('/policy/explain', async (request) => {
        const r = explainSchema.safeParse(requireBody(request.body, 'keyId or principal, and model'));
        if (!r.success) throw new PolicyValidationError(zodIssues(r.error, jsonSink()));
        let principal: Principal;
        if (r.data.keyId !== undefined) {
          if (!deps.principalOf) throw new HttpError(400, 'invalid_request', 'keyId lookup is not available here; pass principal attributes instead');
          const p = await deps.principalOf(r.data.keyId);
          if (!p) throw new HttpError(404, 'not_found', `no key with id '${r.data.keyId}'`);
          principal = p;
        } else principal = r.data.principal!;
        return { explanation: access.explain(principal, r.data.model, r.data.at ?? Date.now()) };
      });

      scope.get('/policy/status', async () => {
        const snap = access.snapshot;
        const now = Date.now();
        return {
          sync: access.syncStatus(),
          policy: { source: snap.policy.source, rules: snap.policy.rules.length, default: snap.policy.defaultAction },
          directivesInForce: snap.directives.filter((d) => now >= d.record.effectiveAt && (d.record.expiresAt === null || now < d.record.expiresAt)).map((d) => d.id),
          licences: snap.licences.size,
        };
      });

      const repo = () => {
        if (!access.licencesRepo) throw new HttpError(503, 'unavailable', 'no store configured: licences are unavailable');
        return access.licencesRepo;
      };

      scope.get<{ Querystring: Record<string, string | undefined> }>('/licences', async (request) => {
        const { org, account, ...unknown } = request.query;
        const extra = Object.keys(unknown);
        if (extra.length) throw new PolicyValidationError(extra.map((k) => ({ path: `query.${k}`, message: 'unknown query parameter (expected org or account)' })));
        if (org !== undefined && account !== undefined) throw new PolicyValidationError([{ path: 'query', message: 'give at most one of org, account' }]);
        return { licences: await repo().list(org !== undefined ? { org } : account !== undefined ? { account } : {}) };
      });

      scope.post('/licences', async (request, reply) => {
        const licence = await repo().grant(requireBody(request.body, 'a licence grant'));
        return reply.code(201).send({ licence });
      });

      scope.get<{ Params: { id: string } }>('/licences/:id', async (request) => {
        const licence = await repo().get(request.params.id);
        if (!licence) throw new LicenceNotFoundError(request.params.id);
        return { licence, exports: await repo().exportsOf(licence.id) };
      });

      scope.get<{ Params: { id: string } }>('/licences/:id/exports', async (request) => {
        if (!(await repo().get(request.params.id))) throw new LicenceNotFoundError(request.params.id);
        return { exports: await repo().exportsOf(request.params.id) };
      });

      scope.post<{ Params: { id: string } }>('/licences/:id/exports', async (request, reply) => {
        const recorded = await repo().recordExport(request.params.id, requireBody(request.body, 'an export {recipient, model, destination, by}'));
        return reply.code(201).send({ export: recorded });
      });

      scope.delete<{ Params: { id: string; exportId: string } }>('/licences/:id/exports/:exportId', async (request) => {
        const { by, why } = byAndWhy(requireBody(request.body, '{by, why}'));
        return { export: await repo().revokeExport(request.params.id, request.params.exportId, by, why) };
      });

      scope.delete<{ Params: { id: string } }>('/licences/:id', async (request) => {
        const { by, why } = byAndWhy(requireBody(request.body, '{by, why}'));
        return { licence: await repo().revoke(request.params.id, by, why) };
      });
    },
    { prefix },
  );
}

/** A revocation body: exactly `by` and `why`, both non-empty. */
function byAndWhy(body: Record<string, unknown>): { by: string; why: string } {
  const extra = Object.keys(body).filter((k) => k !== 'by' && k !== 'why');
  if (extra.length) throw new PolicyValidationError(extra.map((k) => ({ path: k, message: `unknown field '${k}'` })));
  if (typeof body.by !== 'string' || !body.by.trim()) throw new PolicyValidationError([{ path: 'by', message: 'is required' }]);
  if (typeof body.why !== 'string' || !body.why.trim()) throw new PolicyValidationError([{ path: 'why', message: 'is required' }]);
  return { by: body.by, why: body.why };
}
