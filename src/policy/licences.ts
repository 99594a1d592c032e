/**
 * Licences: the pure part. A licence lets a licensee (an organisation or a single account) use some models
 * for principals of the nationalities it covers, in the destinations (residence countries) it covers, between
 * validFrom (inclusive) and validTo (exclusive), until revoked. Indexed by licensee so a decision looks at a
 * handful of candidates however large the ledger.
 *
 * Coverage: every nationality the principal holds must be in `nationalities` (`*` covers all; a principal with
 * no recorded nationality is covered only by `*`), and the residence must be in `destinations` (`*` covers all,
 * including unknown residence).
 */
import { z } from 'zod';
import type { Principal } from '../core/types.ts';
import { resolveCountries, type GroupTable } from '../population/groups.ts';
import { compileModelMatcher, modelPatternProblem, type ModelMatcher } from '../population/models.ts';
import { epochOrIso } from '../population/time.ts';
import { jsonSink, PolicyValidationError, zodIssues, type Issue, type IssueSink } from '../core/validation.ts';

export interface LicenceRecord {
  id: string;
  licenseeType: 'org' | 'account';
  licensee: string;
  models: string[];
  nationalities: string[];
  destinations: string[];
  validFrom: number;
  validTo: number;
  reference: string;
  authority: string;
  revokedAt: number | null;
  revokedReason: string | null;
  grantedAt: number;
  grantedBy: string;
}

const text = (what: string, max = 500) => z.string().trim().min(1, `${what} must not be empty`).max(max).regex(/^[^\u0000-\u001f\u007f]*$/, `${what} must not contain control characters`);

export const licenceGrantSchema = z
  .strictObject({
    id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/).optional(),
    licensee: z.strictObject({ org: text('licensee.org', 200).optional(), account: text('licensee.account', 200).optional() }).refine((l) => (l.org === undefined) !== (l.account === undefined), 'licensee takes exactly one of org, account'),
    models: z.array(z.string().min(1)).min(1, 'a licence must cover at least one model'),
    nationalities: z.array(z.string().min(1)).min(1, 'list the nationalities covered, or ["*"]'),
    destinations: z.array(z.string().min(1)).default(['*']),
    validFrom: epochOrIso,
    validTo: epochOrIso,
    reference: text('reference'),
    authority: text('authority', 200),
    by: text('by', 200),
  })
  .superRefine((l, ctx) => {
    if (l.validTo <= l.validFrom) ctx.addIssue({ code: 'custom', path: ['validTo'], message: `validTo (${new Date(l.validTo).toISOString()}) must be after validFrom (${new Date(l.validFrom).toISOString()})` });
  });
export type LicenceGrant = z.output<typeof licenceGrantSchema>;

/** Validates a grant request (shape, countries, groups, models). Throws PolicyValidationError with JSON paths. */
export function parseLicenceGrant(input: unknown, groups: GroupTable, models: readonly string[], sink: IssueSink = jsonSink()): LicenceGrant {
  const r = licenceGrantSchema.safeParse(input);
  if (!r.success) throw new PolicyValidationError(zodIssues(r.error, sink));
  const issues: Issue[] = [];
  for (const key of ['nationalities', 'destinations'] as const) {
    const refs = r.data[key].filter((x) => x !== '*');
    if (refs.length !== r.data[key].length && refs.length > 0) issues.push(sink.issue([key], `'*' cannot be combined with other entries`));
    resolveCountries(refs, groups, sink, [key], issues);
  }
  r.data.models.forEach((m, i) => {
    const problem = modelPatternProblem(m, models);
    if (problem) issues.push(sink.issue(['models', i], problem));
  });
  if (issues.length) throw new PolicyValidationError(issues);
  return r.data;
}

export interface CompiledLicence {
  readonly id: string;
  readonly record: LicenceRecord;
  readonly models: ModelMatcher;
  /** null = all nationalities. */
  readonly nationalities: ReadonlySet<string> | null;
  readonly destinations: ReadonlySet<string> | null;
}

/** Hot-path twin of coverageProblem: same conditions, no allocation. */
export function covers(l: CompiledLicence, p: Principal, model: string, now: number): boolean {
  const r = l.record;
  if ((r.revokedAt !== null && r.revokedAt <= now) || now < r.validFrom || now >= r.validTo || !l.models.matches(model)) return false;
  if (l.nationalities) {
    if (p.nationalities.length === 0) return false;
    for (const n of p.nationalities) if (!l.nationalities.has(n)) return false;
  }
  return l.destinations === null || (p.residence !== null && l.destinations.has(p.residence));
}

export function coverageProblem(l: CompiledLicence, p: Principal, model: string, now: number): string | undefined {
  const r = l.record;
  if (r.revokedAt !== null && r.revokedAt <= now) return `licence ${l.id} was revoked at ${new Date(r.revokedAt).toISOString()}`;
  if (now < r.validFrom) return `licence ${l.id} is not valid until ${new Date(r.validFrom).toISOString()}`;
  if (now >= r.validTo) return `licence ${l.id} expired at ${new Date(r.validTo).toISOString()}`;
  if (!l.models.matches(model)) return `licence ${l.id} does not cover model ${model}`;
  if (l.nationalities) {
    if (p.nationalities.length === 0) return `licence ${l.id} does not cover a principal with no recorded nationality`;
    for (const n of p.nationalities) if (!l.nationalities.has(n)) return `licence ${l.id} does not cover nationality ${n}`;
  }
  if (l.destinations && (p.residence === null || !l.destinations.has(p.residence))) return `licence ${l.id} does not cover residence ${p.residence ?? '(unknown)'}`;
  return undefined;
}

/**
 * One licensee's licences, by literal model name (licences naming globs are kept apart), so a licensee
 * holding thousands of licences is still answered by looking at the few that name the model.
 */
class LicenseeLicences {
  readonly all: CompiledLicence[] = [];
  private readonly byModel = new Map<string, CompiledLicence[]>();
  private readonly globbed: CompiledLicence[] = [];
  add(l: CompiledLicence): void {
    this.all.push(l);
    for (const m of l.record.models) {
      if (m.includes('*')) {
        if (this.globbed.at(-1) !== l) this.globbed.push(l);
        continue;
      }
      const list = this.byModel.get(m);
      if (list) {
        if (list.at(-1) !== l) list.push(l);
      } else this.byModel.set(m, [l]);
    }
  }
  find(p: Principal, model: string, now: number): CompiledLicence | null {
    const list = this.byModel.get(model);
    if (list) for (const l of list) if (covers(l, p, model, now)) return l;
    for (const l of this.globbed) if (covers(l, p, model, now)) return l;
    return null;
  }
}

/** Licences by licensee, then by model. Immutable once built. */
export class LicenceIndex {
  private constructor(
    private readonly byOrg: ReadonlyMap<string, LicenseeLicences>,
    private readonly byAccount: ReadonlyMap<string, LicenseeLicences>,
    readonly size: number,
  ) {}

  static readonly EMPTY = new LicenceIndex(new Map(), new Map(), 0);

  /** Records with unknown countries (e.g. a group since removed) are skipped and reported via onSkip. */
  static build(records: readonly LicenceRecord[], groups: GroupTable, onSkip?: (id: string, why: string) => void): LicenceIndex {
    const byOrg = new Map<string, LicenseeLicences>();
    const byAccount = new Map<string, LicenseeLicences>();
    const matchers = new Map<string, ModelMatcher>();
    const countrySets = new Map<string, ReadonlySet<string> | null>();
    let size = 0;
    for (const r of records) {
      const issues: Issue[] = [];
      const sink = jsonSink([`licence ${r.id}`]);
      // Many licences share the same country lists: resolve each distinct list once and share the set.
      const set = (refs: string[], key: string) => {
        if (refs.includes('*')) return null;
        const k = refs.join(',');
        if (countrySets.has(k)) return countrySets.get(k)!;
        const s = resolveCountries(refs, groups, sink, [key], issues) ?? null;
        if (s) countrySets.set(k, s);
        return s;
      };
      const nationalities = set(r.nationalities, 'nationalities');
      const destinations = set(r.destinations, 'destinations');
      if (issues.length) {
        onSkip?.(r.id, issues.map((i) => `${i.path}: ${i.message}`).join('; '));
        continue;
      }
      const mk = r.models.join('\u0000');
      let models = matchers.get(mk);
      if (!models) matchers.set(mk, (models = compileModelMatcher(r.models)));
      const c: CompiledLicence = { id: r.id, record: r, models, nationalities, destinations };
      const map = r.licenseeType === 'org' ? byOrg : byAccount;
      let entry = map.get(r.licensee);
      if (!entry) map.set(r.licensee, (entry = new LicenseeLicences()));
      entry.add(c);
      size++;
    }
    return new LicenceIndex(byOrg, byAccount, size);
  }

  /** The first licence covering this principal for this model now (organisation licences first), or null. */
  find(p: Principal, model: string, now: number): CompiledLicence | null {
    if (p.orgId !== null) {
      const found = this.byOrg.get(p.orgId)?.find(p, model, now);
      if (found) return found;
    }
    return this.byAccount.get(p.accountId)?.find(p, model, now) ?? null;
  }

  /** Every candidate licence with why it does or does not cover (for explain). */
  candidates(p: Principal, model: string, now: number): Array<{ id: string; covers: boolean; why: string }> {
    const all = [...(p.orgId !== null ? this.byOrg.get(p.orgId)?.all ?? [] : []), ...(this.byAccount.get(p.accountId)?.all ?? [])];
    return all.map((l) => {
      const problem = coverageProblem(l, p, model, now);
      return { id: l.id, covers: problem === undefined, why: problem ?? `licence ${l.id} (${l.record.reference}, ${l.record.authority}) covers this principal and model` };
    });
  }
}
