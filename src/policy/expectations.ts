/**
 * Table-driven policy expectations (`gatehouse policy test FILE`): principals × models × time → expected
 * decision, evaluated against a policy plus optional directives and licences, so operators keep their policy
 * under CI. File format in docs/policy.md. Every mismatch is reported with file:line and the explanation.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { KYC_LEVELS, type KycLevel, type Principal, type Verdict } from '../core/types.ts';
import { countryCodeProblem } from '../population/countries.ts';
import { compileDirective, type DirectiveRecord } from '../directives/model.ts';
import { normalisePopulation, populationSchema } from './schema.ts';
import { loadPolicyFile, CompiledPolicy } from './compile.ts';
import { loadGroups } from '../population/groups.ts';
import { LicenceIndex, type LicenceRecord } from './licences.ts';
import { AccessSnapshot } from './snapshot.ts';
import { PolicyValidationError, prefixed, YamlSource, zodIssues, type Issue } from '../core/validation.ts';
import { epochOrIso } from '../population/time.ts';

const countryCode = z.string().superRefine((v, ctx) => {
  const problem = countryCodeProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const principalSchema = z.strictObject({
  accountId: z.string().default('test-account'),
  orgId: z.string().nullable().default(null),
  nationalities: z.array(countryCode).default([]),
  residence: countryCode.nullable().default(null),
  kyc: z.enum(KYC_LEVELS as [KycLevel, ...KycLevel[]]).default('none'),
  programmes: z.array(z.string()).default([]),
  tier: z.string().default('general'),
  staff: z.boolean().default(false),
});

const expectSchema = z.union([
  z.string().regex(/^(allow|refuse:[a-z0-9_]+|route:\S+)$/, "expected 'allow', 'refuse:CODE' or 'route:MODEL'"),
  z.strictObject({ action: z.enum(['allow', 'refuse', 'route']), code: z.string().optional(), model: z.string().optional(), status: z.number().int().optional(), directive: z.string().optional(), rule: z.string().optional(), licence: z.string().optional() }),
]);

const fileSchema = z.strictObject({
  policy: z.string().optional(),
  models: z.array(z.string()).optional(),
  countryGroupFiles: z.array(z.string()).default([]),
  at: epochOrIso.optional(),
  principals: z.record(z.string(), principalSchema).default({}),
  directives: z
    .array(
      z.strictObject({
        id: z.string(),
        models: z.array(z.string()).min(1),
        population: z.preprocess(normalisePopulation, populationSchema).default({}),
        effect: z.string(),
        effectiveAt: epochOrIso.optional(),
        expiresAt: epochOrIso.nullable().default(null),
        authority: z.string().default('test'),
        reference: z.string().default('test'),
      }),
    )
    .default([]),
  licences: z
    .array(
      z.strictObject({
        id: z.string(),
        licensee: z.strictObject({ org: z.string().optional(), account: z.string().optional() }),
        models: z.array(z.string()).min(1),
        nationalities: z.array(z.string()).min(1),
        destinations: z.array(z.string()).default(['*']),
        validFrom: epochOrIso.default(0),
        validTo: epochOrIso.default(8.64e15),
        revokedAt: epochOrIso.nullable().default(null),
        reference: z.string().default('test'),
        authority: z.string().default('test'),
      }),
    )
    .default([]),
  cases: z
    .array(z.strictObject({ name: z.string().optional(), principal: z.union([z.string(), principalSchema]), model: z.string(), at: epochOrIso.optional(), expect: expectSchema }))
    .min(1, 'an expectations file needs at least one case'),
});

export interface CaseResult {
  name: string;
  line?: number;
  ok: boolean;
  expected: string;
  got: string;
  decidedBy: string;
}

export interface ExpectationReport {
  file: string;
  results: CaseResult[];
  failed: number;
}

export interface RunOptions {
  /** Policy file when the expectations file names none. */
  policyFile?: string;
  models?: readonly string[];
  countryGroupFiles?: readonly string[];
}

export function runExpectationsFile(path: string, opts: RunOptions = {}): ExpectationReport {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PolicyValidationError([{ file: path, path: '(root)', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
  }
  const { source, value } = YamlSource.parse(text, path);
  const parsed = fileSchema.safeParse(value ?? {});
  if (!parsed.success) throw new PolicyValidationError(zodIssues(parsed.error, source));
  const f = parsed.data;
  const base = dirname(resolve(path));
  const models = f.models ?? opts.models ?? [];
  const groups = loadGroups([...(opts.countryGroupFiles ?? []), ...f.countryGroupFiles.map((g) => resolve(base, g))]);
  const policyPath = f.policy ? resolve(base, f.policy) : opts.policyFile;
  const policy = policyPath ? loadPolicyFile(policyPath, { models, groups }) : new CompiledPolicy([], groups, 'allow', new Map(), '(none)', models);
  const at = f.at ?? Date.now();
  const issues: Issue[] = [];
  const directives = f.directives.flatMap((d, i) => {
    const rec: DirectiveRecord = { ...d, effect: d.effect as DirectiveRecord['effect'], effectiveAt: d.effectiveAt ?? 0, status: 'active', issuedAt: 0, issuedBy: 'test', updatedAt: 0, liftedAt: null };
    try {
      return [compileDirective(rec, { groups: policy.groups, models, routeEdges: policy.routeEdges }, prefixed(source, ['directives', i]))];
    } catch (err) {
      if (err instanceof PolicyValidationError) issues.push(...err.issues);
      else throw err;
      return [];
    }
  });
  const licenceRecords: LicenceRecord[] = f.licences.map((l) => ({
    ...l,
    licenseeType: l.licensee.org !== undefined ? 'org' : 'account',
    licensee: (l.licensee.org ?? l.licensee.account ?? '')!,
    revokedReason: null,
    grantedAt: 0,
    grantedBy: 'test',
  }));
  const licences = LicenceIndex.build(licenceRecords, policy.groups, (id, why) => issues.push({ file: path, path: `licences(${id})`, message: why }));
  f.cases.forEach((c, i) => {
    if (typeof c.principal === 'string' && !f.principals[c.principal]) issues.push(source.issue(['cases', i, 'principal'], `unknown principal '${c.principal}' (defined: ${Object.keys(f.principals).join(', ') || 'none'})`));
  });
  if (issues.length) throw new PolicyValidationError(issues);
  const snap = new AccessSnapshot(policy, directives, licences, models);
  const results = f.cases.map((c, i): CaseResult => {
    const attrs = typeof c.principal === 'string' ? f.principals[c.principal]! : c.principal;
    const p: Principal = { keyId: typeof c.principal === 'string' ? c.principal : `case-${i}`, ...attrs };
    const ex = snap.explain(p, c.model, c.at ?? at);
    const expected = typeof c.expect === 'string' ? c.expect : describeExpectation(c.expect);
    const ok = matches(c.expect, ex.verdict);
    const name = c.name ?? `${typeof c.principal === 'string' ? c.principal : `case ${i}`} → ${c.model}`;
    const line = source.locate(['cases', i])?.line;
    return { name, ...(line ? { line } : {}), ok, expected, got: describeVerdict(ex.verdict), decidedBy: ex.decidedBy };
  });
  return { file: path, results, failed: results.filter((r) => !r.ok).length };
}

type Expect = z.output<typeof expectSchema>;

function describeExpectation(e: Exclude<Expect, string>): string {
  const head = e.action === 'refuse' ? `refuse:${e.code ?? '*'}` : e.action === 'route' ? `route:${e.model ?? '*'}` : 'allow';
  const refs = (['rule', 'directive', 'licence'] as const).filter((k) => e[k] !== undefined).map((k) => `${k}=${e[k]}`);
  return refs.length ? `${head} (${refs.join(', ')})` : head;
}

export function describeVerdict(v: Verdict): string {
  const head = v.action === 'refuse' ? `refuse:${v.code}` : v.action === 'route' ? `route:${v.model}` : 'allow';
  const refs = v.ref ? Object.entries(v.ref).map(([k, x]) => `${k}=${x}`) : [];
  return refs.length ? `${head} (${refs.join(', ')})` : head;
}

function matches(e: Expect, v: Verdict): boolean {
  if (typeof e === 'string') {
    if (e === 'allow') return v.action === 'allow';
    if (e.startsWith('refuse:')) return v.action === 'refuse' && v.code === e.slice(7);
    return v.action === 'route' && v.model === e.slice(6);
  }
  if (e.action !== v.action) return false;
  if (e.code !== undefined && (v.action === 'allow' || v.code !== e.code)) return false;
  if (e.model !== undefined && (v.action !== 'route' || v.model !== e.model)) return false;
  if (e.status !== undefined && (v.action !== 'refuse' || v.status !== e.status)) return false;
  for (const k of ['rule', 'directive', 'licence'] as const) if (e[k] !== undefined && v.ref?.[k] !== e[k]) return false;
  return true;
}
