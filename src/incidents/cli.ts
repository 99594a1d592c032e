/**
 * `gatehouse incidents open|list|show|transition|regimes` — incident records in the store and their reporting
 * deadlines. Every change is attributed (--by) and audited (the audit inbox, as `cli:<user>@<host>`).
 * Exit: 0 ok, 1 failure (not found, lost a concurrent change, transition not allowed), 2 invalid input.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { cliActor } from '../core/admin-actions.ts';
import { configSchema as auditConfigSchema, resolveAuditPaths, type AuditConfig } from '../audit/config.ts';
import { TextVault } from '../audit/retention.ts';
import { exportIncidentBundle } from './bundle.ts';
import { CommandError, COMMON_OPTIONS, defaultIo, type Io, iso, parseFlags, runSubcommand, UsageError, type Values, withStore } from '../cli/common.ts';
import type { Incident } from './model.ts';
import { checkRegimeIds, deadlinesFor, formatTimeLeft, loadRegimes, renderReport, DEFAULT_REGIMES_FILE, type RegimeSet } from './regimes.ts';
import { IncidentConflictError, IncidentNotFoundError, IncidentRepository } from './repository.ts';

const USAGE = `usage: gatehouse incidents <open|list|show|transition|regimes> [options]

  incidents open --title TEXT --severity low|medium|high|critical --by WHO [--summary TEXT]
                 [--model M]… [--principal account:ID|org:ID|key:ID]… [--request ID]… [--ring ID]… [--directive ID]…
                 [--fact death|serious-harm|widespread|critical-infrastructure|imminent-risk]… [--aware-at TIME]
  incidents list [--state STATE] [--json]
  incidents show ID [--json] [--report REGIME]      (timeline, deadlines and time left; --report fills in the regime's template)
  incidents transition ID --to STATE --by WHO --why TEXT [--version N] [--regime ID]… [--fact F]… [--report-ref TEXT]
  incidents export ID --out FILE --by WHO [--audit-file F] [--include-text]
                                                   (an evidence bundle: verify it offline with
                                                    gatehouse audit verify --bundle FILE --public-key K;
                                                    --include-text adds the linked requests' retained text,
                                                    needs --config with audit.retention on; each one audited)
  incidents regimes [--json]                       (the reporting regimes in force)
  incidents regimes check FILE                     (validate a regimes file: file:line:col for every problem)

workflow: open → investigating → reportable (needs --regime) | not-reportable → reported → closed
common options: --store URL, --config FILE (reads store.url), --regimes FILE (default: the shipped regimes), --json
`;

const OPTIONS = {
  ...COMMON_OPTIONS,
  regimes: { type: 'string' },
  title: { type: 'string' },
  severity: { type: 'string' },
  summary: { type: 'string' },
  by: { type: 'string' },
  why: { type: 'string' },
  to: { type: 'string' },
  version: { type: 'string' },
  model: { type: 'string', multiple: true },
  principal: { type: 'string', multiple: true },
  request: { type: 'string', multiple: true },
  ring: { type: 'string', multiple: true },
  directive: { type: 'string', multiple: true },
  fact: { type: 'string', multiple: true },
  regime: { type: 'string', multiple: true },
  'aware-at': { type: 'string' },
  'report-ref': { type: 'string' },
  report: { type: 'string' },
  state: { type: 'string' },
  out: { type: 'string' },
  'audit-file': { type: 'string' },
  'include-text': { type: 'boolean' },
} as const;

export async function run(argv: string[], io: Io = defaultIo()): Promise<number> {
  return runSubcommand('incidents', argv, USAGE, io, async (sub, rest) => {
    const { values, positionals } = parseFlags(rest, OPTIONS);
    if (values.help) {
      io.out(USAGE);
      return 0;
    }
    if (sub === 'regimes') {
      if (positionals[0] === 'check') {
        if (positionals.length !== 2) throw new UsageError('expected: incidents regimes check FILE');
        const set = loadRegimes(positionals[1]);
        io.out(`${positionals[1]}: ok (${set.regimes.length} regimes, as of ${set.asOf})\n`);
        return 0;
      }
      if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
      const set = loadRegimes((values.regimes as string | undefined) ?? DEFAULT_REGIMES_FILE);
      if (values.json) io.out(JSON.stringify({ file: set.file, version: set.version, asOf: set.asOf, regimes: set.regimes }, null, 2) + '\n');
      else for (const g of set.regimes) io.out(`${g.id.padEnd(18)} ${g.name}\n${' '.repeat(19)}${g.deadlines.map((d) => `${d.within}${d.when ? ` if ${d.when.join(' or ')}` : ''}`).join('; ')} — ${g.source} (as of ${g.asOf})\n`);
      return 0;
    }
    const needsId = sub === 'show' || sub === 'transition' || sub === 'export';
    if (!['open', 'list', 'show', 'transition', 'export'].includes(sub)) throw new UsageError(`unknown subcommand '${sub}'`);
    if (needsId && positionals.length !== 1) throw new UsageError(`expected one incident ID, got ${positionals.length}`);
    if (!needsId && positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    const regimes = loadRegimes((values.regimes as string | undefined) ?? DEFAULT_REGIMES_FILE);
    return withStore(values, io, async (db) => {
      const repo = new IncidentRepository(db, { auditActor: cliActor(), validateRegimes: (ids) => checkRegimeIds(regimes, ids) });
      const now = Date.now();
      try {
        switch (sub) {
          case 'open': {
            const inc = await repo.open(openBody(values));
            return print(io, values, withDeadlines(inc, regimes, now), `opened incident ${inc.id} (${inc.severity})`);
          }
          case 'transition': {
            const body: Record<string, unknown> = { to: values.to, by: values.by, why: values.why };
            if (values.version !== undefined) {
              if (!/^\d+$/.test(values.version as string)) throw new UsageError(`--version: expected a whole number, got '${values.version}'`);
              body.version = Number(values.version);
            }
            if (values.regime) body.regimes = values.regime;
            if (values.fact) body.facts = values.fact;
            if (values['report-ref']) body.reportRef = values['report-ref'];
            const inc = await repo.transition(positionals[0]!, body);
            return print(io, values, withDeadlines(inc, regimes, now), `incident ${inc.id} is now ${inc.state} (version ${inc.version})`);
          }
          case 'export': {
            if (typeof values.out !== 'string') throw new UsageError('--out FILE is required');
            if (typeof values.by !== 'string' || !values.by.trim()) throw new UsageError('--by WHO is required (the export is audited)');
            const audit = auditSection(values.config as string | undefined);
            const base = { auditPath: (values['audit-file'] as string | undefined) ?? audit.path, signingKey: audit.signingKey ?? null, by: values.by, auditActor: cliActor() };
            let text;
            if (values['include-text']) {
              // Whoever runs this holds the config and its retention key, so may read the text (as the admin role may).
              if (!values.config || !audit.retention.enabled) throw new UsageError('--include-text needs --config FILE whose audit.retention is enabled (text is only ever read from encrypted retention)');
              const vault = new TextVault(audit.retention);
              text = { read: (id: string, t?: number) => vault.read(id, t), role: 'cli' };
            }
            const { bundle, unproven } = await exportIncidentBundle(db, positionals[0]!, text ? { ...base, text } : base);
            writeFileSync(values.out, JSON.stringify(bundle, null, 1) + '\n');
            const records = bundle.segments.reduce((n, s) => n + s.lines.length, 0);
            const texts = text ? Object.keys((bundle.context.texts as Record<string, unknown> | undefined) ?? {}).length : 0;
            io.out(`wrote ${values.out}: ${bundle.segments.length} segment(s), ${records} audit records${text ? `, retained text of ${texts} request(s)` : ''}${bundle.publicKey ? '' : ' (no signing key in the config: the bundle carries no public key)'}\n`);
            if (unproven.length) io.err(`warning: ${unproven.length} linked record(s) not in the audit log, listed in the bundle as notInLog: ${unproven.slice(0, 5).join(', ')}${unproven.length > 5 ? ', …' : ''}\n`);
            return 0;
          }
          case 'list': {
            const list = await repo.list(values.state ? { state: values.state as Incident['state'] } : {});
            if (values.json) {
              io.out(JSON.stringify({ incidents: list.map((i) => withDeadlines(i, regimes, now)) }, null, 2) + '\n');
              return 0;
            }
            if (list.length === 0) io.out('no incidents\n');
            for (const i of list) {
              const next = deadlinesFor(i, regimes, now).filter((d) => d.status !== 'met' && d.status !== 'late').sort((a, b) => a.dueAt - b.dueAt)[0];
              io.out(`${i.id}  ${i.state.padEnd(14)} ${i.severity.padEnd(8)} ${iso(i.openedAt)}  ${i.title}${next ? `  [${next.regime}: ${formatTimeLeft(next.timeLeftMs)}${next.status === 'potential' ? ' if reportable' : ''}]` : ''}\n`);
            }
            return 0;
          }
          case 'show': {
            const inc = await repo.get(positionals[0]!);
            if (!inc) throw new IncidentNotFoundError(positionals[0]!);
            const timeline = await repo.timelineOf(inc.id);
            const full = { ...withDeadlines(inc, regimes, now), timeline };
            if (values.report) {
              const g = regimes.byId.get(values.report as string);
              if (!g) throw new UsageError(`--report: unknown regime '${values.report}' (known: ${[...regimes.byId.keys()].join(', ')})`);
              io.out(renderReport(inc, g, full.deadlines.find((d) => d.regime === g.id)));
              return 0;
            }
            if (values.json) {
              io.out(JSON.stringify({ incident: full }, null, 2) + '\n');
              return 0;
            }
            io.out(describe(inc, full.deadlines, timeline));
            return 0;
          }
        }
        return 2;
      } catch (err) {
        if (err instanceof IncidentNotFoundError || err instanceof IncidentConflictError) throw new CommandError(err.message);
        throw err;
      }
    });
  });
}

/** The `audit:` section of the config (path and signing key), defaults without one. */
/** The config file's `audit:` section, its paths resolved against the file's directory. */
function auditSection(configPath: string | undefined): AuditConfig {
  if (!configPath) return auditConfigSchema.parse({});
  const doc = (parseYaml(readFileSync(configPath, 'utf8')) ?? {}) as { audit?: unknown };
  const r = auditConfigSchema.safeParse(doc.audit ?? {});
  if (!r.success) throw new CommandError(`${configPath}: audit: ${r.error.issues.map((i) => `${i.path.join('.') || '(section)'}: ${i.message}`).join('; ')}`);
  return resolveAuditPaths(r.data, dirname(configPath));
}

function openBody(v: Values): Record<string, unknown> {
  const b: Record<string, unknown> = { title: v.title, severity: v.severity, by: v.by };
  if (v.summary !== undefined) b.summary = v.summary;
  for (const [flag, field] of [['model', 'models'], ['principal', 'principals'], ['request', 'requestIds'], ['ring', 'rings'], ['directive', 'directives'], ['fact', 'facts']] as const) if (v[flag]) b[field] = v[flag];
  if (v['aware-at'] !== undefined) b.awareAt = v['aware-at'];
  return b;
}

export function withDeadlines(inc: Incident, regimes: RegimeSet, now: number) {
  return { ...inc, deadlines: deadlinesFor(inc, regimes, now) };
}

function print(io: Io, values: Values, inc: Incident & { deadlines: ReturnType<typeof deadlinesFor> }, message: string): number {
  if (values.json) io.out(JSON.stringify({ incident: inc }, null, 2) + '\n');
  else {
    io.out(`${message}\n`);
    for (const d of inc.deadlines) io.out(`  ${d.regime}: due ${iso(d.dueAt)} (${d.rule}, ${d.within}) — ${d.status === 'met' || d.status === 'late' ? d.status : formatTimeLeft(d.timeLeftMs)}${d.status === 'potential' ? ' if reportable' : ''}\n`);
  }
  return 0;
}

function describe(i: Incident, deadlines: ReturnType<typeof deadlinesFor>, timeline: Awaited<ReturnType<IncidentRepository['timelineOf']>>): string {
  const l = (xs: string[]) => (xs.length ? xs.join(', ') : '-');
  const lines = [
    `${i.id}  ${i.title}`,
    `  state ${i.state} (version ${i.version}), severity ${i.severity}, trigger ${i.trigger}, opened ${iso(i.openedAt)} by ${i.openedBy}, aware ${iso(i.awareAt)}`,
    `  models ${l(i.models)}; principals ${l(i.principals)}`,
    `  requests ${i.linkedCount}${i.linkedCount > i.requestIds.length ? ` (first ${i.requestIds.length} kept)` : ''}: ${l(i.requestIds.slice(0, 10))}${i.requestIds.length > 10 ? ', …' : ''}`,
    `  rings ${l(i.rings)}; directives ${l(i.directives)}; facts ${l(i.facts)}; regimes ${l(i.regimes)}${i.reportRefs.length ? `; reports ${i.reportRefs.join(', ')}` : ''}`,
    '  deadlines:',
    ...(deadlines.length ? deadlines.map((d) => `    ${d.regime}: due ${iso(d.dueAt)} (${d.rule}, within ${d.within}) — ${d.status === 'met' || d.status === 'late' ? d.status : formatTimeLeft(d.timeLeftMs)}${d.status === 'potential' ? ' if reportable' : ''}`) : ['    none']),
    '  timeline:',
    ...timeline.map((t) => `    v${t.version} ${iso(t.at)} ${t.by}: ${t.action}${t.to ? ` → ${t.to}` : ''}${t.why ? ` — ${t.why}` : ''}${t.details ? ` ${JSON.stringify(t.details)}` : ''}`),
  ];
  return lines.join('\n') + '\n';
}
