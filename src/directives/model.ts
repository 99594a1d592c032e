/**
 * Directives, the pure part: emergency orders evaluated before policy. A directive names models (names or
 * globs), a population predicate (same language as policy rules), an effect and a time window
 * [effectiveAt, expiresAt). Lifting sets status `lifted`; it is never deleted (history is kept).
 */
import { z } from 'zod';
import type { Verdict } from '../core/types.ts';
import type { GroupTable } from '../population/groups.ts';
import { compileModelMatcher, modelPatternProblem, type ModelMatcher } from '../population/models.ts';
import { compilePopulation, type CompiledPopulation } from '../population/predicates.ts';
import { normalisePopulation, populationSchema, type Population } from '../population/schema.ts';
import { epochOrIso } from '../population/time.ts';
import { jsonSink, PolicyValidationError, prefixed, zodIssues, type Issue, type IssueSink } from '../core/validation.ts';

export type DirectiveEffect = 'suspend' | 'require-licence' | `route:${string}`;
export type DirectiveStatus = 'active' | 'lifted';

export interface DirectiveRecord {
  id: string;
  models: string[];
  population: Population;
  effect: DirectiveEffect;
  effectiveAt: number;
  expiresAt: number | null;
  authority: string;
  reference: string;
  status: DirectiveStatus;
  issuedAt: number;
  issuedBy: string;
  updatedAt: number;
  liftedAt: number | null;
}

/** Derived state at a given time, for listings. */
export function directiveState(d: DirectiveRecord, now: number): 'lifted' | 'scheduled' | 'in-force' | 'expired' {
  if (d.status === 'lifted') return 'lifted';
  if (now < d.effectiveAt) return 'scheduled';
  if (d.expiresAt !== null && now >= d.expiresAt) return 'expired';
  return 'in-force';
}

const text = (what: string, max = 2000) =>
  z.string().trim().min(1, `${what} must not be empty`).max(max, `${what} is longer than ${max} characters`).regex(/^[^\u0000-\u0008\u000b-\u001f\u007f]*$/, `${what} must not contain control characters`);
const effect = z.string().refine((e) => e === 'suspend' || e === 'require-licence' || /^route:[A-Za-z0-9][A-Za-z0-9._:/-]*$/.test(e), {
  message: "expected 'suspend', 'require-licence' or 'route:MODEL'",
}) as unknown as z.ZodType<DirectiveEffect>;

const body = {
  models: z.array(z.string().min(1)).min(1, 'a directive must name at least one model'),
  population: z.preprocess(normalisePopulation, populationSchema),
  effect,
  effectiveAt: epochOrIso,
  expiresAt: epochOrIso.nullable(),
  authority: text('authority', 200),
  reference: text('reference'),
};

export const issueSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/, 'a directive id (letters, digits, . _ : -)').optional(),
  ...body,
  population: body.population.default({}),
  effectiveAt: body.effectiveAt.optional(),
  expiresAt: body.expiresAt.default(null),
  by: text('by', 200),
  why: text('why'),
});
export type IssueInput = z.output<typeof issueSchema>;

export const amendSchema = z
  .strictObject({
    models: body.models.optional(),
    population: body.population.optional(),
    effect: body.effect.optional(),
    effectiveAt: body.effectiveAt.optional(),
    expiresAt: body.expiresAt.optional(),
    authority: body.authority.optional(),
    reference: body.reference.optional(),
    by: text('by', 200),
    why: text('why'),
  })
  .refine((a) => ['models', 'population', 'effect', 'effectiveAt', 'expiresAt', 'authority', 'reference'].some((k) => (a as Record<string, unknown>)[k] !== undefined), {
    message: 'expected at least one field to change',
  });
export type AmendInput = z.output<typeof amendSchema>;

export const liftSchema = z.strictObject({ by: text('by', 200), why: text('why') });

export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, sink: IssueSink = jsonSink()): z.output<S> {
  const r = schema.safeParse(input);
  if (!r.success) throw new PolicyValidationError(zodIssues(r.error, sink));
  return r.data;
}

export interface CompiledDirective {
  readonly id: string;
  readonly record: DirectiveRecord;
  readonly models: ModelMatcher;
  readonly population: CompiledPopulation;
  readonly kind: 'suspend' | 'require-licence' | 'route';
  readonly routeTo: string | null;
  /** Precomputed refusal (suspend), route verdict, or licence_required refusal, so deciding allocates nothing. */
  readonly verdict: Verdict;
}

export interface DirectiveCheckContext {
  groups: GroupTable;
  /** Catalogue model names; empty accepts any. */
  models: readonly string[];
  /** Route edges of the current policy (model → target), for cycle detection across policy and directives. */
  routeEdges?: ReadonlyMap<string, ReadonlySet<string>>;
}

/**
 * Compiles one directive. Checks: known models, countries, groups; a predicate that can match nobody;
 * expiry not after effective time; route target known, not itself, and no cycle with policy routes.
 */
export function compileDirective(d: DirectiveRecord, ctx: DirectiveCheckContext, sink: IssueSink = jsonSink()): CompiledDirective {
  const issues: Issue[] = [];
  d.models.forEach((m, i) => {
    const problem = modelPatternProblem(m, ctx.models);
    if (problem) issues.push(sink.issue(['models', i], problem));
  });
  if (d.expiresAt !== null && d.expiresAt <= d.effectiveAt) {
    issues.push(sink.issue(['expiresAt'], `expiresAt (${iso(d.expiresAt)}) must be after effectiveAt (${iso(d.effectiveAt)})`));
  }
  const population = compilePopulation(d.population, ctx.groups, prefixed(sink, ['population']), [], issues);
  if (population?.tests.some((t) => t.name === 'licensed')) issues.push(sink.issue(['population', 'licensed'], "'licensed' is only valid in policy rules; use effect 'require-licence'"));
  const matcher = compileModelMatcher(d.models);
  let routeTo: string | null = null;
  if (d.effect.startsWith('route:')) {
    routeTo = d.effect.slice(6);
    if (ctx.models.length > 0 && !ctx.models.includes(routeTo)) issues.push(sink.issue(['effect'], `route target '${routeTo}' is not in the catalogue (${ctx.models.join(', ')})`));
    else {
      const sources = ctx.models.length ? ctx.models.filter((m) => matcher.matches(m)) : d.models;
      for (const m of sources) {
        const cycle = m === routeTo ? [m, m] : findPath(routeTo, m, ctx.routeEdges);
        if (cycle) {
          issues.push(sink.issue(['effect'], `route cycle: ${m === routeTo ? `${m} → ${m}` : [m, ...cycle].join(' → ')}`));
          break;
        }
      }
    }
  }
  if (issues.length) throw new PolicyValidationError(issues);
  const kind = d.effect === 'suspend' ? 'suspend' : d.effect === 'require-licence' ? 'require-licence' : 'route';
  const ref = { directive: d.id };
  const verdict: Verdict =
    kind === 'suspend'
      ? Object.freeze({
          action: 'refuse' as const,
          status: 403,
          code: 'directive_suspended',
          message: `Access to this model is suspended for you by directive ${d.id} (${d.authority}: ${d.reference}).`,
          ref: Object.freeze(ref),
        })
      : kind === 'route'
        ? Object.freeze({ action: 'route' as const, model: routeTo!, code: 'directive_route', ref: Object.freeze(ref) })
        : Object.freeze({
            action: 'refuse' as const,
            status: 403,
            code: 'licence_required',
            message: `Access to this model requires a licence under directive ${d.id} (${d.authority}: ${d.reference}); none covers you.`,
            ref: Object.freeze(ref),
            requires: Object.freeze(['licence']) as string[],
          });
  return { id: d.id, record: d, models: matcher, population: population!, kind, routeTo, verdict };
}

/** A path from `from` to `to` in the edge graph (list of nodes after `from`), or undefined. */
export function findPath(from: string, to: string, edges: ReadonlyMap<string, ReadonlySet<string>> | undefined): string[] | undefined {
  if (!edges) return undefined;
  const seen = new Set<string>();
  const walk = (node: string, path: string[]): string[] | undefined => {
    if (node === to) return path;
    if (seen.has(node)) return undefined;
    seen.add(node);
    for (const next of edges.get(node) ?? []) {
      const found = walk(next, [...path, next]);
      if (found) return found;
    }
    return undefined;
  };
  return walk(from, [from]);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
