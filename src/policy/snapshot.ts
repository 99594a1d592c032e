/**
 * The immutable decision snapshot: policy + directives + licences, compiled and indexed. `decide` is a pure
 * function of (snapshot, principal, model, time); replacing any part builds a new snapshot and callers swap one
 * pointer. Matching semantics (docs/policy.md):
 *   1. Directives in force for the model whose population matches: deny-overrides — any `suspend` refuses;
 *      otherwise an unmet `require-licence` refuses; otherwise the earliest `route` routes.
 *   2. Policy rules in file order: the first rule whose models and `when` match decides.
 *   3. Nothing matched: the default (allow unless configured `deny`).
 */
import type { Principal, Verdict } from '../core/types.ts';
import type { CompiledDirective } from '../directives/model.ts';
import { CompiledPolicy, type CompiledRule } from './compile.ts';
import { LicenceIndex, type CompiledLicence } from './licences.ts';
import type { MatchEnv } from '../population/predicates.ts';

export interface DirectiveTrace {
  id: string;
  effect: string;
  state: 'in-force' | 'scheduled' | 'expired';
  matched: boolean;
  reasons: string[];
  outcome?: string;
}
export interface RuleTrace {
  id: string;
  index: number;
  action: string;
  matched: boolean;
  reasons: string[];
}
export interface Explanation {
  model: string;
  at: string;
  principal: { keyId: string; accountId: string; orgId: string | null; nationalities: readonly string[]; residence: string | null; kyc: string; programmes: readonly string[]; staff: boolean; tier: string };
  directives: DirectiveTrace[];
  rules: RuleTrace[];
  licences: Array<{ id: string; covers: boolean; why: string }>;
  decidedBy: string;
  verdict: Verdict;
}

interface Trace {
  directives: DirectiveTrace[];
  rules: RuleTrace[];
  decidedBy: string;
}

const ALLOW: Verdict = Object.freeze({ action: 'allow' as const });
const NO_DIRECTIVES: readonly CompiledDirective[] = Object.freeze([]);

/** Reused between decisions (decide is synchronous): memoises the licence lookup for one decision. */
class Env implements MatchEnv {
  p!: Principal;
  model!: string;
  now = 0;
  looked = false;
  found: CompiledLicence | null = null;
  constructor(private readonly licences: LicenceIndex) {}
  reset(p: Principal, model: string, now: number): void {
    this.p = p;
    this.model = model;
    this.now = now;
    this.looked = false;
    this.found = null;
  }
  licence(): CompiledLicence | null {
    if (!this.looked) {
      this.looked = true;
      this.found = this.licences.find(this.p, this.model, this.now);
    }
    return this.found;
  }
}

export class AccessSnapshot {
  private readonly directivesByModel = new Map<string, readonly CompiledDirective[]>();
  private readonly env: Env;
  /** Models named by any directive that is not lifted (in force, scheduled or expired), for fail-closed. */
  private readonly governed: (model: string) => boolean;

  constructor(
    readonly policy: CompiledPolicy,
    readonly directives: readonly CompiledDirective[],
    readonly licences: LicenceIndex,
    readonly models: readonly string[],
  ) {
    this.env = new Env(licences);
    for (const m of models) this.directivesByModel.set(m, this.buildDirectiveIndex(m));
    this.governed = (model) => this.directivesFor(model).length > 0;
  }

  static empty(models: readonly string[] = []): AccessSnapshot {
    return new AccessSnapshot(CompiledPolicy.EMPTY, [], LicenceIndex.EMPTY, models);
  }

  with(parts: { policy?: CompiledPolicy; directives?: readonly CompiledDirective[]; licences?: LicenceIndex; models?: readonly string[] }): AccessSnapshot {
    return new AccessSnapshot(parts.policy ?? this.policy, parts.directives ?? this.directives, parts.licences ?? this.licences, parts.models ?? this.models);
  }

  isDirectiveGoverned(model: string): boolean {
    return this.governed(model);
  }

  private directivesFor(model: string): readonly CompiledDirective[] {
    let list = this.directivesByModel.get(model);
    if (!list) {
      list = this.buildDirectiveIndex(model);
      if (this.directivesByModel.size < 10_000) this.directivesByModel.set(model, list);
    }
    return list;
  }

  private buildDirectiveIndex(model: string): readonly CompiledDirective[] {
    const list = this.directives.filter((d) => d.record.status === 'active' && d.models.matches(model));
    if (list.length === 0) return NO_DIRECTIVES;
    return list.sort((a, b) => a.record.effectiveAt - b.record.effectiveAt || (a.id < b.id ? -1 : 1));
  }

  decide(p: Principal, model: string, now: number): Verdict {
    return this.run(p, model, now, null);
  }

  explain(p: Principal, model: string, now: number): Explanation {
    const trace: Trace = { directives: [], rules: [], decidedBy: '' };
    const verdict = this.run(p, model, now, trace);
    return {
      model,
      at: new Date(now).toISOString(),
      principal: { keyId: p.keyId, accountId: p.accountId, orgId: p.orgId, nationalities: p.nationalities, residence: p.residence, kyc: p.kyc, programmes: p.programmes, staff: p.staff, tier: p.tier },
      directives: trace.directives,
      rules: trace.rules,
      licences: this.licences.candidates(p, model, now),
      decidedBy: trace.decidedBy,
      verdict,
    };
  }

  private run(p: Principal, model: string, now: number, trace: Trace | null): Verdict {
    const env = this.env;
    env.reset(p, model, now);
    // 1. Directives (deny-overrides).
    const ds = this.directivesFor(model);
    let needLicence: CompiledDirective | null = null;
    let licensedBy: CompiledDirective | null = null;
    let route: CompiledDirective | null = null;
    for (let i = 0; i < ds.length; i++) {
      const d = ds[i]!;
      const r = d.record;
      const inForce = now >= r.effectiveAt && (r.expiresAt === null || now < r.expiresAt);
      let matched: boolean;
      if (trace) {
        const state = inForce ? 'in-force' : now < r.effectiveAt ? 'scheduled' : 'expired';
        const ex = inForce ? d.population.explain(p, env) : { matched: false, reasons: [`not in force at ${new Date(now).toISOString()}`] };
        trace.directives.push({ id: d.id, effect: r.effect, state, matched: ex.matched, reasons: ex.reasons });
        matched = ex.matched;
      } else matched = inForce && d.population.match(p, env);
      if (!matched) continue;
      if (d.kind === 'suspend') {
        if (trace) {
          trace.directives[trace.directives.length - 1]!.outcome = 'suspends access (deny-overrides: no later directive or rule is considered)';
          trace.decidedBy = `directive ${d.id}`;
        }
        return d.verdict;
      }
      if (d.kind === 'require-licence') {
        const lic = env.licence();
        if (lic === null) needLicence ??= d;
        else licensedBy ??= d;
        if (trace) trace.directives[trace.directives.length - 1]!.outcome = lic ? `requires a licence: satisfied by ${lic.id}` : 'requires a licence: none held';
      } else route ??= d;
    }
    if (needLicence) {
      if (trace) trace.decidedBy = `directive ${needLicence.id}`;
      return needLicence.verdict;
    }
    if (route) {
      if (trace) trace.decidedBy = `directive ${route.id}`;
      return route.verdict;
    }
    // 2. Policy rules, first match.
    const rules = this.policy.rulesFor(model, p.orgId);
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!;
      let matched: boolean;
      if (trace) {
        const ex = rule.population.explain(p, env);
        trace.rules.push({ id: rule.id, index: rule.index, action: rule.action, matched: ex.matched, reasons: ex.reasons });
        matched = ex.matched;
      } else matched = rule.population.match(p, env);
      if (!matched) continue;
      if (trace) trace.decidedBy = `rule ${rule.id}`;
      return this.apply(rule, p, env, licensedBy);
    }
    if (trace) trace.decidedBy = `default (${this.policy.defaultAction})`;
    if (licensedBy && this.policy.defaultAction === 'allow') return { action: 'allow', ref: { directive: licensedBy.id, licence: env.found!.id } };
    return this.policy.defaultAction === 'allow' ? ALLOW : this.policy.defaultVerdict;
  }

  private apply(rule: CompiledRule, p: Principal, env: Env, licensedBy: CompiledDirective | null): Verdict {
    if (rule.action === 'require') {
      let missing = 0;
      if (rule.requireLicence && env.licence() === null) missing |= MISSING_LICENCE;
      if (rule.requireKyc >= 0 && kycRank(p.kyc) < rule.requireKyc) missing |= MISSING_KYC;
      if (rule.requireProgramme !== null && !p.programmes.includes(rule.requireProgramme)) missing |= MISSING_PROGRAMME;
      if (missing !== 0) return requireRefusal(rule, missing);
    }
    const lic = env.found;
    if (lic !== null && rule.verdict.action !== 'refuse') {
      return { ...rule.verdict, ref: { rule: rule.id, licence: lic.id, ...(licensedBy ? { directive: licensedBy.id } : {}) } } as Verdict;
    }
    return rule.verdict;
  }
}

const MISSING_LICENCE = 1;
const MISSING_KYC = 2;
const MISSING_PROGRAMME = 4;
/** Refusals of `require` rules, one per (rule, set of missing requirements), built on first use. */
const requireRefusals = new WeakMap<CompiledRule, Verdict[]>();

function requireRefusal(rule: CompiledRule, missing: number): Verdict {
  let cache = requireRefusals.get(rule);
  if (!cache) requireRefusals.set(rule, (cache = []));
  let v = cache[missing];
  if (!v) {
    const requires: string[] = [];
    if (missing & MISSING_LICENCE) requires.push('licence');
    if (missing & MISSING_KYC) requires.push(`kyc:${rule.requireKycName}`);
    if (missing & MISSING_PROGRAMME) requires.push(`programme:${rule.requireProgramme}`);
    const code = missing & MISSING_LICENCE ? 'licence_required' : missing & MISSING_KYC ? 'kyc_required' : 'programme_required';
    v = cache[missing] = Object.freeze({
      action: 'refuse' as const,
      status: 403,
      code: rule.input.code ?? code,
      message: rule.input.message ?? `This model requires ${requires.map(describeRequirement).join(' and ')} under policy rule ${rule.id}.`,
      ref: Object.freeze({ rule: rule.id }),
      requires: Object.freeze(requires) as string[],
    });
  }
  return v;
}

const KYC = ['none', 'basic', 'verified-identity', 'verified-organisation'];
function kycRank(k: string): number {
  return KYC.indexOf(k);
}

function describeRequirement(r: string): string {
  if (r === 'licence') return 'a licence covering you';
  if (r.startsWith('kyc:')) return `identity verification at level ${r.slice(4)}`;
  return `membership of programme ${r.slice(10)}`;
}
