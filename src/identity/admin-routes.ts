/**
 * Admin HTTP API for API keys (mounted behind admin-token auth by the server):
 *   POST   /admin/v1/keys          create → 201 {key, secret}   (the secret is returned this once)
 *   GET    /admin/v1/keys          list   → {keys}   (?account=ID&status=active|revoked)
 *   GET    /admin/v1/keys/:id      show   → {key}
 *   PATCH  /admin/v1/keys/:id      change attributes → {key}
 *   DELETE /admin/v1/keys/:id      revoke (optional {"reason"} body or ?reason=) → {key}
 * Errors: {"error":{"type","message"}}, plus `issues: [{path, message}]` for validation errors.
 * Responses never contain a secret (except create's) nor a hash.
 */
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import type { Db } from '../store/db.ts';
import { KeyValidationError } from './attributes.ts';
import { KeyNotFoundError, KeyStateError, type KeyRepository } from './keys.ts';

export interface KeyAdminDeps {
  keys: KeyRepository;
  /** Unused; accepted so every capability's admin routes share a deps shape. */
  db?: Db;
  /**
   * Path prefix for the routes. Default: '' when `app` is already mounted under /admin/v1 (the server's
   * admin instance), else '/admin/v1' (a bare Fastify instance, e.g. in tests).
   */
  prefix?: string;
}

export const ADMIN_PREFIX = '/admin/v1';

function sendError(reply: FastifyReply, status: number, type: string, message: string, extra?: Record<string, unknown>): FastifyReply {
  return reply.code(status).send({ error: { type, message, ...extra } });
}

export function registerKeyAdminRoutes(app: FastifyInstance, deps: KeyAdminDeps): FastifyInstance {
  const prefix = deps.prefix ?? (app.prefix.endsWith(ADMIN_PREFIX) ? '' : ADMIN_PREFIX);
  const { keys } = deps;

  return app.register(
    async (scope) => {
      scope.setErrorHandler((err: FastifyError & { status?: number }, _request, reply) => {
        if (err instanceof KeyValidationError) {
          return sendError(reply, 400, 'invalid_request', err.message, { issues: err.issues });
        }
        if (err instanceof KeyNotFoundError) return sendError(reply, 404, 'not_found', err.message);
        if (err instanceof KeyStateError) return sendError(reply, 409, 'conflict', err.message);
        const status = err.statusCode ?? err.status;
        if (status && status >= 400 && status < 500) {
          const message = err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError ? `request body is not valid JSON: ${err.message}` : err.message;
          return sendError(reply, status, status === 413 ? 'request_too_large' : 'invalid_request', message);
        }
        // Unexpected: the admin mount logs it with the request id and answers 500.
        throw err;
      });

      scope.post('/keys', async (request, reply) => {
        if (request.body === undefined || request.body === null) {
          throw new KeyValidationError([{ path: '(root)', message: 'expected a JSON object body with at least accountId' }]);
        }
        const { key, secret } = await keys.create(request.body);
        reply.header('cache-control', 'no-store');
        return reply.code(201).send({ key, secret });
      });

      scope.get<{ Querystring: Record<string, string | undefined> }>('/keys', async (request) => {
        const { account, status, ...unknown } = request.query;
        const extra = Object.keys(unknown);
        if (extra.length > 0) throw new KeyValidationError(extra.map((k) => ({ path: `query.${k}`, message: 'unknown query parameter (expected account, status)' })));
        if (status !== undefined && status !== 'active' && status !== 'revoked') {
          throw new KeyValidationError([{ path: 'query.status', message: `expected 'active' or 'revoked', got '${status}'` }]);
        }
        return { keys: await keys.list({ accountId: account, status }) };
      });

      scope.get<{ Params: { id: string } }>('/keys/:id', async (request) => {
        const key = await keys.get(request.params.id);
        if (!key) throw new KeyNotFoundError(request.params.id);
        return { key };
      });

      scope.patch<{ Params: { id: string } }>('/keys/:id', async (request) => {
        if (request.body === undefined || request.body === null) {
          throw new KeyValidationError([{ path: '(root)', message: 'expected a JSON object of attributes to change' }]);
        }
        return { key: await keys.update(request.params.id, request.body) };
      });

      scope.delete<{ Params: { id: string }; Querystring: { reason?: string } }>('/keys/:id', async (request) => {
        let reason = request.query.reason;
        const body = request.body as unknown;
        if (body !== undefined && body !== null) {
          if (typeof body !== 'object' || Array.isArray(body)) throw new KeyValidationError([{ path: '(root)', message: 'expected a JSON object like {"reason": "…"}' }]);
          const { reason: bodyReason, ...rest } = body as Record<string, unknown>;
          const extra = Object.keys(rest);
          if (extra.length) throw new KeyValidationError([{ path: '(root)', message: `unknown field${extra.length > 1 ? 's' : ''} ${extra.map((k) => `'${k}'`).join(', ')}` }]);
          if (bodyReason !== undefined && typeof bodyReason !== 'string') throw new KeyValidationError([{ path: 'reason', message: 'expected a string' }]);
          reason = (bodyReason as string | undefined) ?? reason;
        }
        return { key: await keys.revoke(request.params.id, reason) };
      });
    },
    { prefix },
  );
}
