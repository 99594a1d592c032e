/**
 * AccessControl: the gateway's entry point to policy, directives and licences.
 *
 *   const access = new AccessControl({ db, config: { policy: cfg.policy, directives: cfg.directives }, models, watcher });
 *   await access.start();                      // loads the policy file (throws PolicyValidationError) and the store
 *   gates: () => [access.gate, …]              // or access.decide(principal, model, now) directly
 *   readiness: () => [access.readiness, …]
 *
 * Holds one immutable AccessSnapshot; a policy reload, a directive change or a licence change builds a new one
 * and swaps the pointer, so `decide` never sees a half-applied change and never touches the store.
 */
import { resolve } from 'node:path';
import type { GateInput, ReadinessCheck, RequestGate } from '../core/gates.ts';
import type { Principal, Verdict } from '../core/types.ts';
import type { DirectivesConfig } from '../directives/config.ts';
import { compileDirective, type CompiledDirective, type DirectiveRecord } from '../directives/model.ts';
import { DirectiveRepository, DIRECTIVES_TOPIC } from '../directives/repository.ts';
import { DirectiveSync } from './sync.ts';
import type { ChangeWatcher } from '../store/changes.ts';
import type { Db } from '../store/db.ts';
import { CompiledPolicy, loadPolicyFile } from './compile.ts';
import type { PolicyConfig } from './config.ts';
import { loadGroups, type GroupTable } from '../population/groups.ts';
import { LicenceRepository, LICENCES_TOPIC } from './licence-repository.ts';
import { LicenceIndex, type LicenceRecord } from './licences.ts';
import { compileModelMatcher, type ModelMatcher } from '../population/models.ts';
import { AccessSnapshot, type Explanation } from './snapshot.ts';
import { PolicyValidationError } from '../core/validation.ts';

export interface AccessControlDeps {
  /** The store holding directives and licences; null runs policy-only (no directives, no licences). */
  db: Db | null;
  config: { policy: PolicyConfig; directives: DirectivesConfig };
  /** Public model names from the catalogue; validation rejects names outside it. Empty accepts any. */
  models: readonly string[];
  /** Shared change watcher: directive/licence changes on other replicas wake the sync at once. */
  watcher?: ChangeWatcher;
  /** Directory that relative paths in the config are resolved against (the config file's directory). */
  baseDir?: string;
  logger?: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
  now?: () => number;
  /** Set by the CLI: directive and licence changes then reach the audit log through the store's audit inbox. */
  auditActor?: string;
  /**
   * A model's fallbacks, in the order the gateway attempts them. With it, `explain` shows the decision for every
   * model of the attempt plan (fallbacks are decided for the principal before they are tried).
   */
  fallbacksOf?: (model: string) => readonly string[];
}

/** One model of an attempt plan and the access decision for it. */
export interface PlanDecision {
  model: string;
  decision: 'allow' | 'refuse' | 'route';
  code?: string;
  to?: string;
  decidedBy: string;
}

const MAX_EXPLAINED_ROUTES = 4;

export class AccessControl {
  private snap: AccessSnapshot;
  private groups: GroupTable;
  private models: readonly string[];
  private config: AccessControlDeps['config'];
  private readonly sync: DirectiveSync | null;
  private readonly now: () => number;
  private governedByConfig: ModelMatcher;
  private directiveRecords: DirectiveRecord[] = [];
  private licenceRecords: LicenceRecord[] = [];
  readonly directivesRepo: DirectiveRepository | null;
  readonly licencesRepo: LicenceRepository | null;

  /** Request gate: directives then policy. */
  readonly gate: RequestGate = { name: 'access', check: (input: GateInput) => this.decide(input.principal, input.model, input.now) };

  /** /readyz line: directives freshness. */
  readonly readiness: ReadinessCheck = {
    name: 'directives',
    check: () => {
      if (!this.sync) return { ok: true, detail: 'no store: policy only' };
      const s = this.sync.status(this.now());
      return { ok: s.fresh, detail: s.lastSyncAt === null ? 'never synced' : `${s.fresh ? 'fresh' : 'STALE'}, last sync ${new Date(s.lastSyncAt).toISOString()}` };
    },
  };

  constructor(private readonly deps: AccessControlDeps) {
    this.now = deps.now ?? Date.now;
    this.config = deps.config;
    this.models = deps.models;
    this.groups = loadGroups(this.paths(deps.config.policy.countryGroupFiles));
    this.snap = AccessSnapshot.empty(deps.models);
    this.governedByConfig = compileModelMatcher(deps.config.directives.governedModels);
    // Read-your-writes: a directive or licence changed through this process is in force here before the call
    // returns (other replicas follow through the watcher).
    const publish = async (topic: string) => {
      await deps.watcher?.publish(topic);
      await this.refresh().catch(() => {});
    };
    this.directivesRepo = deps.db ? new DirectiveRepository(deps.db, { validate: (r) => this.validateDirective(r), onChange: publish, now: this.now, ...(deps.auditActor ? { auditActor: deps.auditActor } : {}) }) : null;
    this.licencesRepo = deps.db ? new LicenceRepository(deps.db, { context: () => ({ groups: this.currentGroups(), models: this.models }), onChange: publish, now: this.now, ...(deps.auditActor ? { auditActor: deps.auditActor } : {}) }) : null;
    this.sync = deps.db
      ? new DirectiveSync(deps.db, {
          ...(deps.watcher ? { watcher: deps.watcher } : {}),
          pollIntervalMs: deps.config.directives.pollIntervalMs,
          staleAfterMs: deps.config.directives.staleAfterMs,
          now: this.now,
          onDirectives: (list) => this.applyDirectives(list),
          onLicences: (list) => this.applyLicences(list),
          onError: (err) => deps.logger?.warn({ err: err.message }, 'directive sync failed; keeping last known directives'),
        })
      : null;
  }

  /** Loads the policy (throws PolicyValidationError: a bad policy must stop start-up) and the store view. */
  async start(): Promise<void> {
    this.snap = this.snap.with({ policy: this.loadPolicy(this.config.policy) });
    if (this.sync) {
      try {
        await this.sync.start();
      } catch (err) {
        // Keep serving with whatever we have; readiness reports it and fail-closed applies.
        this.deps.logger?.warn({ err: (err as Error).message }, 'directive store unreachable at start');
      }
    }
  }

  get snapshot(): AccessSnapshot {
    return this.snap;
  }

  /** True for a governed model: one a directive governs, or one `directives.governedModels` names. */
  isGoverned(model: string): boolean {
    return this.snap.isDirectiveGoverned(model) || this.governedByConfig.matches(model);
  }

  decide(p: Principal, model: string, now: number = this.now()): Verdict {
    const snap = this.snap;
    if (this.sync && this.config.directives.failClosedWhenStale && !this.sync.isFresh(now) && (snap.isDirectiveGoverned(model) || this.governedByConfig.matches(model))) {
      return STALE;
    }
    return snap.decide(p, model, now);
  }

  explain(p: Principal, model: string, now: number = this.now()): Explanation & { stale?: boolean; plan?: PlanDecision[] } {
    const ex: Explanation & { stale?: boolean; plan?: PlanDecision[] } = this.snap.explain(p, model, now);
    const verdict = this.decide(p, model, now);
    const out = verdict === STALE ? { ...ex, verdict, decidedBy: 'fail-closed: directives view is stale', stale: true } : ex;
    if (this.deps.fallbacksOf) out.plan = this.explainPlan(p, model, now);
    return out;
  }

  /**
   * The access decision for every model that may serve a request for `model`: the model itself (following its
   * routes), then the fallbacks of the model that serves, each decided on its own as the gateway does before
   * trying it.
   */
  private explainPlan(p: Principal, model: string, now: number): PlanDecision[] {
    const plan: PlanDecision[] = [];
    const entry = (m: string): PlanDecision => {
      const v = this.decide(p, m, now);
      const decidedBy = v === STALE ? 'fail-closed: directives view is stale' : this.snap.explain(p, m, now).decidedBy;
      if (v.action === 'allow') return { model: m, decision: 'allow', decidedBy };
      if (v.action === 'route') return { model: m, decision: 'route', to: v.model, code: v.code, decidedBy };
      return { model: m, decision: 'refuse', code: v.code, decidedBy };
    };
    let serving = model;
    for (let hops = 0; ; hops++) {
      const e = entry(serving);
      plan.push(e);
      if (e.decision !== 'route' || hops >= MAX_EXPLAINED_ROUTES) break;
      serving = e.to!;
    }
    if (plan[plan.length - 1]!.decision === 'refuse') return plan;
    for (const f of this.deps.fallbacksOf!(serving)) plan.push(entry(f));
    return plan;
  }

  syncStatus() {
    return this.sync?.status(this.now()) ?? { fresh: true, lastSyncAt: null, directivesRevision: null, licencesRevision: null };
  }

  /** Forces a store re-read now (used by tests and after local writes). */
  async refresh(): Promise<void> {
    await this.sync?.sync();
  }

  /**
   * Reloads the policy file and groups (e.g. on SIGHUP). A bad policy is rejected and the running one kept.
   * Returns the error instead of throwing.
   */
  reload(config: AccessControlDeps['config'] = this.config, models: readonly string[] = this.models): { ok: true } | { ok: false; error: PolicyValidationError | Error } {
    try {
      const groups = loadGroups(this.paths(config.policy.countryGroupFiles));
      const prevGroups = this.groups;
      const prevModels = this.models;
      this.groups = groups;
      this.models = models;
      let policy: CompiledPolicy;
      try {
        policy = this.loadPolicy(config.policy);
      } catch (err) {
        this.groups = prevGroups;
        this.models = prevModels;
        throw err;
      }
      this.config = config;
      this.governedByConfig = compileModelMatcher(config.directives.governedModels);
      // Directives and licences may name groups the new policy redefines: recompile them against its groups.
      this.snap = new AccessSnapshot(policy, this.compileDirectives(this.directiveRecords, policy.groups), this.buildLicences(this.licenceRecords, policy.groups), models);
      return { ok: true };
    } catch (err) {
      return { ok: false, error: err as Error };
    }
  }

  /** Semantic check of a directive against the live catalogue, groups and policy routes (throws). */
  validateDirective(record: DirectiveRecord): CompiledDirective {
    return compileDirective(record, { groups: this.currentGroups(), models: this.models, routeEdges: this.snap.policy.routeEdges });
  }

  async close(): Promise<void> {
    await this.sync?.stop();
  }

  /** The policy's groups (shipped + operator files + the policy's own), or the base table before a policy loads. */
  private currentGroups(): GroupTable {
    return this.snap.policy.groups.size ? this.snap.policy.groups : this.groups;
  }

  private loadPolicy(cfg: PolicyConfig): CompiledPolicy {
    if (!cfg.file) return new CompiledPolicy([], this.groups, cfg.default ?? 'allow', new Map(), '(none)', this.models);
    return loadPolicyFile(this.paths([cfg.file])[0]!, { models: this.models, groups: this.groups, ...(cfg.default ? { defaultAction: cfg.default } : {}) });
  }

  private paths(files: readonly string[]): string[] {
    return files.map((f) => resolve(this.deps.baseDir ?? process.cwd(), f));
  }

  private applyDirectives(list: DirectiveRecord[]): void {
    this.directiveRecords = list;
    this.snap = this.snap.with({ directives: this.compileDirectives(list, this.currentGroups()) });
    this.deps.logger?.info({ directives: list.filter((d) => d.status === 'active').length }, 'directives loaded');
  }

  private applyLicences(list: LicenceRecord[]): void {
    this.licenceRecords = list;
    this.snap = this.snap.with({ licences: this.buildLicences(list, this.currentGroups()) });
  }

  private buildLicences(list: readonly LicenceRecord[], groups: GroupTable): LicenceIndex {
    return LicenceIndex.build(list, groups, (id, why) => this.deps.logger?.warn({ licence: id, why }, 'licence skipped'));
  }

  /**
   * Stored directives were validated when written; here they are compiled leniently (no catalogue check) so a
   * model removed from the catalogue later cannot make a directive silently disappear. One that no longer
   * compiles (e.g. a country group removed) is logged and, being unenforceable, reported.
   */
  private compileDirectives(list: readonly DirectiveRecord[], groups: GroupTable): CompiledDirective[] {
    const out: CompiledDirective[] = [];
    for (const d of list) {
      if (d.status !== 'active') continue;
      try {
        out.push(compileDirective(d, { groups, models: [] }));
      } catch (err) {
        this.deps.logger?.warn({ directive: d.id, err: (err as Error).message }, 'stored directive no longer compiles; it is not enforced');
      }
    }
    return out;
  }
}

const STALE: Verdict = Object.freeze({
  action: 'refuse' as const,
  status: 503,
  code: 'directives_stale',
  message: 'This model is governed by directives and this gateway cannot currently confirm which are in force. Try again shortly.',
});

export { DIRECTIVES_TOPIC, LICENCES_TOPIC };
