/**
 * The console capability's public interface for the composition root: one object holding the operator store,
 * sessions and approvals, with the admin auth hook, the admin routes and the public /console routes to mount.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { runAsAdminCaller } from '../core/admin-actions.ts';
import type { DirectiveRecord } from '../directives/model.ts';
import type { DirectiveRepository } from '../directives/repository.ts';
import type { Db } from '../store/db.ts';
import { registerConsoleAdminRoutes, directiveGuard, revocationRelease, type KeyAccess } from './admin-routes.ts';
import { ApprovalRepository } from './approvals.ts';
import { ClassifierMarkRepository, registerClassifierReviewRoutes } from './classifier-review.ts';
import { registerOverviewRoutes } from './overview.ts';
import { actorOf, credentialOf, operatorAuthHook, type RecordAdmin } from './auth.ts';
import type { ConsoleConfig } from './config.ts';
import { OidcSignIn } from './oidc.ts';
import { OperatorRepository } from './operators.ts';
import { SessionStore } from './sessions.ts';
import { registerSsoRoutes } from './sso-routes.ts';
import { registerTokenRoutes } from './token-routes.ts';
import { AdminTokenRepository } from './tokens.ts';
import { registerConsoleStatic } from './static.ts';

export { actorOf, credentialOf };
export { configSchema, type ConsoleConfig } from './config.ts';

export interface ConsoleDeps {
  db: Db;
  config: ConsoleConfig;
  adminToken(): string | undefined;
  recordAdmin: RecordAdmin;
  directives: () => DirectiveRepository | null;
  auditPath: string | null;
  /** The catalogue's model names (live: follows config reloads). */
  models?: () => string[];
  /** Checks a directive against the live catalogue (AccessControl.validateDirective). */
  validateDirective?: (record: DirectiveRecord) => unknown;
  /** API keys (status and revocation), for two-person control of key revocations. */
  keys?: KeyAccess;
  /** The process environment (the single sign-on client secret is read from it at sign-in). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Built assets (default: console-ui/dist at the package root). */
  assetsDir?: string;
}

export interface ConsoleCapability {
  operators: OperatorRepository;
  approvals: ApprovalRepository;
  tokens: AdminTokenRepository;
  /** The onRequest hook for every admin scope (replaces the bearer-only check). */
  adminAuth: ReturnType<typeof operatorAuthHook>;
  /** Mounts the console's admin routes and the directive guard on the /admin/v1 scope. */
  registerAdmin(app: FastifyInstance): void;
  /** Mounts /console (no authentication: the page itself signs in through the admin API). */
  registerPublic(app: FastifyInstance): void;
  actorOf(request: FastifyRequest): string;
  /** `session`, `shared-token` or the store token's id: for the audit record's details. */
  credentialOf(request: FastifyRequest): string | undefined;
}

export function createConsole(deps: ConsoleDeps): ConsoleCapability {
  const operators = new OperatorRepository(deps.db);
  const sessions = new SessionStore(deps.db, { idleMs: deps.config.idleTimeoutSeconds * 1000, absoluteMs: deps.config.absoluteTimeoutSeconds * 1000 });
  const approvals = new ApprovalRepository(deps.db, deps.config.twoPersonControl.expireSeconds * 1000);
  const oidcConfig = deps.config.oidc;
  const oidc = deps.config.enabled && oidcConfig ? new OidcSignIn(deps.db, oidcConfig, () => (oidcConfig.clientSecretEnv ? deps.env?.[oidcConfig.clientSecretEnv] : undefined)) : null;
  const tokens = new AdminTokenRepository(deps.db);
  const adminAuth = operatorAuthHook({ adminToken: deps.adminToken, sessions: deps.config.enabled ? sessions : null, tokens, recordAdmin: deps.recordAdmin, maxDeniedPerMinute: deps.config.maxDeniedPerMinute });
  return {
    operators,
    approvals,
    tokens,
    adminAuth,
    actorOf,
    credentialOf,
    registerAdmin(app) {
      // The records a capability writes while handling the call name the authenticated caller (core/admin-actions.ts).
      // Entered in a callback-style preHandler (after the body is parsed) so the handler runs inside it.
      app.addHook('preHandler', (request, _reply, done) => {
        const name = actorOf(request);
        if (name === 'anonymous') return done();
        const credential = credentialOf(request);
        runAsAdminCaller({ actor: name, ...(credential ? { credential } : {}) }, done);
      });
      app.addHook('preHandler', directiveGuard({ config: deps.config, approvals, recordAdmin: deps.recordAdmin, directives: deps.directives, ...(deps.keys ? { keys: deps.keys } : {}), ...(deps.validateDirective ? { validateDirective: deps.validateDirective } : {}) }));
      app.addHook('onResponse', revocationRelease(approvals));
      registerTokenRoutes(app, { tokens, recordAdmin: deps.recordAdmin });
      if (!deps.config.enabled) return;
      registerConsoleAdminRoutes(app, { config: deps.config, operators, sessions, approvals, directives: deps.directives, recordAdmin: deps.recordAdmin, auditPath: deps.auditPath, ...(deps.models ? { models: deps.models } : {}), ...(deps.keys ? { keys: deps.keys } : {}) });
      registerSsoRoutes(app, { config: deps.config, oidc, operators, sessions, recordAdmin: deps.recordAdmin });
      registerClassifierReviewRoutes(app, { auditPath: deps.auditPath, marks: new ClassifierMarkRepository(deps.db), recordAdmin: deps.recordAdmin, actorOf });
      registerOverviewRoutes(app, { auditPath: deps.auditPath });
    },
    registerPublic(app) {
      if (deps.config.enabled) registerConsoleStatic(app, deps.assetsDir ? { dir: deps.assetsDir } : {});
    },
  };
}
