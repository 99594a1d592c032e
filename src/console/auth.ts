/**
 * Who is calling the admin API, and may they: one Fastify onRequest hook replacing the bearer-only check.
 *  - `Authorization: Bearer <admin token>`: the service identity `admin-api`, role `admin` (as before).
 *  - the session cookie: a signed-in operator; state-changing calls must echo the session's CSRF token in
 *    `x-csrf-token` (the double-submit cookie `gh_csrf` holds it for the console's script); the operator's role must
 *    permit the call (roles.ts).
 *  - `Authorization: Bearer ghadm_…`: a per-operator or per-service admin token from the store (tokens.ts): it acts
 *    as its operator (their current role) or as `service:<name>` (its own role), and its scopes must also cover
 *    the call (scopes.ts). A token cannot create tokens.
 * Refusals are JSON `{error: {type, message}}`: 401 unauthenticated / session_expired / token_expired /
 * token_revoked / token_owner_disabled, 403 csrf_failed / forbidden / insufficient_scope, 429 too_many_denied;
 * each refused session or store-token call is an audit record (`console.session_refused`, `console.csrf_failed`,
 * `admin.token_refused`, `admin.denied`), and an identity refused too often in a minute is answered 429.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { adminTokenMatches, bearerToken } from '../admin/auth.ts';
import type { Role } from './operators.ts';
import { permits } from './roles.ts';
import { scopeNeeded, scopesCover } from './scopes.ts';
import { TOKEN_PREFIX, type AdminTokenRepository, type TokenCheck } from './tokens.ts';
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
  /** A store token's id and scopes (absent for the shared admin token). */
  tokenId?: string;
  scopes?: readonly string[];
}

export type RecordAdmin = (action: string, actor: string, target?: string, details?: Record<string, unknown>) => void;

const identities = new WeakMap<object, CallerIdentity>();

/** The authenticated caller of an admin request (set by the hook), or undefined before it ran. */
export function callerOf(request: FastifyRequest): CallerIdentity | undefined {
  return identities.get(request.raw);
}

/** Which credential made an admin call: `session`, `shared-token`, or a store token's id. */
export function credentialOf(request: FastifyRequest): string | undefined {
  const c = callerOf(request);
  if (!c) return undefined;
  return c.via === 'session' ? 'session' : (c.tokenId ?? 'shared-token');
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
  /** Per-operator and per-service admin tokens (null: only the shared token). */
  tokens?: AdminTokenRepository | null;
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

  const TOKEN_REFUSALS: Record<Exclude<TokenCheck, { ok: true }>['reason'], [string, string]> = {
    unknown: ['unauthorized', 'invalid admin token'],
    expired: ['token_expired', 'expired'],
    revoked: ['token_revoked', 'revoked'],
    'owner-disabled': ['token_owner_disabled', 'unusable: its operator is disabled'],
    'owner-expired': ['token_owner_disabled', 'unusable: its operator\'s account has expired'],
  };
  /** A store token: valid, unexpired, unrevoked, its owner usable, its role and scopes covering the call. */
  const storeToken = async (request: FastifyRequest, reply: FastifyReply, p: string, check: TokenCheck): Promise<void> => {
    if (!check.ok) {
      const t = check.token;
      const [type, what] = TOKEN_REFUSALS[check.reason];
      const message = t ? `admin token ${t.id} ('${t.name}') is ${what}${check.reason === 'expired' ? ` (at ${new Date(t.expiresAt).toISOString()})` : ''}; ask an admin for a new one` : 'invalid admin token';
      reply.header('www-authenticate', 'Bearer realm="gatehouse-admin", error="invalid_token"');
      const who = t ? (t.operator ?? `service:${t.service}`) : 'anonymous';
      return refuse(request, reply, who, 'admin.token_refused', 401, type, message, { reason: check.reason, ...(t ? { token: t.id } : {}) });
    }
    const { name, role, token: t } = check.identity;
    const rel = p.slice(ADMIN_PREFIX.length);
    const read = request.method === 'GET' || request.method === 'HEAD';
    const own = p === `${ADMIN_PREFIX}/session` && read;
    const details = { role, token: t.id, scopes: t.scopes };
    if (!own && !permits(role, request.method, rel)) return refuse(request, reply, name, 'admin.denied', 403, 'forbidden', `the ${role} role may not ${request.method} ${p}`, details);
    if (!own && !scopesCover(t.scopes, request.method, rel)) {
      const needed = scopeNeeded(request.method, rel);
      reply.header('www-authenticate', `Bearer realm="gatehouse-admin", error="insufficient_scope", scope="${needed}"`);
      return refuse(request, reply, name, 'admin.denied', 403, 'insufficient_scope', `admin token ${t.id} has scopes ${t.scopes.join(' ')}; ${request.method} ${p} needs ${needed}`, { ...details, needed });
    }
    if (request.method === 'POST' && rel === '/tokens') {
      return refuse(request, reply, name, 'admin.denied', 403, 'forbidden', 'an admin token cannot create admin tokens: sign in as an admin, or use gatehouse tokens create', details);
    }
    identities.set(request.raw, { name, role, via: 'token', tokenId: t.id, scopes: t.scopes });
  };

  return async function operatorAuth(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const p = path(request);
    if (PUBLIC.has(`${request.method} ${p}`)) return;
    const expected = deps.adminToken();
    const auth = request.headers.authorization;
    const token = deps.sessions ? cookieValue(request.headers.cookie, SESSION_COOKIE) : undefined;
    if (auth !== undefined || token === undefined) {
      const presented = bearerToken(auth);
      if (presented !== undefined && deps.tokens && presented.startsWith(TOKEN_PREFIX) && !(expected && adminTokenMatches(presented, expected))) {
        return storeToken(request, reply, p, await deps.tokens.authenticate(presented));
      }
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
