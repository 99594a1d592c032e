/**
 * Who is calling the admin API, and may they: one Fastify onRequest hook replacing the bearer-only check.
 *  - `Authorization: Bearer <admin token>`: the service identity `admin-api`, role `admin` (as before).
 *  - the session cookie: a signed-in operator; state-changing calls must echo the session's CSRF token in
 *    `x-csrf-token` (the double-submit cookie `gh_csrf` holds it for the console's script); the operator's role must
 *    permit the call (roles.ts).
 * Refusals are JSON `{error: {type, message}}`: 401 unauthenticated / session_expired, 403 csrf_failed /
 * forbidden, 429 too_many_denied; each refused session call is an audit record (`console.session_refused`,
 * `console.csrf_failed`, `admin.denied`), and an identity refused too often in a minute is answered 429.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { adminTokenMatches, bearerToken } from '../admin/auth.ts';
import type { Role } from './operators.ts';
import { permits } from './roles.ts';
import { csrfMatches, type SessionInfo, type SessionStore } from './sessions.ts';
import { Throttle } from './throttle.ts';

export const SESSION_COOKIE = 'gh_session';
export const CSRF_COOKIE = 'gh_csrf';
export const CSRF_HEADER = 'x-csrf-token';
export const ADMIN_PREFIX = '/admin/v1';

export interface CallerIdentity {
  name: string;
  role: Role;
  via: 'token' | 'session';
  session?: SessionInfo;
}

export type RecordAdmin = (action: string, actor: string, target?: string, details?: Record<string, unknown>) => void;

const identities = new WeakMap<object, CallerIdentity>();

/** The authenticated caller of an admin request (set by the hook), or undefined before it ran. */
export function callerOf(request: FastifyRequest): CallerIdentity | undefined {
  return identities.get(request.raw);
}

/** The name admin audit records carry: the signed-in operator, `admin-api` for the service token, `anonymous` for the sign-in call. */
export function actorOf(request: FastifyRequest): string {
  return callerOf(request)?.name ?? 'anonymous';
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export interface OperatorAuthDeps {
  adminToken(): string | undefined;
  /** null when the console is disabled: only the bearer token is accepted. */
  sessions: SessionStore | null;
  recordAdmin: RecordAdmin;
  maxDeniedPerMinute: number;
  now?: () => number;
}

/** Paths answered without authentication (the sign-in itself). */
const PUBLIC = new Set(['POST /admin/v1/session', 'GET /admin/v1/session/methods', 'GET /admin/v1/session/oidc', 'GET /admin/v1/session/oidc/callback']);

export function operatorAuthHook(deps: OperatorAuthDeps) {
  const denied = new Throttle(deps.maxDeniedPerMinute, 60_000, deps.now);
  const fail = async (reply: FastifyReply, status: number, type: string, message: string) => {
    await reply.code(status).send({ error: { type, message } });
  };
  /** Audits a refusal and answers it; past the allowance, answers 429 instead. */
  const refuse = async (request: FastifyRequest, reply: FastifyReply, who: string, action: string, status: number, type: string, message: string, details: Record<string, unknown>) => {
    const key = `${who}|${request.ip}`;
    const wait = denied.retryAfter(key);
    denied.hit(key);
    deps.recordAdmin(action, who, path(request), { method: request.method, ip: request.ip, status: wait ? 429 : status, ...details });
    if (wait) {
      await reply.header('retry-after', String(wait)).code(429).send({ error: { type: 'too_many_denied', message: `too many refused admin requests; retry in ${wait} s` } });
      return;
    }
    await fail(reply, status, type, message);
  };

  return async function operatorAuth(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const p = path(request);
    if (PUBLIC.has(`${request.method} ${p}`)) return;
    const expected = deps.adminToken();
    const auth = request.headers.authorization;
    const token = deps.sessions ? cookieValue(request.headers.cookie, SESSION_COOKIE) : undefined;
    if (auth !== undefined || token === undefined) {
      // Without a session cookie this is the bearer check exactly as before (404 when no token is configured).
      if (!expected) return fail(reply, 404, 'admin_disabled', `the admin API is disabled: no admin token is configured${deps.sessions ? ' (operators sign in at /console)' : ''}`);
      const given = bearerToken(auth);
      if (given === undefined || !expected || !adminTokenMatches(given, expected)) {
        reply.header('www-authenticate', 'Bearer realm="gatehouse-admin"');
        return fail(reply, 401, 'unauthorized', given === undefined ? `missing admin token: send Authorization: Bearer <admin token>${deps.sessions ? ', or sign in at /console' : ''}` : 'invalid admin token');
      }
      identities.set(request.raw, { name: 'admin-api', role: 'admin', via: 'token' });
      return;
    }
    const found = await deps.sessions!.lookup(token);
    if (!found.ok) {
      const expired = found.reason !== 'unknown';
      return refuse(request, reply, 'anonymous', 'console.session_refused', 401, expired ? 'session_expired' : 'unauthorized', expired ? `the session has ended (${found.reason}); sign in again` : 'the session is not valid; sign in again', { reason: found.reason });
    }
    const s = found.session;
    const read = request.method === 'GET' || request.method === 'HEAD';
    if (!read && !csrfMatches(header(request, CSRF_HEADER), s.csrf)) {
      return refuse(request, reply, s.operator, 'console.csrf_failed', 403, 'csrf_failed', `state-changing requests must carry the session's CSRF token in the ${CSRF_HEADER} header`, { role: s.role });
    }
    const ownSession = p === `${ADMIN_PREFIX}/session` && (read || request.method === 'DELETE');
    if (!ownSession && !permits(s.role, request.method, p.slice(ADMIN_PREFIX.length))) {
      return refuse(request, reply, s.operator, 'admin.denied', 403, 'forbidden', `the ${s.role} role may not ${request.method} ${p}`, { role: s.role });
    }
    identities.set(request.raw, { name: s.operator, role: s.role, via: 'session', session: s });
  };
}

function header(request: FastifyRequest, name: string): string | undefined {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function path(request: FastifyRequest): string {
  const q = request.url.indexOf('?');
  return q < 0 ? request.url : request.url.slice(0, q);
}
