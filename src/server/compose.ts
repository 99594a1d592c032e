/**
 * Wiring: the one place that knows every capability. Opens the store, runs migrations, builds each
 * capability from its config section, and hands them to the Gateway as gates, sinks, the durable audit sink,
 * readiness checks and admin routes. `gatehouse serve` and the end-to-end tests both start through here.
 *
 * The gate order on the request path is data: `GATE_ORDER` in gate-order.ts (abuse → screening → access →
 * classifier → limits, each with its reason); this file fills one slot per gate.
 */
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { accountAwareAbuseGate } from '../abuse/account-gate.ts';
import { AbuseService } from '../abuse/service.ts';
import { promptSignals } from '../abuse/sketch.ts';
import { registerAbuseAdminRoutes } from '../abuse/admin-routes.ts';
import { actionForScore } from '../abuse/gate.ts';
import { RingReviewRepository } from '../abuse/reviews.ts';
import { AuditLog } from '../audit/log.ts';
import { hmacKeyFrom, keyedTextHasher } from '../audit/record.ts';
import { registerAuditMetrics } from '../audit/metrics.ts';
import { adminRecorder, auditDurableSink, auditReadiness } from '../audit/sink.ts';
import { TextVault } from '../audit/retention.ts';
import { AuditInboxDrain } from '../audit/inbox.ts';
import { auditAdminMutations, registerAuditAdminRoutes } from '../audit/admin-routes.ts';
import type { GatewayConfig } from '../config/schema.ts';
import { conversationText, promptText, type CanonicalRequest } from '../core/canonical.ts';
import type { DurableSink, EventSink, ReadinessCheck, RequestGate } from '../core/gates.ts';
import { registerDirectiveAdminRoutes } from '../directives/admin-routes.ts';
import { createConsole } from '../console/index.ts';
import { callerOf } from '../console/auth.ts';
import { permits } from '../console/roles.ts';
import { scopesCover } from '../console/scopes.ts';
import { registerKeyAdminRoutes, startIdentity } from '../identity/index.ts';
import { ProgrammesService } from '../programmes/index.ts';
import { registerProgrammeAdminRoutes } from '../programmes/admin-routes.ts';
import { registerKycWebhook } from '../programmes/webhook-routes.ts';
import { createRateLimiter, MemoryLimiter } from '../limits/index.ts';
import { seedSpendFromMeter } from '../limits/seed.ts';
import { limitsGate } from '../limits/gate.ts';
import { registerUsageAdminRoutes } from '../meter/admin-routes.ts';
import { Meter } from '../meter/meter.ts';
import { lazyTokenCounter } from '../meter/tokenizer.ts';
import { registerMeterMetrics } from '../meter/metrics.ts';
import { meterSink } from '../meter/sink.ts';
import { createLogger } from '../observability/logger.ts';
import { GatewayMetrics, refusalMetricsSink } from '../observability/metrics.ts';
import { AccessControl } from '../policy/access-control.ts';
import { registerPolicyAdminRoutes } from '../policy/admin-routes.ts';
import { registerOcsfAdminRoutes } from '../ocsf/admin-routes.ts';
import { registerIncidentAdminRoutes } from '../incidents/admin-routes.ts';
import { checkRegimeIds, loadRegimes } from '../incidents/regimes.ts';
import { IncidentRepository } from '../incidents/repository.ts';
import { IncidentTriggers } from '../incidents/triggers.ts';
import { OverdueWatch, overdueMessage } from '../incidents/overdue.ts';
import { ScreeningGate } from '../screening/gate.ts';
import { ScreeningRepository } from '../screening/repository.ts';
import { registerScreeningAdminRoutes } from '../screening/admin-routes.ts';
import { registerExportControlAdminRoutes } from '../export-control/admin-routes.ts';
import { registerReplayAdminRoutes, replayBaseline } from '../replay/admin-routes.ts';
import { ALL_MIGRATIONS } from './migrations.ts';
import { ChangeWatcher } from '../store/changes.ts';
import type { Db } from '../store/db.ts';
import { migrate } from '../store/migrate.ts';
import { openDb, redactUrl } from '../store/open.ts';
import { startStoreProbe } from '../store/probe.ts';
import { attemptedFallbacks } from './catalogue.ts';
import { classifierCapability } from './classifier-capability.ts';
import { orderGates } from './gate-order.ts';
import { Gateway } from './gateway.ts';
import { validateConfigFile } from './validate.ts';
import { approvalEvent, overdueEvent, ringEvent, startNotifications } from './notifications.ts';
import { storeClaims } from '../notify/claims.ts';
import { principalFromKey } from '../identity/principal.ts';

export interface ComposeOptions {
  configPath: string;
  port?: number;
  host?: string;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
}

export interface Composed {
  gateway: Gateway;
  db: Db;
  access: AccessControl;
  abuse: AbuseService | null;
  close(): Promise<void>;
}

function publicModels(config: GatewayConfig): string[] {
  return config.models.map((m) => m.name);
}

type Closers = (() => Promise<void> | void)[];

/**
 * The audit log (with `audit:` configured), its retained-text vault, the durable sink the request path waits on, the
 * key of prompt hashes, the admin recorder every capability records through, the retention purge job and the inbox
 * drain that brings admin actions taken through the CLI into the log.
 */
async function startAudit(config: GatewayConfig, db: Db, watcher: ChangeWatcher, logger: Logger, onProblem: (message: string) => void, closers: Closers) {
  let audit: AuditLog | null = null;
  let vault: TextVault | null = null;
  let durable: DurableSink | null = null;
  let promptKey: Buffer | null = null;
  if (config.audit) {
    const log = await AuditLog.open(config.audit, {
      onProblem: (message) => {
        logger.error({ problem: message }, 'audit log problem');
        onProblem(message);
      },
    });
    audit = log;
    closers.push(() => log.close());
    if (config.audit.retention.enabled) {
      const v = new TextVault(config.audit.retention, Date.now, config.audit.retryIntervalMs);
      vault = v;
      closers.push(() => v.close());
    }
    durable = auditDurableSink(log, vault);
    if (config.audit.textHashKey) promptKey = hmacKeyFrom(config.audit.textHashKey);
  }
  const recordAdmin = adminRecorder(audit, (err, action) => logger.error({ err: err.message, action }, 'audit append failed'));
  // Deleting retained text is itself an audited act: the log says which days were purged and when.
  vault?.startPurgeJob((files) => recordAdmin('retention.purged', 'retention-job', vault!.config.dir, { files, days: vault!.config.days }));

  // Admin actions taken through the CLI (or another tool on the store) arrive through the audit inbox.
  if (audit) {
    const drain = new AuditInboxDrain(db, audit, watcher, { replicaId: `${hostname()}:${process.pid}`, onError: (err) => logger.warn({ err: err.message }, 'audit inbox drain failed') });
    drain.start();
    closers.push(() => drain.stop());
  }
  return { audit, vault, durable, promptKey, recordAdmin };
}

/** What the request path records of a prompt without keeping it: abuse signals (abuse on) and the keyed prompt hash. */
function requestFingerprint(abuseOn: boolean, promptKey: Buffer | null) {
  const hashPrompt = promptKey ? keyedTextHasher(promptKey) : null;
  return (req: CanonicalRequest) => {
    const text = promptText(conversationText(req));
    const out: { promptHash?: string; promptSketch?: string; promptShape?: string; reasoningRequested?: boolean } = {};
    if (abuseOn) Object.assign(out, promptSignals(text));
    if (hashPrompt) out.promptHash = hashPrompt(text);
    return out;
  };
}

export async function composeGateway(opts: ComposeOptions): Promise<Composed> {
  const env = opts.env ?? process.env;
  // Everything `gatehouse config check` checks, reported all at once (ConfigError) before anything starts.
  const initial: GatewayConfig = await validateConfigFile(opts.configPath, env);
  const baseDir = dirname(opts.configPath);
  const logger = opts.logger ?? createLogger(initial.server.logLevel);
  const storeUrl = env.DATABASE_URL || initial.store.url;
  const redisUrl = env.REDIS_URL || initial.redis.url;
  const db = await openDb(storeUrl);
  await migrate(db, ALL_MIGRATIONS);
  logger.info({ store: redactUrl(storeUrl), dialect: db.dialect }, 'store ready');
  const closers: Closers = [];
  const replicaId = `${hostname()}:${process.pid}`;
  const metrics = new GatewayMetrics();

  const watcher = new ChangeWatcher(db, {
    intervalMs: initial.store.pollIntervalMs,
    ...(redisUrl ? { redisUrl } : {}),
    onError: (err) => logger.warn({ err: err.message }, 'change watcher error'),
  });

  // Outbound notifications (webhooks): every source below hands its events to `notify`, which never blocks.
  let accessRef: AccessControl | null = null;
  const notifications = startNotifications({
    config: initial.notifications,
    env,
    source: replicaId,
    claims: storeClaims(db),
    registry: metrics.registry,
    log: (level, fields, message) => logger[level](fields, message),
    watcher,
    directives: () => accessRef?.directivesRepo ?? null,
    incidents: new IncidentRepository(db),
  });
  const notify = notifications.notify;
  closers.push(() => notifications.close());

  // Incidents: opened by hand (admin API, CLI) and by triggers (request events, abuse actions, audit-log problems).
  const regimes = initial.incidents.regimesFile ? loadRegimes(initial.incidents.regimesFile) : loadRegimes();
  const incidentTriggers = new IncidentTriggers(new IncidentRepository(db, initial.audit ? { auditActor: 'incident-trigger' } : {}), initial.incidents.triggers, (err) => logger.warn({ err: err.message }, 'incident trigger failed'));
  closers.push(() => incidentTriggers.flush());

  // Audit first: every other capability records its admin actions through it.
  const { audit, vault, durable, promptKey, recordAdmin } = await startAudit(initial, db, watcher, logger, (message) => {
    incidentTriggers.auditProblem(message);
    // At most one announcement per replica every five minutes, however many writes fail.
    notify({ type: 'audit.failure', time: Date.now(), severity: 'critical', summary: `Audit log problem on ${replicaId}: ${message.slice(0, 300)}`, details: { replica: replicaId, problem: message.slice(0, 2000) }, dedupeKey: `audit:${replicaId}:${Math.floor(Date.now() / 300_000)}` });
  }, closers);
  if (audit) registerAuditMetrics(metrics.registry, audit);
  // Two-person control: a change held for a second operator is announced as it is requested.
  const recordAdminAndNotify = (action: string, actor: string, target?: string, details?: Record<string, unknown>) => {
    recordAdmin(action, actor, target, details);
    if (action === 'approval.requested' && target) notify(approvalEvent(target, actor, details, Date.now()));
  };

  // With an audit log, key, directive and licence changes made through the admin API are recorded as what they are
  // (key.revoked, directive.issued…) through the inbox, besides the admin API call itself (admin.post…).
  const auditActor = audit ? { auditActor: 'admin-api' } : {};
  const incidents = new IncidentRepository(db, { ...auditActor, validateRegimes: (ids) => checkRegimeIds(regimes, ids) });
  const identity = await startIdentity({ db, watcher, config: initial.identity, env, onError: (err) => logger.warn({ err: err.message }, 'key reload failed'), ...auditActor });
  closers.push(() => identity.stop());

  let current = initial;
  const access = new AccessControl({
    db,
    config: { policy: initial.policy, directives: initial.directives },
    models: publicModels(initial),
    watcher,
    baseDir,
    logger,
    fallbacksOf: (model) => attemptedFallbacks(current, model),
    ...auditActor,
  });
  await access.start();
  accessRef = access;
  closers.push(() => access.close());
  // Operator console: sessions and roles on the admin API, two-person control, the /console pages.
  const consoleCap = createConsole({
    db,
    config: initial.console,
    adminToken: () => env[current.admin.tokenEnv] || undefined,
    recordAdmin: recordAdminAndNotify,
    directives: () => access.directivesRepo,
    validateDirective: (record) => access.validateDirective(record),
    keys: {
      status: async (id) => (await identity.repository.get(id))?.status ?? null,
      revoke: (id, reason) => identity.repository.revoke(id, reason),
    },
    models: () => publicModels(current),
    auditPath: audit?.path ?? null,
    env,
    ...(env.GATEHOUSE_CONSOLE_ASSETS ? { assetsDir: env.GATEHOUSE_CONSOLE_ASSETS } : {}),
  });
  // Directives issued under an authority open incidents: checked at start and whenever the directives change.
  const directivesForIncidents = () =>
    void access.directivesRepo?.list({ status: 'active' }).then((list) => incidentTriggers.directivesChanged(list)).catch((err: Error) => logger.warn({ err: err.message }, 'directive incident check failed'));
  directivesForIncidents();
  const offDirectives = watcher.on((topic) => (topic === 'directives' ? directivesForIncidents() : undefined));
  closers.push(() => void offDirectives());
  await watcher.start();
  closers.push(() => watcher.stop());

  const overdue = new OverdueWatch(incidents, regimes, {
    registry: metrics.registry,
    notify: (inc, d, stage) => {
      const message = overdueMessage(inc, d, stage);
      logger.warn({ incident: inc.id, regime: d.regime, rule: d.rule, dueAt: new Date(d.dueAt).toISOString(), stage }, message);
      notify(overdueEvent(inc, d, stage, message, Date.now()));
    },
    onError: (err) => logger.warn({ err: err.message }, 'incident deadline check failed'),
  });
  overdue.start();
  closers.push(() => overdue.stop());
  const meter = new Meter(db, initial.meter, registerMeterMetrics(metrics.registry));
  const tokens = lazyTokenCounter(initial.meter.tokenizer); // loaded when an upstream first omits usage
  closers.push(() => meter.close());

  const limiter = initial.limits && initial.limits.enabled !== false ? await createRateLimiter(initial.limits, redisUrl) : null;
  const limits = limiter ? limitsGate(limiter) : null;
  if (limiter) closers.push(() => limiter.close());
  // Per-replica limiters start empty: carry this month's spend over from the meter so a restart does not reset budgets.
  if (limiter instanceof MemoryLimiter) await seedSpendFromMeter(limiter, db);

  const abuse = initial.abuse && initial.abuse.enabled !== false
    ? new AbuseService(initial.abuse, {
        onAction: (rec) => {
          recordAdmin(rec.action, 'abuse-detector', rec.accountId, rec as unknown as Record<string, unknown>);
          incidentTriggers.ringAction(rec);
          const ring = ringEvent(rec, initial.notifications.ringLevel, Date.now());
          if (ring) notify(ring);
        },
        onError: (err) => logger.warn({ err: err.message }, 'abuse detector error'),
        db,
        watcher,
        ...(redisUrl ? { redisUrl } : {}),
      })
    : null;
  if (abuse) {
    await abuse.start();
    closers.push(() => abuse.stop());
  }
  // Account metadata goes to the audit log too, so replaying the log reproduces live verdicts.
  const abuseGate: RequestGate | null = abuse ? accountAwareAbuseGate(abuse, (meta) => recordAdmin('abuse.account', 'gateway', meta.accountId, meta as unknown as Record<string, unknown>)) : null;

  // Denied-party screening: hits not cleared block the governed models (directive-governed or directives.governedModels).
  const screening = new ScreeningGate(new ScreeningRepository(db), (model) => access.isGoverned(model), (err) => logger.warn({ err: err.message }, 'screening reload failed'));
  await screening.start(watcher);
  closers.push(() => screening.stop());

  // Trusted-access programme grants and KYC verifications, laid over each key's principal on the request path.
  const programmes = new ProgrammesService(db, (err) => logger.warn({ err: err.message }, 'programmes reload failed'), { ...auditActor, notify, expiryWarningMs: () => current.programmes.expiryWarningHours * 3_600_000 });
  await programmes.start(watcher);
  closers.push(() => programmes.stop());
  const kycWebhookSettings = () => {
    const w = current.programmes.kycWebhook;
    const secret = w ? env[w.secretEnv] : undefined;
    return w && secret ? { secret, toleranceSeconds: w.toleranceSeconds } : null;
  };

  const onShadow = (requestId: string, detail: unknown) => logger.info({ requestId, shadow: detail }, 'classifier shadow disagreement');
  let classifier = initial.classify && initial.classify.enabled !== false ? await classifierCapability(initial.classify, env, onShadow) : null;

  // Announced when the store becomes unreachable (not on every failed probe while it stays so).
  const storeProbe = startStoreProbe(db, 2000, (err) =>
    notify({ type: 'store.failure', time: Date.now(), severity: 'critical', summary: `Store unreachable from ${replicaId} (${db.dialect}): ${err.message.slice(0, 300)}`, details: { replica: replicaId, dialect: db.dialect, error: err.message.slice(0, 2000) } }),
  );

  const sinkList: EventSink[] = initial.meter.enabled ? [meterSink(meter)] : [];
  sinkList.push(refusalMetricsSink(metrics));
  sinkList.push(incidentTriggers.sink);
  if (limits) sinkList.push(limits.sink);
  if (abuse) sinkList.push({ name: 'abuse', onEvent: (ev) => abuse.submit(ev) });
  const sinks = Object.freeze(sinkList);
  const readinessList: ReadinessCheck[] = [storeProbe.readiness, identity.readiness, access.readiness];
  if (audit) readinessList.push(auditReadiness(audit, vault));
  if (limits) readinessList.push(limits.readiness);
  const readiness = Object.freeze(readinessList);
  const buildGates = (): readonly RequestGate[] =>
    orderGates({ abuse: abuseGate, screening: screening.gate, access: access.gate, classifier: classifier?.gate ?? null, limits: limits?.gate ?? null });
  let gates = buildGates();

  const fingerprint = requestFingerprint(abuse !== null, promptKey);

  let first = true;
  const gateway = await Gateway.start(
    { configPath: opts.configPath, logger, env, metrics, ...(opts.port !== undefined ? { port: opts.port } : {}), ...(opts.host ? { host: opts.host } : {}) },
    {
      keys: { lookup: (secret) => programmes.enrichLookup(identity.registry.lookup(secret)) },
      // The model catalogue lists what the access decision (directives, policy, licences) allows the caller.
      modelAccess: { allows: (p, model, now) => access.decide(p, model, now).action !== 'refuse', version: () => access.snapshot },
      gates: () => gates,
      sinks: () => sinks,
      durable: () => durable,
      refuseWhenUnaudited: initial.audit?.onWriteFailure !== 'serve',
      readiness: () => readiness,
      fingerprint,
      tokens,
      moderator: (input) => classifier?.moderator(input) ?? null,
      // Reload: validate every section first; apply only if all accept, so a bad policy keeps the old one serving.
      onConfig: async (config) => {
        if (first) {
          first = false;
          return;
        }
        // Build everything that can fail before applying anything; the file gets the same checks as at start.
        await validateConfigFile(opts.configPath, env);
        const nextClassifier = config.classify && config.classify.enabled !== false ? await classifierCapability(config.classify, env, onShadow) : null;
        const result = access.reload({ policy: config.policy, directives: config.directives }, publicModels(config));
        if (!result.ok) throw result.error;
        identity.applyConfig(config.identity, env);
        classifier = nextClassifier;
        gates = buildGates();
        current = config;
        recordAdmin('config.reloaded', 'sighup', opts.configPath);
      },
      adminAuth: consoleCap.adminAuth,
      publicRoutes: (app: FastifyInstance) => {
        registerKycWebhook(app, { repo: programmes.repository, settings: kycWebhookSettings, changed: () => programmes.reload() });
        return consoleCap.registerPublic(app);
      },
      admin: async (app: FastifyInstance) => {
        consoleCap.registerAdmin(app);
        registerKeyAdminRoutes(app, { keys: identity.repository });
        registerPolicyAdminRoutes(app, { access, principalOf: async (keyId) => {
          const k = await identity.repository.get(keyId);
          return k ? programmes.enrichPrincipal(principalFromKey(k)) : undefined;
        } });
        registerDirectiveAdminRoutes(app, { access });
        registerProgrammeAdminRoutes(app, { repo: programmes.repository, names: () => current.programmes.names, changed: () => programmes.reload() });
        registerIncidentAdminRoutes(app, {
          repo: incidents,
          regimes,
          bundle: {
            db,
            auditPath: audit?.path ?? null,
            signingKey: initial.audit?.signingKey ?? null,
            vault,
            actorOf: consoleCap.actorOf,
            recordAdmin,
            // Text goes into a bundle only for a caller who may read retained text on its own (GET /audit/text/…): by
            // role, and for a scoped token by its scopes too.
            textAccessOf: (request) => {
              const caller = callerOf(request);
              if (!caller) return { role: 'unknown', allowed: false };
              const allowed = permits(caller.role, 'GET', '/audit/text/any') && (caller.scopes === undefined || scopesCover(caller.scopes, 'GET', '/audit/text/any'));
              return { role: caller.role, allowed };
            },
          },
        });
        registerScreeningAdminRoutes(app, { repo: new ScreeningRepository(db, auditActor) });
        registerReplayAdminRoutes(app, {
          auditPath: audit?.path ?? null,
          baseline: () => replayBaseline({ access: access.snapshot, classify: current.classify?.enabled === false ? null : (current.classify ?? null), models: publicModels(current), policy: current.policy, baseDir, limits: current.limits ?? null }),
          principals: async () => (await identity.repository.list()).map((k) => programmes.enrichPrincipal(principalFromKey(k))),
        });
        auditAdminMutations(app, recordAdmin, consoleCap.actorOf, consoleCap.credentialOf);
      },
      adminAbsolute: async (app: FastifyInstance) => {
        registerUsageAdminRoutes(app, { db, meter });
        if (audit) registerAuditAdminRoutes(app, { auditPath: audit.path, vault, recordAdmin, actorOf: consoleCap.actorOf });
        registerOcsfAdminRoutes(app, { auditPath: audit?.path ?? null });
        registerExportControlAdminRoutes(app, {
          auditPath: audit?.path ?? null,
          access: () => access.snapshot,
          ledger: async () => (access.licencesRepo ? await access.licencesRepo.list() : []),
          exports: async () => (access.licencesRepo ? await access.licencesRepo.exportsOf() : []),
          principals: async () => (await identity.repository.list()).map((k) => programmes.enrichPrincipal(principalFromKey(k))),
        });
        if (abuse) {
          registerAbuseAdminRoutes(app, {
            rings: () => abuse.rings(),
            actionOf: (id) => abuse.gate.actionOf(id),
            stats: () => abuse.detector.stats(),
            levelOf: (score) => actionForScore(score, abuse.cfg.thresholds),
            reviews: { repo: new RingReviewRepository(db, auditActor), actorOf: consoleCap.actorOf, reviewed: () => abuse.reloadReviews() },
          });
        }
      },
      close: async () => {
        storeProbe.stop();
        for (const c of closers.reverse()) {
          try {
            await c();
          } catch (err) {
            logger.warn({ err: (err as Error).message }, 'error while closing');
          }
        }
        await db.close();
      },
    },
  );
  return { gateway, db, access, abuse, close: () => gateway.close() };
}
