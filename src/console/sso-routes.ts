/**
 * Single sign-on routes (no authentication: they are how an operator gets a session), under /admin/v1:
 *   GET /session/methods          → {password: true, sso: {label, url} | null}: what the console's sign-in page offers
 *   GET /session/oidc             → 303 to the identity provider, with a short-lived sign-in cookie (gh_oidc)
 *   GET /session/oidc/callback    the provider's redirect: on success the session and CSRF cookies (as for a local
 *                                 sign-in) and 303 to the console; otherwise the refusal's status with its message
 *                                 (a small HTML page for a browser, JSON `{error: {type, message}}` otherwise)
 * Every finished sign-in is an audit record (`console.sso_login`), every refusal too (`console.sso_failed`, with
 * the reason); failed sign-ins per client address are throttled like local ones (`console.login_throttled`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { cookie } from './admin-routes.ts';
import { cookieValue, CSRF_COOKIE, SESSION_COOKIE, type RecordAdmin } from './auth.ts';
import { OIDC_CALLBACK_PATH, type ConsoleConfig } from './config.ts';
import type { OidcRefusal, OidcSignIn } from './oidc.ts';
import { LOGIN_TTL_MS } from './oidc.ts';
import type { OperatorRepository } from './operators.ts';
import type { SessionStore } from './sessions.ts';
import { Throttle } from './throttle.ts';

export const OIDC_COOKIE = 'gh_oidc';
/** Sign-ins one client address may start per minute. */
export const STARTS_PER_MINUTE = 30;

export interface SsoRouteDeps {
  config: ConsoleConfig;
  oidc: OidcSignIn | null;
  operators: OperatorRepository;
  sessions: SessionStore;
  recordAdmin: RecordAdmin;
  now?: () => number;
}

const HTML_HEADERS = {
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function registerSsoRoutes(app: FastifyInstance, deps: SsoRouteDeps): void {
  const secure = deps.config.secureCookie;
  const oidc = deps.oidc;
  const failedByIp = new Throttle(deps.config.maxFailedLogins * 4, deps.config.loginWindowSeconds * 1000, deps.now);
  // Each start keeps a pending sign-in in the store: bounded per client address so they cannot be piled up.
  const startsByIp = new Throttle(STARTS_PER_MINUTE, 60_000, deps.now);
  // Where the console is and where the sign-in cookie applies, from the public redirect URL (so a path prefix added
  // by a reverse proxy is kept).
  const base = oidc ? new URL(oidc.config.redirectUrl) : null;
  const prefix = base ? base.pathname.slice(0, -OIDC_CALLBACK_PATH.length) : '';
  const consoleUrl = base ? `${base.origin}${prefix}/console/` : '/console/';
  const cookiePath = `${prefix}/admin/v1/session/oidc`;
  const clearLoginCookie = cookie(OIDC_COOKIE, '', { httpOnly: true, secure, maxAge: 0, path: cookiePath, sameSite: 'Lax' });

  const answer = (request: FastifyRequest, reply: FastifyReply, r: OidcRefusal) => {
    reply.code(r.status).header('set-cookie', clearLoginCookie);
    if (r.status === 429) reply.header('retry-after', String(deps.config.loginWindowSeconds));
    if (!/text\/html/.test(request.headers.accept ?? '')) return reply.send({ error: { type: r.type, message: r.message } });
    const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-in refused</title></head><body><main><h1>Sign-in refused</h1><p role="alert"><code>${escapeHtml(r.type)}</code>: ${escapeHtml(r.message)}</p><p><a href="${escapeHtml(consoleUrl)}">Back to the console</a></p></main></body></html>\n`;
    return reply.headers(HTML_HEADERS).header('content-type', 'text/html; charset=utf-8').send(page);
  };
  const fail = (request: FastifyRequest, reply: FastifyReply, r: OidcRefusal) => {
    failedByIp.hit(request.ip);
    const actor = typeof r.details?.name === 'string' ? r.details.name : 'anonymous';
    deps.recordAdmin('console.sso_failed', actor, r.reason, { ip: request.ip, type: r.type, status: r.status, message: r.message, ...(r.details ?? {}) });
    return answer(request, reply, r);
  };
  const throttled = (request: FastifyRequest, reply: FastifyReply) => {
    const wait = failedByIp.retryAfter(request.ip);
    if (!wait) return null;
    deps.recordAdmin('console.login_throttled', 'anonymous', 'sso', { ip: request.ip });
    return answer(request, reply, { status: 429, type: 'too_many_attempts', reason: 'throttled', message: `too many failed sign-ins from this address; try again in ${wait} s` });
  };
  const notConfigured: OidcRefusal = { status: 404, type: 'sso_not_configured', reason: 'not-configured', message: 'single sign-on is not configured on this gateway (console.oidc)' };

  app.get('/session/methods', async () => ({ password: true, sso: oidc ? { label: oidc.config.label, url: `${prefix}/admin/v1/session/oidc` } : null }));

  app.get('/session/oidc', async (request, reply) => {
    if (!oidc) return answer(request, reply, notConfigured);
    const wait = throttled(request, reply);
    if (wait) return wait;
    const busy = startsByIp.retryAfter(request.ip);
    if (busy) {
      deps.recordAdmin('console.login_throttled', 'anonymous', 'sso-start', { ip: request.ip });
      return answer(request, reply, { status: 429, type: 'too_many_attempts', reason: 'throttled', message: `too many sign-ins started from this address; try again in ${busy} s` });
    }
    startsByIp.hit(request.ip);
    const started = await oidc.begin();
    if (!started.ok) return fail(request, reply, started.refusal);
    return reply
      .code(303)
      .header('set-cookie', cookie(OIDC_COOKIE, started.cookie, { httpOnly: true, secure, maxAge: LOGIN_TTL_MS / 1000, path: cookiePath, sameSite: 'Lax' }))
      .header('cache-control', 'no-store')
      .header('location', started.url)
      .send();
  });

  app.get('/session/oidc/callback', async (request, reply) => {
    if (!oidc) return answer(request, reply, notConfigured);
    const wait = throttled(request, reply);
    if (wait) return wait;
    const q = request.url.indexOf('?');
    const outcome = await oidc.finish(cookieValue(request.headers.cookie, OIDC_COOKIE), q < 0 ? '' : request.url.slice(q));
    if (!outcome.ok) return fail(request, reply, outcome.refusal);
    const id = outcome.identity;
    const account = await deps.operators.signInFromProvider({ name: id.name, role: id.role, subject: id.subject });
    if (!account.ok) {
      const message =
        account.reason === 'name-taken'
          ? `the operator name '${id.name}' belongs to a local account or to another identity-provider account; ask an admin to rename one of them`
          : `the operator account '${id.name}' is ${account.reason === 'disabled' ? 'disabled' : 'expired'}`;
      return fail(request, reply, { status: 403, type: account.reason === 'name-taken' ? 'sso_name_taken' : 'sso_account_disabled', reason: account.reason, message, details: { name: id.name, subject: id.subject } });
    }
    const { token, csrf, session } = await deps.sessions.create(account.operator);
    const maxAge = deps.config.absoluteTimeoutSeconds;
    reply.header('set-cookie', [cookie(SESSION_COOKIE, token, { httpOnly: true, secure, maxAge }), cookie(CSRF_COOKIE, csrf, { httpOnly: false, secure, maxAge }), clearLoginCookie]);
    deps.recordAdmin('console.sso_login', id.name, session.id.slice(0, 16), { ip: request.ip, role: id.role, subject: id.subject, matched: id.matched });
    return reply.code(303).header('cache-control', 'no-store').header('location', consoleUrl).send();
  });
}
