/**
 * Reporting regimes as data (a versioned YAML file with its source and as-of date, like the country groups) and
 * the deadlines they give an incident. The shipped file is `regimes/default.yaml`; an operator may give another.
 * A malformed file is refused with every problem as file:line:col.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { PolicyValidationError, YamlSource, zodIssues, type Issue } from '../core/validation.ts';
import { FACTS, type Fact, type Incident } from './model.ts';

export const DEFAULT_REGIMES_FILE = fileURLToPath(new URL('./regimes/default.yaml', import.meta.url));

const id = z.string().regex(/^[a-z0-9][a-z0-9.-]{0,63}$/, 'expected a lower-case id (letters, digits, . -)');
const date = z.union([z.string(), z.date()]).transform((v, ctx) => {
  const s = v instanceof Date ? v.toISOString().slice(0, 10) : v;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s) || Number.isNaN(Date.parse(s))) {
    ctx.addIssue({ code: 'custom', message: `expected a date YYYY-MM-DD, got '${s}'` });
    return z.NEVER;
  }
  return s;
});
const within = z.string().regex(/^[1-9]\d{0,3}[hd]$/, "expected a duration in hours or days, e.g. '72h' or '15d'");
const deadlineSchema = z.strictObject({ id, when: z.array(z.enum(FACTS)).min(1).optional(), within, note: z.string().min(1).optional() });
const regimeSchema = z.strictObject({
  id,
  name: z.string().min(1),
  source: z.string().min(1),
  url: z.string().url().optional(),
  asOf: date,
  authority: z.string().min(1),
  deadlines: z.array(deadlineSchema).min(1),
  template: z.string().min(1),
});
const fileSchema = z.strictObject({ version: z.literal(1), asOf: date, regimes: z.array(regimeSchema).min(1) });

export type Regime = z.output<typeof regimeSchema>;
export interface RegimeSet {
  file: string;
  version: number;
  asOf: string;
  regimes: Regime[];
  byId: ReadonlyMap<string, Regime>;
}

const TEMPLATE_FIELDS = new Set(['regime', 'id', 'title', 'severity', 'awareAt', 'deadline', 'rule', 'models', 'facts', 'requestCount', 'rings', 'directives', 'summary', 'principals']);

export function parseRegimes(text: string, file: string): RegimeSet {
  const { source, value } = YamlSource.parse(text, file);
  const r = fileSchema.safeParse(value);
  if (!r.success) throw new PolicyValidationError(zodIssues(r.error, source));
  const issues: Issue[] = [];
  const byId = new Map<string, Regime>();
  r.data.regimes.forEach((g, i) => {
    if (byId.has(g.id)) issues.push(source.issue(['regimes', i, 'id'], `duplicate regime id '${g.id}'`));
    byId.set(g.id, g);
    const seen = new Set<string>();
    g.deadlines.forEach((d, j) => {
      if (seen.has(d.id)) issues.push(source.issue(['regimes', i, 'deadlines', j, 'id'], `duplicate deadline id '${d.id}'`));
      seen.add(d.id);
    });
    if (!g.deadlines.some((d) => !d.when)) issues.push(source.issue(['regimes', i, 'deadlines'], 'a regime needs one deadline without `when` (the one that applies when no special fact is established)'));
    for (const m of g.template.matchAll(/\{\{\s*([A-Za-z]+)\s*\}\}/g)) {
      if (!TEMPLATE_FIELDS.has(m[1]!)) issues.push(source.issue(['regimes', i, 'template'], `unknown template field '{{${m[1]}}}' (known: ${[...TEMPLATE_FIELDS].join(', ')})`));
    }
  });
  if (issues.length) throw new PolicyValidationError(issues);
  return { file, version: r.data.version, asOf: r.data.asOf, regimes: r.data.regimes, byId };
}

export function loadRegimes(file: string = DEFAULT_REGIMES_FILE): RegimeSet {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PolicyValidationError([{ file, path: '(root)', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` }]);
  }
  return parseRegimes(text, file);
}

export function checkRegimeIds(set: RegimeSet, ids: readonly string[]): void {
  const unknown = ids.filter((i) => !set.byId.has(i));
  if (unknown.length) throw new PolicyValidationError(unknown.map((u) => ({ path: 'regimes', message: `unknown regime '${u}' (known: ${[...set.byId.keys()].join(', ')})` })));
}

export function durationMs(within: string): number {
  const n = Number(within.slice(0, -1));
  return within.endsWith('h') ? n * 3_600_000 : n * 86_400_000;
}

export interface Deadline {
  regime: string;
  name: string;
  /** The rule that sets the deadline (the earliest applicable). */
  rule: string;
  within: string;
  dueAt: number;
  /**
   * `pending` (not reported yet, time left), `overdue`, `met` / `late` (reported before / after the due time),
   * `potential` (the incident is not yet triaged: the clock already runs should it be reportable).
   */
  status: 'pending' | 'overdue' | 'met' | 'late' | 'potential';
  /** Milliseconds until due (negative: past due). */
  timeLeftMs: number;
}

/**
 * Deadlines for an incident: under the regimes it is reportable under, or — while it is open or being
 * investigated — under every regime, as `potential` (the reporting clock runs from awareness, not from triage).
 * None once it is found not reportable.
 */
export function deadlinesFor(inc: Incident, set: RegimeSet, now: number): Deadline[] {
  const triaging = inc.state === 'open' || inc.state === 'investigating';
  if (inc.state === 'not-reportable' || (inc.state === 'closed' && inc.regimes.length === 0)) return [];
  const ids = triaging ? [...set.byId.keys()] : inc.regimes;
  const facts = new Set<Fact>(inc.facts);
  const out: Deadline[] = [];
  for (const rid of ids) {
    const g = set.byId.get(rid);
    if (!g) continue;
    let best: { id: string; within: string; ms: number } | null = null;
    for (const d of g.deadlines) {
      if (d.when && !d.when.some((f) => facts.has(f))) continue;
      const ms = durationMs(d.within);
      if (!best || ms < best.ms) best = { id: d.id, within: d.within, ms };
    }
    if (!best) continue;
    const dueAt = inc.awareAt + best.ms;
    const status: Deadline['status'] =
      inc.reportedAt !== null ? (inc.reportedAt <= dueAt ? 'met' : 'late') : triaging ? 'potential' : now > dueAt ? 'overdue' : 'pending';
    out.push({ regime: g.id, name: g.name, rule: best.id, within: best.within, dueAt, status, timeLeftMs: dueAt - now });
  }
  return out;
}

/** "3d 4h", "-2h 10m" (overdue). */
export function formatTimeLeft(ms: number): string {
  const neg = ms < 0;
  let s = Math.floor(Math.abs(ms) / 60_000);
  const d = Math.floor(s / 1440);
  s -= d * 1440;
  const h = Math.floor(s / 60);
  const m = s - h * 60;
  const txt = d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : `${m}m`;
  return neg ? `overdue by ${txt}` : `${txt} left`;
}

/** The regime's report template filled in for this incident. */
export function renderReport(inc: Incident, regime: Regime, deadline: Deadline | undefined): string {
  const list = (xs: readonly string[]) => (xs.length ? xs.join(', ') : 'none');
  const values: Record<string, string> = {
    regime: regime.name,
    id: inc.id,
    title: inc.title,
    severity: inc.severity,
    awareAt: new Date(inc.awareAt).toISOString(),
    deadline: deadline ? new Date(deadline.dueAt).toISOString() : 'n/a',
    rule: deadline ? `${deadline.rule}, within ${deadline.within}` : 'n/a',
    models: list(inc.models),
    facts: list(inc.facts),
    requestCount: String(inc.linkedCount),
    rings: list(inc.rings),
    directives: list(inc.directives),
    summary: inc.summary ?? '(none)',
    principals: list(inc.principals),
  };
  return regime.template.replace(/\{\{\s*([A-Za-z]+)\s*\}\}/g, (_, k: string) => values[k] ?? '');
}
