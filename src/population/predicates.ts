/**
 * Population predicates compiled to small closures. Matching semantics (docs/policy.md):
 *   - every predicate present must hold (AND); an absent predicate matches everyone;
 *   - a principal with no recorded nationality is treated as holding one unknown nationality that is outside
 *     every set: `anyOf`/`allOf` do not match it, `noneOf`/`anyOutside` do (the conservative reading for
 *     export controls). Unknown residence or no organisation likewise fail `in` and satisfy `notIn`.
 */
import { KYC_LEVELS, type Principal } from '../core/types.ts';
import { ALL_COUNTRIES, resolveCountries, type GroupTable } from './groups.ts';
import type { Population } from './schema.ts';
import type { Issue, IssueSink } from '../core/validation.ts';

/** Per-decision context shared by predicates: the licence lookup is done at most once per decision. */
export interface MatchEnv {
  licence(): { readonly id: string } | null;
}

interface Test {
  readonly name: string;
  match(p: Principal, env: MatchEnv): boolean;
  /** Human reason, given whether it matched. */
  why(p: Principal, matched: boolean): string;
}

export interface CompiledPopulation {
  readonly tests: readonly Test[];
  /** Org ids this predicate is restricted to (`org: {in: [...]}`), for the by-org index. */
  readonly orgIn: ReadonlySet<string> | null;
  match(p: Principal, env: MatchEnv): boolean;
  explain(p: Principal, env: MatchEnv): { matched: boolean; reasons: string[] };
}

const KYC_RANK = new Map(KYC_LEVELS.map((k, i) => [k, i]));
const show = (set: ReadonlySet<string>, max = 8) => {
  const list = [...set];
  return `{${list.slice(0, max).join(', ')}${list.length > max ? `, … ${list.length - max} more` : ''}}`;
};
const showNat = (p: Principal) => (p.nationalities.length ? `[${p.nationalities.join(', ')}]` : 'no recorded nationality');

function nationalityTest(op: string, set: ReadonlySet<string>): Test {
  const s = show(set);
  switch (op) {
    case 'anyOf':
      return {
        name: 'nationality.anyOf',
        match: (p) => {
          for (const n of p.nationalities) if (set.has(n)) return true;
          return false;
        },
        why: (p, m) => `nationality ${showNat(p)} ${m ? 'includes one' : 'includes none'} of ${s}`,
      };
    case 'noneOf':
      return {
        name: 'nationality.noneOf',
        match: (p) => {
          for (const n of p.nationalities) if (set.has(n)) return false;
          return true;
        },
        why: (p, m) => `nationality ${showNat(p)} ${m ? 'includes none' : 'includes one'} of ${s}`,
      };
    case 'allOf':
      return {
        name: 'nationality.allOf',
        match: (p) => {
          if (p.nationalities.length === 0) return false;
          for (const n of p.nationalities) if (!set.has(n)) return false;
          return true;
        },
        why: (p, m) => `nationality ${showNat(p)} ${m ? 'is entirely within' : 'is not entirely within'} ${s}`,
      };
    default: // anyOutside
      return {
        name: 'nationality.anyOutside',
        match: (p) => {
          if (p.nationalities.length === 0) return true;
          for (const n of p.nationalities) if (!set.has(n)) return true;
          return false;
        },
        why: (p, m) => `nationality ${showNat(p)} ${m ? 'includes one outside' : 'is entirely within'} ${s}`,
      };
  }
}

function inTest(name: string, get: (p: Principal) => string | null, set: ReadonlySet<string>, negate: boolean): Test {
  const s = show(set);
  return {
    name: `${name}.${negate ? 'notIn' : 'in'}`,
    match: negate ? (p) => {
      const v = get(p);
      return v === null || !set.has(v);
    } : (p) => {
      const v = get(p);
      return v !== null && set.has(v);
    },
    why: (p, m) => `${name} ${get(p) ?? '(none)'} is ${m !== negate ? '' : 'not '}in ${s}`,
  };
}

/**
 * Compiles a shape-valid population. Reports unknown countries/groups and predicates that can match nobody.
 * Returns undefined when any issue was found.
 */
export function compilePopulation(pop: Population | undefined, groups: GroupTable, sink: IssueSink, path: readonly PropertyKey[], issues: Issue[]): CompiledPopulation | undefined {
  const tests: Test[] = [];
  const before = issues.length;
  let orgIn: Set<string> | null = null;
  const nobody = (sub: PropertyKey[], why: string) => issues.push(sink.issue([...path, ...sub], `this predicate can match nobody: ${why}`));
  if (pop?.nationality) {
    const op = Object.keys(pop.nationality).find((k) => (pop.nationality as Record<string, unknown>)[k] !== undefined)!;
    const refs = (pop.nationality as Record<string, string[]>)[op]!;
    const set = resolveCountries(refs, groups, sink, [...path, 'nationality', op], issues);
    if (set) {
      if ((op === 'anyOf' || op === 'allOf') && set.size === 0) nobody(['nationality', op], 'the set of nationalities is empty');
      else if ((op === 'anyOutside' || op === 'noneOf') && set.size >= ALL_COUNTRIES.size) {
        nobody(['nationality', op], 'the set covers every country, so only principals with no recorded nationality could match');
      } else tests.push(nationalityTest(op, set));
    }
  }
  if (pop?.residence) {
    const negate = pop.residence.notIn !== undefined;
    const key = negate ? 'notIn' : 'in';
    const set = resolveCountries((negate ? pop.residence.notIn : pop.residence.in)!, groups, sink, [...path, 'residence', key], issues);
    if (set) {
      if (!negate && set.size === 0) nobody(['residence', key], 'the set of countries is empty');
      else if (negate && set.size >= ALL_COUNTRIES.size) nobody(['residence', key], 'it excludes every country');
      else tests.push(inTest('residence', (p) => p.residence, set, negate));
    }
  }
  if (pop?.kyc) {
    const min = KYC_RANK.get(pop.kyc.atLeast)!;
    tests.push({
      name: 'kyc.atLeast',
      match: (p) => (KYC_RANK.get(p.kyc) ?? -1) >= min,
      why: (p, m) => `kyc ${p.kyc} is ${m ? 'at least' : 'below'} ${pop.kyc!.atLeast}`,
    });
  }
  for (const field of ['org', 'account', 'tier'] as const) {
    const cond = pop?.[field];
    if (!cond) continue;
    const negate = cond.notIn !== undefined;
    const list = (negate ? cond.notIn : cond.in)!;
    if (!negate && list.length === 0) {
      nobody([field, 'in'], 'the list is empty');
      continue;
    }
    const set = new Set(list);
    const get = field === 'org' ? (p: Principal) => p.orgId : field === 'account' ? (p: Principal) => p.accountId : (p: Principal) => p.tier;
    tests.push(inTest(field, get, set, negate));
    if (field === 'org' && !negate) orgIn = set;
  }
  if (pop?.programme) {
    const negate = pop.programme.noneOf !== undefined;
    const list = (negate ? pop.programme.noneOf : pop.programme.anyOf)!;
    if (!negate && list.length === 0) nobody(['programme', 'anyOf'], 'the list is empty');
    else {
      const set = new Set(list);
      const s = show(set);
      tests.push({
        name: `programme.${negate ? 'noneOf' : 'anyOf'}`,
        match: (p) => {
          for (const x of p.programmes) if (set.has(x)) return !negate;
          return negate;
        },
        why: (p, m) => `programmes [${p.programmes.join(', ')}] ${m !== negate ? 'include one' : 'include none'} of ${s}`,
      });
    }
  }
  if (pop?.staff !== undefined) {
    const want = pop.staff;
    tests.push({ name: 'staff', match: (p) => p.staff === want, why: (p) => `staff is ${p.staff} (wanted ${want})` });
  }
  if (pop?.licensed !== undefined) {
    const want = pop.licensed;
    tests.push({
      name: 'licensed',
      match: (_p, env) => (env.licence() !== null) === want,
      why: (_p, m) => `${m === want ? 'holds' : 'holds no'} valid licence covering this model`,
    });
  }
  if (issues.length > before) return undefined;
  const n = tests.length;
  return {
    tests,
    orgIn,
    match(p, env) {
      for (let i = 0; i < n; i++) if (!tests[i]!.match(p, env)) return false;
      return true;
    },
    explain(p, env) {
      const reasons: string[] = [];
      if (n === 0) return { matched: true, reasons: ['no population predicate: matches everyone'] };
      for (const t of tests) {
        const m = t.match(p, env);
        reasons.push(t.why(p, m));
        if (!m) return { matched: false, reasons };
      }
      return { matched: true, reasons };
    },
  };
}
