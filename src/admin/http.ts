/**
 * Plumbing shared by every capability's admin routes: the `/admin/v1` prefix, the error body
 * `{"error":{"type","message"}}` and the error mapping. A capability's own "not found" / "conflict" errors say so
 * with an `adminStatus` field (see `AdminStatusError`), so this module needs to know no capability.
 */
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { formatIssue, PolicyValidationError } from '../core/validation.ts';

export const ADMIN_PREFIX = '/admin/v1';

export function sendError(reply: FastifyReply, status: number, type: string, message: string, extra?: Record<string, unknown>): FastifyReply {
  return reply.code(status).send({ error: { type, message, ...extra } });
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** An error a capability raises that the admin API answers 404 `not_found` or 409 `conflict`. */
export interface AdminStatusError extends Error {
  readonly adminStatus: 404 | 409;
}

/** Base of a capability's "no such thing" error: the admin API answers it 404 `not_found`. */
export class AdminNotFoundError extends Error implements AdminStatusError {
  readonly adminStatus = 404 as const;
}

/** Base of a capability's "not from this state" error: the admin API answers it 409 `conflict`. */
export class AdminConflictError extends Error implements AdminStatusError {
  readonly adminStatus = 409 as const;
}

function adminStatusOf(err: unknown): 404 | 409 | undefined {
  const s = (err as Partial<AdminStatusError> | null)?.adminStatus;
  return s === 404 || s === 409 ? s : undefined;
}

export function installErrorHandler(scope: FastifyInstance, _what: string): void {
  scope.setErrorHandler((err: FastifyError & { status?: number }, _request, reply) => {
    if (err instanceof PolicyValidationError) return sendError(reply, 400, 'invalid_request', err.issues.map(formatIssue).join('; '), { issues: err.issues });
    if (err instanceof HttpError) return sendError(reply, err.status, err.type, err.message);
    const mapped = adminStatusOf(err);
    if (mapped === 404) return sendError(reply, 404, 'not_found', err.message);
    if (mapped === 409) return sendError(reply, 409, 'conflict', err.message);
    const status = err.statusCode ?? err.status;
    if (status && status >= 400 && status < 500) {
      const message = err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError ? `request body is not valid JSON: ${err.message}` : err.message;
      return sendError(reply, status, 'invalid_request', message);
    }
    // Unexpected (nothing the caller did): the admin mount logs it with the request id and answers 500.
    throw err;
  });
}

export function requireBody(body: unknown, what: string): Record<string, unknown> {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new PolicyValidationError([{ path: '(root)', message: `expected a JSON object body (${what})` }]);
  }
  return body as Record<string, unknown>;
}

export function prefixFor(app: FastifyInstance, given: string | undefined): string {
  return given ?? (app.prefix.endsWith(ADMIN_PREFIX) ? '' : ADMIN_PREFIX);
}
