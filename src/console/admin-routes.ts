/**
 * The console's admin API (behind operatorAuthHook, under /admin/v1):
 *   POST   /session                 {name, password} → sets the session and CSRF cookies; {operator, role, csrf}
 *   GET    /session                 → the caller: {name, role, via, csrf?}
 *   DELETE /session                 sign out
 *   GET    /approvals[?status=]     two-person control requests, newest first
 *   GET    /approvals/:id
 *   POST   /approvals/:id/approve   {note?} — a second operator applies the held change
 *   POST   /approvals/:id/reject    {note?}
 *   POST   /approvals/:id/emergency {reason} — the requester applies a held change at once (when configured); it
 *                                   then awaits after-the-fact review (status review-required)
 *   POST   /approvals/:id/review    {note?} — a second operator acknowledges a change applied in an emergency
 *   GET    /console/audit-verify    the audit chain's verification (records, head, first bad record)
 *   GET    /console/models          the catalogue's model names, for the keys page's per-model explanation
 * And a preHandler on the whole admin scope: a directive body's `by` is the signed-in operator's name (callers
 * cannot assert another), and with two-person control on, POST /directives with effect `suspend` (or a PATCH into
 * one), lifting a suspension, and a key revocation past an operator's allowance are held as pending approvals (202)
 * instead of being applied.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { verifyAudit } from '../audit/verify.ts';
import { amendSchema, issueSchema, liftSchema } from '../directives/model.ts';
import type { DirectiveRecord } from '../directives/model.ts';
import type { DirectiveRepository } from '../directives/repository.ts';
import { AdminConflictError, AdminNotFoundError, installErrorHandler } from '../admin/http.ts';
import { formatIssue, jsonSink, PolicyValidationError, zodIssues } from '../core/validation.ts';
import { ApprovalError, type Approval, type ApprovalRepository, type ApprovalStatus } from './approvals.ts';
import { actorOf, callerOf, CSRF_COOKIE, SESSION_COOKIE, type RecordAdmin } from './auth.ts';
import type { ConsoleConfig } from './config.ts';
import { OperatorError, type OperatorRepository } from './operators.ts';
import type { SessionStore } from './sessions.ts';
import { Throttle } from './throttle.ts';

export interface ConsoleAdminDeps {
  config: ConsoleConfig;
  operators: OperatorRepository;
  sessions: SessionStore;
  approvals: ApprovalRepository;
  directives: () => DirectiveRepository | null;
  recordAdmin: RecordAdmin;
  auditPath: string | null;
  /** The catalogue's model names (the keys page explains a key's access to each). */
  models?: () => string[];
  /** Checks a directive against the live catalogue and groups (throws PolicyValidationError), so a held request is valid when made. */
  validateDirective?: (record: DirectiveRecord) => unknown;
  /** API keys, for holding and applying revocations past an operator's allowance (absent: revocations are never held). */
  keys?: KeyAccess;
  now?: () => number;
}

/** What two-person control needs of the API keys: whether one is active, and revoking it. */
export interface KeyAccess {
  status(id: string): Promise<'active' | 'revoked' | null>;
  revoke(id: string, reason: string | undefined): Promise<{ id: string }>;
}

const STATUSES: readonly ApprovalStatus[] = ['pending', 'approved', 'rejected', 'failed', 'expired', 'review-required', 'reviewed'];

/** Key revocations reserved against an operator's allowance, released when the revocation does not happen. */
const reservations = new WeakMap<FastifyRequest, string>();

function send(reply: FastifyReply, status: number, type: string, message: string, extra: Record<string, unknown> = {}) {
  return reply.code(status).send({ error: { type, message, ...extra } });
}

export function cookie(name: string, value: string, opts: { httpOnly: boolean; secure: boolean; maxAge: number; path?: string; sameSite?: 'Strict' | 'Lax' }): string {
  return `${name}=${value}; Path=${opts.path ?? '/'}; SameSite=${opts.sameSite ?? 'Strict'}; Max-Age=${opts.maxAge}${opts.httpOnly ? '; HttpOnly' : ''}${opts.secure ? '; Secure' : ''}`;
}

function note(body: unknown): string | null {
  if (body === undefined || body === null) return null;
  if (typeof body !== 'object' || Array.isArray(body)) throw new ApprovalError(400, 'invalid_request', 'expected a JSON object body ({note?})');
  const { note: n, ...rest } = body as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length) throw new ApprovalError(400, 'invalid_request', `unknown field '${extra[0]}' (expected note)`);
  if (n === undefined) return null;
  if (typeof n !== 'string' || n.length > 2000) throw new ApprovalError(400, 'invalid_request', 'note must be a string of at most 2000 characters');
  return n;
}

/** A held amendment's payload without the directive id it carries. */
function withoutId(payload: Record<string, unknown>): Record<string, unknown> {
  const { id: _id, ...rest } = payload;
  return rest;
}

/** A key revocation's reason from its body or query (undefined: none; null: a malformed body the route refuses). */
function revocationReason(request: FastifyRequest): string | undefined | null {
  const body = request.body as unknown;
  const query = (request.query ?? {}) as Record<string, unknown>;
  if (body === undefined || body === null) return typeof query.reason === 'string' ? query.reason : undefined;
  if (typeof body !== 'object' || Array.isArray(body)) return null;
  const { reason, ...rest } = body as Record<string, unknown>;
  if (Object.keys(rest).length || (reason !== undefined && typeof reason !== 'string')) return null;
  if (typeof reason === 'string' && (reason.length > 500 || /[\u0000-\u001f\u007f]/.test(reason))) return null;
  return (reason as string | undefined) ?? (typeof query.reason === 'string' ? query.reason : undefined);
}

type GuardDeps = Pick<ConsoleAdminDeps, 'config' | 'approvals' | 'recordAdmin' | 'validateDirective' | 'keys'> & { directives?: () => DirectiveRepository | null };

/** A revocation past the operator's allowance within the window is held; one within it is counted. */
async function keyRevocationGuard(deps: GuardDeps, request: FastifyRequest, reply: FastifyReply, keyId: string): Promise<void> {
  const limit = deps.config.twoPersonControl.revokeKeysAbove;
  if (limit === undefined || !deps.keys) return;
  // An unknown or already revoked key, or a malformed body: the keys route gives its own answer.
  if ((await deps.keys.status(keyId)) !== 'active') return;
  const reason = revocationReason(request);
  if (reason === null) return;
  const who = actorOf(request);
  const reserved = await deps.approvals.reserveRevocation(who, keyId, deps.config.twoPersonControl.revokeWindowSeconds * 1000);
  if (reserved.before < limit) {
    reservations.set(request, reserved.id);
    return;
  }
  await deps.approvals.releaseRevocation(reserved.id);
  const approval = await deps.approvals.request('keys.revoke', { id: keyId, ...(reason !== undefined ? { reason } : {}) }, who);
  deps.recordAdmin('approval.requested', who, approval.id, { kind: approval.kind, key: keyId, revokedInWindow: reserved.before, limit });
  return reply.code(202).send({ approval, message: `two-person control: ${who} revoked ${reserved.before} key(s) within ${deps.config.twoPersonControl.revokeWindowSeconds} s (the allowance is ${limit}); this revocation is held until a second operator approves it` }) as unknown as undefined;
}

/** The onResponse hook: a reserved revocation that did not happen (refused, unknown key) does not count. */
export function revocationRelease(approvals: ApprovalRepository) {
  return async function release(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const id = reservations.get(request);
    if (id === undefined) return;
    reservations.delete(request);
    if (reply.statusCode >= 300) await approvals.releaseRevocation(id);
  };
}

/** The preHandler: attribution of directive changes, and holding high-impact changes for a second operator. */
export function directiveGuard(deps: GuardDeps) {
  return async function guard(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const url = request.url.split('?')[0]!;
    if (request.method === 'GET') return;
    const keyOf = request.method === 'DELETE' ? /^\/admin\/v1\/keys\/([^/]+)$/.exec(url)?.[1] : undefined;
    if (keyOf !== undefined) return keyRevocationGuard(deps, request, reply, decodeURIComponent(keyOf));
    if (!url.startsWith('/admin/v1/directives')) return;
    const caller = callerOf(request);
    const body = request.body;
    // A signed-in operator or a store token is named by who it is; only the shared admin token may say `by`.
    if ((caller?.via === 'session' || caller?.tokenId) && body && typeof body === 'object' && !Array.isArray(body)) (body as Record<string, unknown>).by = caller!.name;
    const liftOf = request.method === 'POST' ? /^\/admin\/v1\/directives\/([^/]+)\/lift$/.exec(url)?.[1] : undefined;
    if (liftOf !== undefined) {
      const repo = deps.config.twoPersonControl.liftSuspension ? deps.directives?.() : null;
      if (!repo) return;
      const id = decodeURIComponent(liftOf);
      const current = await repo.get(id);
      // Unknown, already lifted, or not a suspension: the directives route answers (404, 409, or lifts at once).
      if (!current || current.status === 'lifted' || current.effect !== 'suspend') return;
      const payload: Record<string, unknown> = { ...(body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {}), by: actorOf(request) };
      const parsed = liftSchema.safeParse(payload);
      if (!parsed.success) {
        const issues = zodIssues(parsed.error, jsonSink());
        return send(reply, 400, 'invalid_request', issues.map(formatIssue).join('; '), { issues });
      }
      const approval = await deps.approvals.request('directive.lift', { ...parsed.data, id }, actorOf(request));
      deps.recordAdmin('approval.requested', actorOf(request), approval.id, { kind: approval.kind, directive: id, models: current.models, effect: current.effect });
      return reply.code(202).send({ approval, message: 'two-person control: lifting this suspension is held until a second operator approves it' }) as unknown as undefined;
    }
    if (!deps.config.twoPersonControl.suspend) return;
    if (!body || typeof body !== 'object' || Array.isArray(body) || (body as Record<string, unknown>).effect !== 'suspend') return;
    // An amendment that turns a directive into a suspension is as high-impact as issuing one: it is held too.
    const amendOf = request.method === 'PATCH' ? /^\/admin\/v1\/directives\/([^/]+)$/.exec(url)?.[1] : undefined;
    if (amendOf !== undefined) {
      const id = decodeURIComponent(amendOf);
      const amendment: Record<string, unknown> = { ...(body as Record<string, unknown>), by: actorOf(request) };
      const parsed = amendSchema.safeParse(amendment);
      if (!parsed.success) {
        const issues = zodIssues(parsed.error, jsonSink());
        return send(reply, 400, 'invalid_request', issues.map(formatIssue).join('; '), { issues });
      }
      const approval = await deps.approvals.request('directive.amend', { ...amendment, id }, actorOf(request));
      deps.recordAdmin('approval.requested', actorOf(request), approval.id, { kind: approval.kind, directive: id, models: amendment.models, effect: amendment.effect });
      return reply.code(202).send({ approval, message: 'two-person control: this amendment to a suspension is held until a second operator approves it' }) as unknown as undefined;
    }
    if (!(request.method === 'POST' && url === '/admin/v1/directives')) return;
    const payload: Record<string, unknown> = { ...(body as Record<string, unknown>), by: actorOf(request) };
    const parsed = issueSchema.safeParse(payload);
    if (!parsed.success) {
      const issues = zodIssues(parsed.error, jsonSink());
      return send(reply, 400, 'invalid_request', issues.map(formatIssue).join('; '), { issues });
    }
    if (deps.validateDirective) {
      const v = parsed.data;
      const now = Date.now();
      const record: DirectiveRecord = { id: v.id ?? 'pending', models: v.models, population: v.population, effect: v.effect, effectiveAt: v.effectiveAt ?? now, expiresAt: v.expiresAt, authority: v.authority, reference: v.reference, status: 'active', issuedAt: now, issuedBy: v.by, updatedAt: now, liftedAt: null };
      try {
        deps.validateDirective(record);
      } catch (err) {
        if (err instanceof PolicyValidationError) return send(reply, 400, 'invalid_request', err.issues.map(formatIssue).join('; '), { issues: err.issues });
        throw err;
      }
    }
    const approval = await deps.approvals.request('directive.issue', payload, actorOf(request));
    deps.recordAdmin('approval.requested', actorOf(request), approval.id, { kind: approval.kind, models: payload.models, effect: payload.effect });
    return reply.code(202).send({ approval, message: 'two-person control: this suspension is held until a second operator approves it' }) as unknown as undefined;
  };
}

export function registerConsoleAdminRoutes(app: FastifyInstance, deps: ConsoleAdminDeps): void {
  const failedByName = new Throttle(deps.config.maxFailedLogins, deps.config.loginWindowSeconds * 1000, deps.now);
  const failedByIp = new Throttle(deps.config.maxFailedLogins * 4, deps.config.loginWindowSeconds * 1000, deps.now);
  const secure = deps.config.secureCookie;

  // The shared admin error handler answers validation and Fastify errors; this scope adds its own error types.
  app.register(async (outer) => {
    installErrorHandler(outer, 'console');
    outer.register(async (scope) => {
    scope.setErrorHandler((err, _request, reply) => {
      if (err instanceof ApprovalError || err instanceof OperatorError) return send(reply, err.status, err.type, err.message);
      throw err;
    });

    scope.post('/session', async (request, reply) => {
      // Login CSRF: a cross-site form can send text/plain but not application/json without a CORS preflight,
      // which this gateway never grants; so a page elsewhere cannot sign a browser in to an account of its choosing.
      if (!/^application\/json\s*(;|$)/i.test(request.headers['content-type'] ?? '')) return send(reply, 415, 'invalid_request', 'sign in with a JSON body and content-type: application/json');
      const body = request.body as Record<string, unknown> | undefined;
      const name = body && typeof body === 'object' ? body.name : undefined;
      const password = body && typeof body === 'object' ? body.password : undefined;
      if (typeof name !== 'string' || typeof password !== 'string' || !name || !password) return send(reply, 400, 'invalid_request', 'expected a JSON body {name, password}');
      const nameKey = name.slice(0, 100);
      const wait = Math.max(failedByName.retryAfter(nameKey), failedByIp.retryAfter(request.ip));
      if (wait) {
        deps.recordAdmin('console.login_throttled', 'anonymous', nameKey, { ip: request.ip });
        return reply.header('retry-after', String(wait)).code(429).send({ error: { type: 'too_many_attempts', message: `too many failed sign-ins; try again in ${wait} s` } });
      }
      const result = await deps.operators.authenticate(name, password);
      if (!result.ok) {
        failedByName.hit(nameKey);
        failedByIp.hit(request.ip);
        deps.recordAdmin('console.login_failed', 'anonymous', nameKey, { ip: request.ip, reason: result.reason });
        // One message whatever the reason, so sign-in does not reveal which names exist or are disabled.
        return send(reply, 401, 'invalid_credentials', 'sign-in failed: unknown operator, wrong password, or the account is disabled or expired');
      }
      failedByName.reset(nameKey);
      const { token, csrf, session } = await deps.sessions.create(result.operator);
      const maxAge = deps.config.absoluteTimeoutSeconds;
      reply.header('set-cookie', [cookie(SESSION_COOKIE, token, { httpOnly: true, secure, maxAge }), cookie(CSRF_COOKIE, csrf, { httpOnly: false, secure, maxAge })]);
      deps.recordAdmin('console.login', result.operator.name, session.id.slice(0, 16), { ip: request.ip, role: result.operator.role });
      return { operator: result.operator.name, role: result.operator.role, csrf };
    });

    scope.get('/session', async (request) => {
      const c = callerOf(request)!;
      return { name: c.name, role: c.role, via: c.via, ...(c.session ? { csrf: c.session.csrf, signedInAt: c.session.createdAt } : {}), ...(c.tokenId ? { token: c.tokenId, scopes: c.scopes } : {}) };
    });

    scope.delete('/session', async (request, reply) => {
      const c = callerOf(request)!;
      if (c.session) await deps.sessions.end(c.session.id);
      reply.header('set-cookie', [cookie(SESSION_COOKIE, '', { httpOnly: true, secure, maxAge: 0 }), cookie(CSRF_COOKIE, '', { httpOnly: false, secure, maxAge: 0 })]);
      deps.recordAdmin('console.logout', c.name, c.session?.id.slice(0, 16));
      return { signedOut: true };
    });

    scope.get<{ Querystring: { status?: string } }>('/approvals', async (request, reply) => {
      const status = request.query.status;
      if (status !== undefined && !(STATUSES as readonly string[]).includes(status)) return send(reply, 400, 'invalid_request', `query.status: expected one of ${STATUSES.join(', ')}`);
      return { approvals: await deps.approvals.list(status as ApprovalStatus | undefined) };
    });

    scope.get<{ Params: { id: string } }>('/approvals/:id', async (request) => {
      const a = await deps.approvals.get(request.params.id);
      if (!a) throw new ApprovalError(404, 'not_found', `no approval request '${request.params.id}'`);
      return { approval: a };
    });

    /**
     * Applies a held change (approved by a second operator, or by its requester in an emergency) and settles the
     * request with what it produced; a change that can no longer be applied marks the request failed.
     */
    async function apply(approval: Approval, who: string, reply: FastifyReply, how: { emergency: string } | null): Promise<unknown> {
      const payload = approval.payload;
      const tag = how ? `emergency applied by ${approval.requestedBy}: ${how.emergency}; two-person review required, ${approval.id}` : `two-person approval ${approval.id}`;
      const by = (how ? `${approval.requestedBy} (emergency)` : `${approval.requestedBy}, approved by ${who}`).slice(0, 200);
      const done = how ? 'approval.emergency_applied' : 'approval.approved';
      const details = { kind: approval.kind, requestedBy: approval.requestedBy, ...(how ? { reason: how.emergency } : {}) };
      try {
        if (approval.kind === 'keys.revoke') {
          if (!deps.keys) throw new ApprovalError(503, 'unavailable', 'API keys are unavailable on this gateway');
          const reason = `${payload.reason ? `${String(payload.reason)} ` : ''}(${by}; ${tag})`.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 500);
          const key = await deps.keys.revoke(String(payload.id), reason);
          approval = await deps.approvals.settle(approval.id, { resultId: key.id });
          deps.recordAdmin(done, who, approval.id, { ...details, key: key.id });
          return { approval, key };
        }
        const repo = deps.directives();
        if (!repo) throw new ApprovalError(503, 'unavailable', 'no store configured: directives are unavailable');
        const attribution = { by, why: `${String(payload.why)} (${tag})`.slice(0, 2000) };
        const directive =
          approval.kind === 'directive.amend'
            ? await repo.amend(String(payload.id), { ...withoutId(payload), ...attribution })
            : approval.kind === 'directive.lift'
              ? await repo.lift(String(payload.id), attribution)
              : await repo.issue({ ...payload, ...attribution });
        approval = await deps.approvals.settle(approval.id, { resultId: directive.id });
        deps.recordAdmin(done, who, approval.id, { ...details, directive: directive.id });
        return { approval, directive };
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        approval = await deps.approvals.settle(approval.id, { failed: message });
        deps.recordAdmin('approval.failed', who, approval.id, { kind: approval.kind, error: message.slice(0, 500) });
        if (err instanceof ApprovalError) return send(reply, err.status, err.type, err.message, { approval });
        if (err instanceof PolicyValidationError) return send(reply, 400, 'invalid_request', `the held change was not valid and was not applied: ${err.message}`, { issues: err.issues, approval });
        if (err instanceof AdminNotFoundError || err instanceof AdminConflictError) return send(reply, err.adminStatus, err.adminStatus === 404 ? 'not_found' : 'conflict', `the held change could not be applied: ${message}`, { approval });
        throw err;
      }
    }

    scope.post<{ Params: { id: string } }>('/approvals/:id/approve', async (request, reply) => {
      const who = actorOf(request);
      const text = note(request.body);
      let approval;
      try {
        approval = await deps.approvals.decide(request.params.id, who, 'approved', text);
      } catch (err) {
        if (err instanceof ApprovalError && err.type === 'self_approval') deps.recordAdmin('approval.self_refused', who, request.params.id, { ip: request.ip });
        throw err;
      }
      return apply(approval, who, reply, null);
    });

    scope.post<{ Params: { id: string } }>('/approvals/:id/emergency', async (request, reply) => {
      const who = actorOf(request);
      const body = request.body as unknown;
      const reason = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>).reason : undefined;
      const extra = body && typeof body === 'object' && !Array.isArray(body) ? Object.keys(body).filter((k) => k !== 'reason') : [];
      if (typeof reason !== 'string' || !reason.trim() || reason.length > 2000 || extra.length) {
        deps.recordAdmin('approval.emergency_refused', who, request.params.id, { why: 'no reason given' });
        return send(reply, 400, 'invalid_request', extra.length ? `unknown field '${extra[0]}' (expected reason)` : 'an emergency needs a reason: send {"reason": "…"} (a non-empty string of at most 2000 characters)');
      }
      if (!deps.config.twoPersonControl.emergencyApply) {
        deps.recordAdmin('approval.emergency_refused', who, request.params.id, { why: 'emergencies are not enabled' });
        return send(reply, 403, 'emergency_disabled', 'emergency application is not enabled on this gateway (console.twoPersonControl.emergencyApply): a second operator must approve the change');
      }
      let approval;
      try {
        approval = await deps.approvals.emergency(request.params.id, who, reason.trim());
      } catch (err) {
        if (err instanceof ApprovalError) deps.recordAdmin('approval.emergency_refused', who, request.params.id, { why: err.type });
        throw err;
      }
      return apply(approval, who, reply, { emergency: reason.trim() });
    });

    scope.post<{ Params: { id: string } }>('/approvals/:id/review', async (request) => {
      const who = actorOf(request);
      const text = note(request.body);
      try {
        const approval = await deps.approvals.review(request.params.id, who, text);
        deps.recordAdmin('approval.reviewed', who, approval.id, { kind: approval.kind, requestedBy: approval.requestedBy, emergencyReason: approval.emergencyReason, resultId: approval.resultId });
        return { approval };
      } catch (err) {
        if (err instanceof ApprovalError && err.type === 'self_review') deps.recordAdmin('approval.self_refused', who, request.params.id, { ip: request.ip, step: 'review' });
        throw err;
      }
    });

    scope.post<{ Params: { id: string } }>('/approvals/:id/reject', async (request) => {
      const who = actorOf(request);
      const approval = await deps.approvals.decide(request.params.id, who, 'rejected', note(request.body));
      deps.recordAdmin('approval.rejected', who, approval.id, { kind: approval.kind, requestedBy: approval.requestedBy });
      return { approval };
    });

    scope.get('/console/models', async () => ({ models: deps.models ? deps.models() : [] }));

    scope.get('/console/audit-verify', async (_request, reply) => {
      if (!deps.auditPath) return send(reply, 503, 'unavailable', 'the audit log is off on this gateway');
      const r = await verifyAudit(deps.auditPath);
      return { ok: r.ok, records: r.records, checkpoints: r.checkpoints, head: r.head, files: r.files.length, firstBad: r.firstBad };
    });
    });
  });
}
