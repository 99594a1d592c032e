/**
 * Policy compilation: YAML text → validated, indexed, immutable CompiledPolicy. All problems are collected
 * (not just the first) and reported with file:line:col. Rules are indexed by model (each catalogue model gets
 * the ordered list of rules whose model patterns match it) and, within a model, by organisation (rules
 * restricted to `org: {in: [...]}` are only scanned for principals of those organisations).
 */
import { readFileSync } from 'node:fs';
import { KYC_LEVELS, type KycLevel, type Verdict } from '../core/types.ts';
import { findPath } from '../directives/model.ts';
import { extendGroups, shippedGroups, type GroupTable } from '../population/groups.ts';
import { compileModelMatcher, modelPatternProblem, type ModelMatcher } from '../population/models.ts';
import { compilePopulation, type CompiledPopulation } from '../population/predicates.ts';
import { policyFileSchema, type PolicyFile, type RuleInput } from './schema.ts';
import { jsonSink, PolicyValidationError, prefixed, YamlSource, zodIssues, type Issue, type IssueSink } from '../core/validation.ts';

export interface CompiledRule {
  readonly index: number;
  readonly id: string;
  readonly input: RuleInput;
  readonly models: ModelMatcher;
  readonly population: CompiledPopulation;
  readonly action: RuleInput['action'];
  /** allow / deny / route verdicts are precomputed; require builds its refusal from what is missing. */
  readonly verdict: Verdict;
  readonly requireLicence: boolean;
  readonly requireKyc: number;
  readonly requireKycName: KycLevel | null;
  readonly requireProgramme: string | null;
}

interface ModelIndex {
  readonly general: readonly CompiledRule[];
  readonly byOrg: ReadonlyMap<string, readonly CompiledRule[]>;
}

export interface PolicyOptions {
  /** Catalogue model names; empty accepts any model name. */
  models?: readonly string[];
  /** Country groups before the policy's own `countryGroups:` (default: the shipped groups). */
  groups?: GroupTable;
  /** Overrides the file's `default:` (from the gateway config). */
  defaultAction?: 'allow' | 'deny';
}

const MODEL_CACHE_LIMIT = 10_000;

export class CompiledPolicy {
  private readonly indexByModel = new Map<string, ModelIndex>();
  readonly defaultVerdict: Verdict;

  constructor(
    readonly rules: readonly CompiledRule[],
    readonly groups: GroupTable,
    readonly defaultAction: 'allow' | 'deny',
    /** model → route targets reachable by one rule (for cycle checks of directives). */
    readonly routeEdges: ReadonlyMap<string, ReadonlySet<string>>,
    readonly source: string,
    models: readonly string[],
  ) {
    this.defaultVerdict =
      defaultAction === 'allow'
        ? Object.freeze({ action: 'allow' as const })
        : Object.freeze({ action: 'refuse' as const, status: 403, code: 'policy_default_deny', message: 'No policy rule allows this model for you.', ref: Object.freeze({ rule: '(default)' }) });
    for (const m of models) this.indexByModel.set(m, this.buildIndex(m));
  }

  static readonly EMPTY = new CompiledPolicy([], new Map(), 'allow', new Map(), '(none)', []);

  /** Rules that can apply to `model` for a principal of `orgId`, in policy order. */
  rulesFor(model: string, orgId: string | null): readonly CompiledRule[] {
    let idx = this.indexByModel.get(model);
    if (!idx) {
      idx = this.buildIndex(model);
      if (this.indexByModel.size < MODEL_CACHE_LIMIT) this.indexByModel.set(model, idx);
    }
    if (orgId !== null) {
      const specific = idx.byOrg.get(orgId);
      if (specific) return specific;
    }
    return idx.general;
  }

  private buildIndex(model: string): ModelIndex {
    const matching = this.rules.filter((r) => r.models.matches(model));
    const general = matching.filter((r) => r.population.orgIn === null);
    const byOrg = new Map<string, CompiledRule[]>();
    for (const r of matching) {
      if (r.population.orgIn === null) continue;
      for (const org of r.population.orgIn) {
        let list = byOrg.get(org);
        if (!list) byOrg.set(org, (list = [...general]));
        list.push(r);
      }
    }
    for (const list of byOrg.values()) list.sort((a, b) => a.index - b.index);
    return { general, byOrg };
  }
}

/** Reads and compiles a policy file. Throws PolicyValidationError with file:line for every problem. */
export function loadPolicyFile(path: string, opts: PolicyOptions = {}): CompiledPolicy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PolicyValidationError([{ file: path, path: '(root)', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
  }
  return compilePolicyText(text, path, opts);
}

export function compilePolicyText(text: string, file: string, opts: PolicyOptions = {}): CompiledPolicy {
  const { source, value } = YamlSource.parse(text, file);
  const parsed = policyFileSchema.safeParse(value ?? {});
  if (!parsed.success) throw new PolicyValidationError(zodIssues(parsed.error, source));
  return compilePolicy(parsed.data, { ...opts, sink: source, name: file });
}

/** Compiles an already-parsed policy object (JSON input reports JSON paths). */
export function compilePolicyObject(input: unknown, opts: PolicyOptions = {}): CompiledPolicy {
  const parsed = policyFileSchema.safeParse(input ?? {});
  if (!parsed.success) throw new PolicyValidationError(zodIssues(parsed.error, jsonSink()));
  return compilePolicy(parsed.data, { ...opts, sink: jsonSink(), name: '(inline)' });
}

const KYC_RANK = new Map(KYC_LEVELS.map((k, i) => [k, i]));

function compilePolicy(file: PolicyFile, opts: PolicyOptions & { sink: IssueSink; name: string }): CompiledPolicy {
  const { sink } = opts;
  const models = opts.models ?? [];
  const issues: Issue[] = [];
  const groups = extendGroups(opts.groups ?? shippedGroups(), file.countryGroups, sink, ['countryGroups'], issues);
  const rules: CompiledRule[] = [];
  const ids = new Map<string, number>();
  file.rules.forEach((r, i) => {
    const path = ['rules', i];
    const before = issues.length;
    const dup = ids.get(r.id);
    if (dup !== undefined) issues.push(sink.issue([...path, 'id'], `duplicate rule id '${r.id}' (first used by rules[${dup}])`));
    ids.set(r.id, i);
    r.models.forEach((m, j) => {
      const problem = modelPatternProblem(m, models);
      if (problem) issues.push(sink.issue([...path, 'models', j], problem));
    });
    if (r.to !== undefined && models.length > 0 && !models.includes(r.to)) issues.push(sink.issue([...path, 'to'], `unknown route target '${r.to}' (catalogue: ${models.join(', ')})`));
    const population = compilePopulation(r.when, groups, prefixed(sink, [...path, 'when']), [], issues);
    if (issues.length > before || !population) return;
    rules.push(compileRule(r, i, population));
  });
  const routeEdges = buildRouteEdges(rules, models);
  if (issues.length === 0) checkRouteCycles(rules, models, routeEdges, sink, issues);
  if (issues.length) throw new PolicyValidationError(issues);
  return new CompiledPolicy(rules, groups, opts.defaultAction ?? file.default, routeEdges, opts.name, models);
}

function compileRule(r: RuleInput, index: number, population: CompiledPopulation): CompiledRule {
  const ref = Object.freeze({ rule: r.id });
  let verdict: Verdict;
  switch (r.action) {
    case 'allow':
      verdict = Object.freeze({ action: 'allow' as const, ref });
      break;
    case 'route':
      verdict = Object.freeze({ action: 'route' as const, model: r.to!, code: r.code ?? 'policy_route', ref });
      break;
    case 'deny':
      verdict = Object.freeze({
        action: 'refuse' as const,
        status: 403,
        code: r.code ?? 'policy_denied',
        message: r.message ?? `This model is not available to you under policy rule ${r.id}.`,
        ref,
      });
      break;
    default:
      verdict = Object.freeze({ action: 'allow' as const, ref });
  }
  const req = r.require;
  return {
    index,
    id: r.id,
    input: r,
    models: compileModelMatcher(r.models),
    population,
    action: r.action,
    verdict,
    requireLicence: req?.licence === true,
    requireKyc: req?.kyc ? KYC_RANK.get(req.kyc)! : -1,
    requireKycName: req?.kyc ?? null,
    requireProgramme: req?.programme ?? null,
  };
}

function buildRouteEdges(rules: readonly CompiledRule[], models: readonly string[]): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  for (const r of rules) {
    if (r.action !== 'route') continue;
    const sources = models.length ? models.filter((m) => r.models.matches(m)) : r.input.models.filter((m) => !m.includes('*'));
    for (const m of sources) {
      let set = edges.get(m);
      if (!set) edges.set(m, (set = new Set()));
      set.add(r.input.to!);
    }
  }
  return edges;
}

function checkRouteCycles(rules: readonly CompiledRule[], models: readonly string[], edges: ReadonlyMap<string, ReadonlySet<string>>, sink: IssueSink, issues: Issue[]): void {
  for (const r of rules) {
    if (r.action !== 'route') continue;
    const to = r.input.to!;
    const sources = models.length ? models.filter((m) => r.models.matches(m)) : r.input.models;
    for (const m of sources) {
      const back = m === to ? [to] : findPath(to, m, edges);
      if (back) {
        issues.push(sink.issue(['rules', r.index, 'to'], `route cycle: ${[m, ...back].join(' → ')}`));
        return;
      }
    }
  }
}
