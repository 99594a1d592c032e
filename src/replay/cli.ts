/**
 * `gatehouse replay`: what a draft policy, directive or classifier-threshold change would do to recorded traffic.
 * Exit codes: 0 report printed; 1 stopped at a bad record (--on-error stop) or the store cannot be read;
 * 2 bad flags or an invalid draft (every problem as file:line:col).
 */
import { resolveStoreUrl } from '../store/open.ts';
import { defaultIo, parseFlags, runCommand, UsageError, type Io } from '../cli/common.ts';
import { parseTime } from '../audit/query.ts';
import { loadBaseline, openStoreReadOnly } from './baseline.ts';
import { buildDraft, type DraftInput } from './draft.ts';
import { ReplayEngine, TRANSITIONS, type ReplayReport } from './engine.ts';
import { principalIndex, principalsFromJsonl } from './principals.ts';
import { auditLogFiles, type SourceFile } from './reader.ts';
import { runReplay } from './run.ts';

export const USAGE = `usage: gatehouse replay --config FILE [draft] [source] [options]

draft (any combination; none replays the baseline against itself):
  --policy FILE          a policy file replacing the configured one
  --directive FILE       a directive (JSON or YAML, the admin API's shape; a list is allowed), repeatable;
                         no effectiveAt = in force over the whole recording; an existing id is replaced
  --lift ID              an active directive lifted, repeatable
  --limits FILE          a limits section (rpm, tpm, monthly budgets) replacing the configured one; limits are then
                         replayed on both sides, request by request in recorded order
  --classify FILE        classifier thresholds: a classify section fragment (tiers.<tier>.<label>: {action, threshold}),
                         merged over the configured one label by label
source (default: the audit log at audit.path of --config):
  --log PATH             an audit log (its rotated files are read too)
  --sample FILE          a JSONL file of request records (audit record shape)
principals (attributes are joined by keyId, then accountId):
  --store URL            key store to read (default: DATABASE_URL, else store.url of --config); 'none' for no store
  --principals FILE      a JSONL file of principals instead of the key store
options:
  --at record|now|TIME   decide at each request's own time (default), now, or one instant
  --from TIME --to TIME  only requests in this window     --limit N   at most N requests
  --on-error continue|stop   on a bad record: report it and go on (default), or stop there (exit 1)
  --examples N           example request ids per change (default 10)
  --json                 the full report as JSON
`;

export async function run(argv: string[], io: Io = defaultIo()): Promise<number> {
  const args = argv.slice(1);
  if (args.includes('--help') || args.includes('-h')) {
    io.out(USAGE);
    return 0;
  }
  return runCommand('replay', USAGE, io, async () => {
    const { values, positionals } = parseFlags(args, {
      config: { type: 'string' },
      store: { type: 'string' },
      policy: { type: 'string' },
      directive: { type: 'string', multiple: true },
      lift: { type: 'string', multiple: true },
      classify: { type: 'string' },
      limits: { type: 'string' },
      log: { type: 'string' },
      sample: { type: 'string' },
      principals: { type: 'string' },
      at: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      limit: { type: 'string' },
      'on-error': { type: 'string' },
      examples: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
    if (values.log && values.sample) throw new UsageError('give --log or --sample, not both');
    const onError = (values['on-error'] as string | undefined) ?? 'continue';
    if (onError !== 'continue' && onError !== 'stop') throw new UsageError(`--on-error: expected continue or stop, got '${onError}'`);
    const num = (name: string): number | undefined => {
      const v = values[name] as string | undefined;
      if (v === undefined) return undefined;
      if (!/^\d+$/.test(v)) throw new UsageError(`--${name}: expected a whole number, got '${v}'`);
      return Number(v);
    };
    const time = (name: string): number | undefined => {
      const v = values[name] as string | undefined;
      if (v === undefined) return undefined;
      try {
        return parseTime(v, `--${name}`);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
    };
    const atFlag = (values.at as string | undefined) ?? 'record';
    const at = atFlag === 'record' ? 'record' : atFlag === 'now' ? Date.now() : time('at')!;
    const configPath = values.config as string | undefined;

    const storeUrl = values.principals && !values.store && !configPath ? null : resolveStoreUrl({ flag: values.store as string | undefined, configPath, env: io.env });
    const { db, note } = await openStoreReadOnly(storeUrl);
    const warnings: string[] = note ? [note] : [];
    let loaded;
    try {
      loaded = await loadBaseline(configPath, db);
    } finally {
      await db?.close();
    }
    warnings.push(...loaded.warnings);
    const draftInput: DraftInput = {};
    if (values.policy) draftInput.policy = { path: values.policy as string };
    if (values.directive) draftInput.directives = (values.directive as string[]).map((path) => ({ path }));
    if (values.lift) draftInput.lift = values.lift as string[];
    if (values.classify) draftInput.classify = { path: values.classify as string };
    if (values.limits) draftInput.limits = { path: values.limits as string };
    const draft = buildDraft(loaded.baseline, draftInput);
    warnings.push(...draft.warnings);
    const principals = principalIndex(values.principals ? principalsFromJsonl(values.principals as string) : loaded.principals);

    const files: SourceFile[] = values.sample ? [{ path: values.sample as string, limit: null }] : await auditLogFiles((values.log as string | undefined) ?? loaded.auditPath).catch((err: Error) => {
      throw new UsageError(`cannot read the audit log: ${err.message}`);
    });
    const engine = new ReplayEngine({ baseline: draft.baseline, draft: draft.scenario, principals, at, ...(num('examples') !== undefined ? { examples: num('examples')! } : {}) });
    const result = await runReplay(files, engine, { onError, ...optional('from', time('from')), ...optional('to', time('to')), ...optional('limit', num('limit')) })
      .catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') throw new UsageError(`cannot read ${err.path ?? 'the source'}: no such file`);
        throw err;
      })
      .finally(() => draft.close());
    if (values.json) io.out(JSON.stringify({ draft: draft.summary, warnings, ...result }, null, 2) + '\n');
    else io.out(formatReport(result.report, draft.summary, warnings, result.truncated));
    if (result.stoppedAt) {
      io.err(`gatehouse replay: stopped at ${result.stoppedAt.file}:${result.stoppedAt.line}: ${result.stoppedAt.reason}\n`);
      return 1;
    }
    return 0;
  });
}

function optional<K extends string, V>(key: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: V };
}

function top(map: Record<string, number>, n = 8): string {
  return Object.entries(map)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, n)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

export function formatReport(r: ReplayReport, summary: string[], warnings: string[], truncated: boolean): string {
  const lines: string[] = [];
  lines.push(`draft: ${summary.length ? summary.join('; ') : '(none: baseline against itself)'}`);
  for (const w of warnings) lines.push(`warning: ${w}`);
  const s = r.records;
  lines.push(`records: ${s.read} read, ${s.requests} requests, ${s.replayed} replayed, ${s.bad} bad${truncated ? ' (stopped at --limit)' : ''}; decided at ${r.at}`);
  for (const [why, n] of Object.entries(s.skipped)) lines.push(`  skipped ${n}: ${why}`);
  for (const b of r.badRecords) lines.push(`  bad record ${b.file}:${b.line}: ${b.reason}`);
  const f = r.fidelity;
  const total = f.agree + f.disagree;
  lines.push(`baseline agrees with what was recorded: ${f.agree}/${total}${total ? ` (${((100 * f.agree) / total).toFixed(1)} %)` : ''}`);
  for (const e of f.examples.slice(0, 3)) lines.push(`  e.g. ${e.requestId}: recorded ${e.recorded}, baseline ${e.baseline}`);
  lines.push(`unchanged: ${r.unchanged}`);
  for (const t of TRANSITIONS) {
    const g = r.changes[t];
    if (g.count === 0) continue;
    lines.push(`${t}: ${g.count}`);
    lines.push(`  by reason: ${top(g.byReason)}`);
    lines.push(`  by model: ${top(g.byModel)}`);
    lines.push(`  by org: ${top(g.byOrg)}`);
    lines.push(`  from: ${g.keys} key(s), ${g.accounts} account(s), ${g.orgs} organisation(s)`);
    lines.push(`  by population: ${top(g.byAttribute, 12)}`);
    lines.push(`  examples: ${g.examples.join(', ')}`);
  }
  if (TRANSITIONS.every((t) => r.changes[t].count === 0)) lines.push('no request would be decided differently');
  return lines.join('\n') + '\n';
}
