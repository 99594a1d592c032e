/**
 * Admin HTTP API for trusted-access programmes (behind admin auth):
 *   POST /admin/v1/programmes/applications            {programme, subject: {kind: account|org, id}, evidence: {text, links?}} → 201 {application}
 *   GET  /admin/v1/programmes/applications            ?status=applied|granted|rejected|revoked&programme=NAME → {applications}
 *   GET  /admin/v1/programmes/applications/:id        → {application} / 404
 *   POST /admin/v1/programmes/applications/:id/grant  {by, reason?, expiresAt, tier?} → {application} / 409 unless applied
 *   POST /admin/v1/programmes/applications/:id/reject {by, reason} → {application} / 409 unless applied
 *   POST /admin/v1/programmes/applications/:id/revoke {by, reason} → {application} / 409 unless granted
 *   GET  /admin/v1/programmes/verifications/:accountId → {verification} / 404
 */
import type { FastifyInstance } from 'fastify';
import { HttpError, installErrorHandler, prefixFor, requireBody } from '../admin/http.ts';
import { PolicyValidationError } from '../core/validation.ts';
import type { ApplicationStatus, ProgrammeRepository } from './repository.ts';

const SLUG = /^[a-z0-9][a-z0-9._:-]{0,99}$/;
const STATUSES: ApplicationStatus[] = ['applied', 'granted', 'rejected', 'revoked'];

function onlyFields(b: Record<string, unknown>, allowed: string[]): void {
  const extra = Object.keys(b).filter((k) => !allowed.includes(k));
  if (extra.length) throw new PolicyValidationError(extra.map((k) => ({ path: k, message: `unknown field '${k}' (expected ${allowed.join(', ')})` })));
}

function text(b: Record<string, unknown>, k: string, max: number, required: boolean): string | null {
  const v = b[k];
  if (v === undefined || v === null) {
    if (required) throw new PolicyValidationError([{ path: k, message: 'is required' }]);
    return null;
  }
  if (typeof v !== 'string' || !v.trim()) throw new PolicyValidationError([{ path: k, message: 'expected a non-empty string' }]);
  if (v.length > max) throw new PolicyValidationError([{ path: k, message: `longer than ${max} characters` }]);
  return v.trim();
}

export function registerProgrammeAdminRoutes(
  app: FastifyInstance,
  deps: { repo: ProgrammeRepository; names: () => readonly string[]; changed: () => Promise<void>; prefix?: string },
): FastifyInstance {
  const prefix = prefixFor(app, deps.prefix);
  return app.register(
    async (scope) => {
      installErrorHandler(scope, 'programmes');
      scope.post('/programmes/applications', async (request, reply) => {
        const b = requireBody(request.body, '{programme, subject: {kind, id}, evidence: {text, links?}}');
        onlyFields(b, ['programme', 'subject', 'evidence']);
        const programme = text(b, 'programme', 100, true)!;
        const names = deps.names();
        if (!names.includes(programme)) throw new PolicyValidationError([{ path: 'programme', message: names.length ? `unknown programme '${programme}' (expected one of ${names.join(', ')})` : 'no programmes are configured (programmes.names)' }]);
        const s = b.subject as Record<string, unknown> | undefined;
        if (typeof s !== 'object' || s === null || Array.isArray(s)) throw new PolicyValidationError([{ path: 'subject', message: "expected {kind: 'account'|'org', id}" }]);
        if (s.kind !== 'account' && s.kind !== 'org') throw new PolicyValidationError([{ path: 'subject.kind', message: "expected 'account' or 'org'" }]);
        const id = text(s, 'id', 200, true)!;
        const e = b.evidence as Record<string, unknown> | undefined;
        if (typeof e !== 'object' || e === null || Array.isArray(e)) throw new PolicyValidationError([{ path: 'evidence', message: 'expected {text, links?}' }]);
        const evidenceText = text(e, 'text', 10_000, true)!;
        const links = e.links ?? [];
        if (!Array.isArray(links) || links.length > 20) throw new PolicyValidationError([{ path: 'evidence.links', message: 'expected a list of at most 20 https:// URLs' }]);
        links.forEach((l, i) => {
          if (typeof l !== 'string' || !/^https?:\/\/\S+$/i.test(l) || l.length > 2000) throw new PolicyValidationError([{ path: `evidence.links[${i}]`, message: 'expected an http:// or https:// URL' }]);
        });
        const application = await deps.repo.apply({ programme, subject: { kind: s.kind, id }, evidence: { text: evidenceText, links: links as string[] } });
        await deps.changed();
        return reply.code(201).send({ application });
      });
      scope.get<{ Querystring: Record<string, string | undefined> }>('/programmes/applications', async (request) => {
        const { status, programme, ...unknown } = request.query;
        if (Object.keys(unknown).length) throw new PolicyValidationError(Object.keys(unknown).map((k) => ({ path: `query.${k}`, message: 'unknown query parameter (expected status, programme)' })));
        if (status !== undefined && !STATUSES.includes(status as ApplicationStatus)) throw new PolicyValidationError([{ path: 'query.status', message: `expected one of ${STATUSES.join(', ')}` }]);
        return { applications: await deps.repo.list({ ...(status ? { status: status as ApplicationStatus } : {}), ...(programme ? { programme } : {}) }) };
      });
      scope.get<{ Params: { id: string } }>('/programmes/applications/:id', async (request) => {
        const application = await deps.repo.get(request.params.id);
        if (!application) throw new HttpError(404, 'not_found', `no programme application '${request.params.id}'`);
        return { application };
      });
      for (const decision of ['grant', 'reject', 'revoke'] as const) {
        scope.post<{ Params: { id: string } }>(`/programmes/applications/:id/${decision}`, async (request) => {
          const b = requireBody(request.body, decision === 'grant' ? '{by, expiresAt, tier?, reason?}' : '{by, reason}');
          onlyFields(b, decision === 'grant' ? ['by', 'reason', 'expiresAt', 'tier'] : ['by', 'reason']);
          const by = text(b, 'by', 200, true)!;
          const reason = text(b, 'reason', 2000, decision !== 'grant');
          let expiresAt: number | null = null;
          let tier: string | null = null;
          if (decision === 'grant') {
            const x = b.expiresAt;
            if (typeof x !== 'number' || !Number.isInteger(x) || x <= Date.now()) throw new PolicyValidationError([{ path: 'expiresAt', message: 'expected a future time in epoch milliseconds' }]);
            expiresAt = x;
            tier = text(b, 'tier', 100, false);
            if (tier !== null && !SLUG.test(tier)) throw new PolicyValidationError([{ path: 'tier', message: 'expected lower-case letters, digits and . _ : -' }]);
          }
          const application = await deps.repo.decide(request.params.id, { decision, by, reason, tier, expiresAt });
          await deps.changed();
          return { application };
        });
      }
      scope.get<{ Params: { accountId: string } }>('/programmes/verifications/:accountId', async (request) => {
        const verification = await deps.repo.verification(request.params.accountId);
        if (!verification) throw new HttpError(404, 'not_found', `no verification recorded for account '${request.params.accountId}'`);
        return { verification };
      });
    },
    { prefix },
  );
}
