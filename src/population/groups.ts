/**
 * Country groups: named ISO 3166-1 alpha-2 sets with version, source and as-of date. The shipped file
 * (country-groups/default.yaml) is loaded first; operator files and a policy's own `countryGroups:` extend or
 * replace groups by name. A replacement must carry a higher version, so a decision's citation is unambiguous.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { COUNTRY_CODES, countryCodeProblem } from './countries.ts';
import { countryGroupFileSchema, type CountryGroupInput } from './schema.ts';
import { PolicyValidationError, YamlSource, prefixed, zodIssues, type Issue, type IssueSink } from '../core/validation.ts';

export interface CountryGroup {
  readonly name: string;
  readonly title: string;
  readonly version: number;
  readonly source: string;
  readonly asOf: string;
  readonly countries: ReadonlySet<string>;
}

export const SHIPPED_GROUPS_FILE = fileURLToPath(new URL('./country-groups/default.yaml', import.meta.url));
export const ALL_COUNTRIES: ReadonlySet<string> = COUNTRY_CODES;

export type GroupTable = ReadonlyMap<string, CountryGroup>;

/**
 * Resolves a list of country codes and `group:NAME` references to one set, reporting every unknown code or
 * group at its exact path. Returns undefined when any entry was invalid.
 */
export function resolveCountries(refs: readonly string[], groups: GroupTable, sink: IssueSink, path: readonly PropertyKey[], issues: Issue[]): Set<string> | undefined {
  const out = new Set<string>();
  let ok = true;
  refs.forEach((ref, i) => {
    if (ref.startsWith('group:')) {
      const g = groups.get(ref.slice(6));
      if (!g) {
        issues.push(sink.issue([...path, i], `unknown country group '${ref.slice(6)}' (known: ${[...groups.keys()].sort().join(', ') || 'none'})`));
        ok = false;
        return;
      }
      for (const c of g.countries) out.add(c);
      return;
    }
    const problem = countryCodeProblem(ref);
    if (problem) {
      issues.push(sink.issue([...path, i], problem + (/^[a-z]{2}$/.test(ref) ? ' (codes are upper case)' : '')));
      ok = false;
      return;
    }
    out.add(ref);
  });
  return ok ? out : undefined;
}

/** Adds validated groups from `input` (already shape-checked) to `base`, returning a new table. */
export function extendGroups(base: GroupTable, input: Record<string, CountryGroupInput>, sink: IssueSink, path: readonly PropertyKey[], issues: Issue[]): Map<string, CountryGroup> {
  const table = new Map(base);
  for (const [name, g] of Object.entries(input)) {
    const countries = resolveCountries(g.countries, table, sink, [...path, name, 'countries'], issues);
    if (!countries) continue;
    if (countries.size === 0) {
      issues.push(sink.issue([...path, name, 'countries'], 'a country group must contain at least one country'));
      continue;
    }
    const previous = table.get(name);
    if (previous && g.version <= previous.version) {
      issues.push(sink.issue([...path, name, 'version'], `group '${name}' replaces version ${previous.version} (${previous.source}); its version must be higher than ${previous.version}`));
      continue;
    }
    table.set(name, Object.freeze({ name, title: g.title ?? name, version: g.version, source: g.source, asOf: g.asOf, countries: countries }));
  }
  return table;
}

/** Loads a country-group YAML file (`groups: {name: {...}}`) on top of `base`. Throws PolicyValidationError. */
export function loadGroupFile(path: string, base: GroupTable = new Map()): Map<string, CountryGroup> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PolicyValidationError([{ file: path, path: '(root)', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
  }
  return parseGroupFile(text, path, base);
}

export function parseGroupFile(text: string, file: string, base: GroupTable = new Map()): Map<string, CountryGroup> {
  const { source, value } = YamlSource.parse(text, file);
  const parsed = countryGroupFileSchema.safeParse(value ?? {});
  if (!parsed.success) throw new PolicyValidationError(zodIssues(parsed.error, source));
  const issues: Issue[] = [];
  const table = extendGroups(base, parsed.data.groups, prefixed(source, []), ['groups'], issues);
  if (issues.length) throw new PolicyValidationError(issues);
  return table;
}

let shipped: Map<string, CountryGroup> | undefined;
/** The groups shipped with Gatehouse (parsed once). */
export function shippedGroups(): GroupTable {
  shipped ??= loadGroupFile(SHIPPED_GROUPS_FILE);
  return shipped;
}

/** Shipped groups, then each operator file in order. */
export function loadGroups(files: readonly string[] = []): GroupTable {
  let table: GroupTable = shippedGroups();
  for (const f of files) table = loadGroupFile(f, table);
  return table;
}
