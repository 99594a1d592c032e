/**
 * Admin token routes (admin role; a token cannot create tokens), under /admin/v1:
 *   POST   /tokens        {name, operator | service + role, scopes, expiresAt? | expiresInDays?} → 201 {token, secret}
 *   GET    /tokens        [?status=active|expired|revoked&operator=NAME] → {tokens}
 *   GET    /tokens/:id    → {token}
 *   DELETE /tokens/:id    revoke → {token}
 * The secret is in the creation answer only. Creating and revoking are audited (`token.created`, `token.revoked`).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { installErrorHandler } from '../admin/http.ts';
import { formatIssue, jsonSink, zodIssues } from '../core/validation.ts';
import { epochOrIso } from '../population/time.ts';
import { actorOf, type RecordAdmin } from './auth.ts';
import { OperatorError } from './operators.ts';
import { MAX_TOKEN_DAYS, statusOf, type AdminToken, type AdminTokenRepository, type TokenStatus } from './tokens.ts';

export const createTokenSchema = z
  .object({
    name: z.string(),
    operator: z.string().optional(),
    service: z.string().optional(),
    role: z.string().optional(),
    scopes: z.array(z.string()),
    expiresAt: epochOrIso.optional(),
    expiresInDays: z.number().int().min(1).max(MAX_TOKEN_DAYS).optional(),
  })
  .strict();

const STATUSES: readonly TokenStatus[] = ['active', 'expired', 'revoked'];

/** A token as the API shows it: its record and its status now (never the secret or its hash). */
export const view = (t: AdminToken, now = Date.now()) => ({ ...t, status: statusOf(t, now) });

export function registerTokenRoutes(app: FastifyInstance, deps: { tokens: AdminTokenRepository; recordAdmin: RecordAdmin }): void {
  app.register(async (scope) => {
    installErrorHandler(scope, 'tokens');
    scope.register(async (inner) => {
      inner.setErrorHandler((err, _request, reply) => {
        if (err instanceof OperatorError) return reply.code(err.status).send({ error: { type: err.type, message: err.message } });
        throw err;
      });

      inner.post('/tokens', async (request, reply) => {
        const parsed = createTokenSchema.safeParse(request.body ?? null);
        if (!parsed.success) {
          const issues = zodIssues(parsed.error, jsonSink());
          return reply.code(400).send({ error: { type: 'invalid_request', message: issues.map(formatIssue).join('; '), issues } });
        }
        const b = parsed.data;
        if (b.expiresAt !== undefined && b.expiresInDays !== undefined) throw new OperatorError(400, 'invalid_request', 'give expiresAt or expiresInDays, not both');
        const expiresAt = b.expiresAt ?? (b.expiresInDays !== undefined ? Date.now() + b.expiresInDays * 86_400_000 : undefined);
        const by = actorOf(request);
        const { token, secret } = await deps.tokens.create({ name: b.name, operator: b.operator, service: b.service, role: b.role, scopes: b.scopes, expiresAt, by });
        deps.recordAdmin('token.created', by, token.id, { name: token.name, operator: token.operator, service: token.service, role: token.role, scopes: token.scopes, expiresAt: token.expiresAt });
        return reply.code(201).send({ token: view(token), secret });
      });

      inner.get<{ Querystring: { status?: string; operator?: string } }>('/tokens', async (request, reply) => {
        const { status, operator } = request.query;
        if (status !== undefined && !(STATUSES as readonly string[]).includes(status)) return reply.code(400).send({ error: { type: 'invalid_request', message: `query.status: expected one of ${STATUSES.join(', ')}` } });
        const list = await deps.tokens.list({ ...(status ? { status: status as TokenStatus } : {}), ...(operator !== undefined ? { operator } : {}) });
        const now = Date.now();
        return { tokens: list.map((t) => view(t, now)) };
      });

      inner.get<{ Params: { id: string } }>('/tokens/:id', async (request) => {
        const t = await deps.tokens.get(request.params.id);
        if (!t) throw new OperatorError(404, 'not_found', `no admin token '${request.params.id.slice(0, 100)}'`);
        return { token: view(t) };
      });

      inner.delete<{ Params: { id: string } }>('/tokens/:id', async (request) => {
        const by = actorOf(request);
        const t = await deps.tokens.revoke(request.params.id, by);
        deps.recordAdmin('token.revoked', by, t.id, { name: t.name, operator: t.operator, service: t.service });
        return { token: view(t) };
      });
    });
  });
}
