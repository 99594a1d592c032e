/**
 * `gatehouse policy explain|test|check`.
 *   explain: which directive / rule / licence decides a key's (or account's) access to a model, and why.
 *   test:    run table-driven expectations (exit 1 on any mismatch, with a diff per failing case).
 *   check:   validate a policy file (exit 2 with file:line errors).
 */
import { KeyRepository, type KeyRecord } from '../identity/keys.ts';
import type { Principal } from '../core/types.ts';
import { AccessControl, type PlanDecision } from './access-control.ts';
import { CommandError, COMMON_OPTIONS, defaultIo, type Io, parseFlags, runSubcommand, UsageError, withStore } from '../cli/common.ts';
import { readCapabilityConfig } from './cli-config.ts';
import { loadPolicyFile } from './compile.ts';
import { describeVerdict, runExpectationsFile } from './expectations.ts';
import { loadGroups } from '../population/groups.ts';
import { type Explanation } from './snapshot.ts';
import { parseTimeFlag } from '../population/time.ts';
import { resolve } from 'node:path';
import { principalFromKey } from '../identity/principal.ts';

const USAGE = `usage: gatehouse policy <explain|test|check> [options]

  policy explain (--key KEYID | --account ACCOUNT) --model MODEL [--at ISO] [--json]
  policy test FILE [--policy FILE] [--json]     expectations file (see docs/policy.md); exit 1 on any mismatch
  policy check [FILE]                            validate a policy file (default: policy.file from --config)
common options: --store URL, --config FILE (policy file, country groups and model catalogue), --json
`;

export async function run(argv: string[], io: Io = defaultIo()): Promise<number> {
  return runSubcommand('policy', argv, USAGE, io, async (sub, rest) => {
    const { values, positionals } = parseFlags(rest, { ...COMMON_OPTIONS, key: { type: 'string' }, account: { type: 'string' }, model: { type: 'string' }, at: { type: 'string' }, policy: { type: 'string' } });
    if (values.help) {
      io.out(USAGE);
      return 0;
    }
    const cfg = readCapabilityConfig(values.config as string | undefined);
    switch (sub) {
      case 'check': {
        if (positionals.length > 1) throw new UsageError('expected at most one FILE');
        const file = positionals[0] ?? (cfg.policy.file ? resolve(cfg.baseDir, cfg.policy.file) : undefined);
        if (!file) throw new UsageError('expected a policy FILE (or --config with policy.file)');
        const p = loadPolicyFile(file, { models: cfg.models, groups: loadGroups(cfg.policy.countryGroupFiles.map((f) => resolve(cfg.baseDir, f))) });
        io.out(`${file}: ok (${p.rules.length} rules, default ${p.defaultAction}, ${p.groups.size} country groups)\n`);
        return 0;
      }
      case 'test': {
        if (positionals.length !== 1) throw new UsageError('expected one expectations FILE');
        const policyFile = (values.policy as string | undefined) ?? (cfg.policy.file ? resolve(cfg.baseDir, cfg.policy.file) : undefined);
        const report = runExpectationsFile(positionals[0]!, {
          ...(policyFile ? { policyFile } : {}),
          models: cfg.models,
          countryGroupFiles: cfg.policy.countryGroupFiles.map((f) => resolve(cfg.baseDir, f)),
        });
        if (values.json) io.out(JSON.stringify(report, null, 2) + '\n');
        else {
          for (const r of report.results) {
            if (r.ok) io.out(`ok      ${r.name}: ${r.got}\n`);
            else io.out(`FAIL    ${report.file}${r.line ? `:${r.line}` : ''} ${r.name}\n  - expected ${r.expected}\n  + got      ${r.got}\n    decided by ${r.decidedBy}\n`);
          }
          io.out(`${report.results.length - report.failed} passed, ${report.failed} failed\n`);
        }
        return report.failed ? 1 : 0;
      }
      case 'explain': {
        if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
        if (typeof values.model !== 'string') throw new UsageError('--model MODEL is required');
        if ((values.key === undefined) === (values.account === undefined)) throw new UsageError('give exactly one of --key KEYID or --account ACCOUNT');
        const at = values.at !== undefined ? parseTimeFlag(values.at as string, '--at') : Date.now();
        return withStore(values, io, async (db) => {
          const keys = new KeyRepository(db);
          let key: KeyRecord | undefined;
          if (values.key !== undefined) {
            key = await keys.get(values.key as string);
            if (!key) throw new CommandError(`no key with id '${values.key}'`);
          } else {
            key = (await keys.list({ accountId: values.account as string, status: 'active' }))[0];
            if (!key) throw new CommandError(`account '${values.account}' has no active key`);
          }
          const access = new AccessControl({ db, config: { policy: cfg.policy, directives: cfg.directives }, models: cfg.models, baseDir: cfg.baseDir, fallbacksOf: (m) => cfg.fallbacks.get(m) ?? [] });
          try {
            await access.start();
            const ex = access.explain(principalOf(key), values.model as string, at);
            io.out(values.json ? JSON.stringify(ex, null, 2) + '\n' : formatExplanation(ex, key.status === 'revoked'));
            return 0;
          } finally {
            await access.close();
          }
        });
      }
      default:
        throw new UsageError(`unknown subcommand '${sub}'`);
    }
  });
}

export const principalOf: (k: KeyRecord) => Principal = principalFromKey;

export function formatExplanation(ex: Explanation & { plan?: PlanDecision[] }, revoked = false): string {
  const p = ex.principal;
  const out: string[] = [];
  out.push(`model ${ex.model} at ${ex.at}`);
  out.push(`principal key=${p.keyId} account=${p.accountId} org=${p.orgId ?? '-'} nationalities=[${p.nationalities.join(', ')}] residence=${p.residence ?? '-'} kyc=${p.kyc} programmes=[${p.programmes.join(', ')}] staff=${p.staff} tier=${p.tier}${revoked ? ' (KEY REVOKED: requests are refused before policy)' : ''}`);
  out.push(`decision: ${describeVerdict(ex.verdict)}${ex.verdict.action === 'refuse' ? ` — ${ex.verdict.message}` : ''}`);
  out.push(`decided by: ${ex.decidedBy}`);
  out.push(`directives considered (${ex.directives.length}):`);
  for (const d of ex.directives) out.push(`  ${d.matched ? '●' : '○'} ${d.id} [${d.effect}, ${d.state}] ${d.reasons.join('; ')}${d.outcome ? ` → ${d.outcome}` : ''}`);
  out.push(`rules considered (${ex.rules.length}):`);
  for (const r of ex.rules) out.push(`  ${r.matched ? '●' : '○'} ${r.id} (#${r.index}, ${r.action}) ${r.reasons.join('; ')}`);
  out.push(`licences held (${ex.licences.length}):`);
  for (const l of ex.licences) out.push(`  ${l.covers ? '●' : '○'} ${l.why}`);
  if (ex.plan && ex.plan.length > 1) {
    out.push(`attempt plan (${ex.plan.length} models, each decided before it is tried):`);
    for (const e of ex.plan) out.push(`  ${e.decision === 'refuse' ? '✗' : '✓'} ${e.model}: ${e.decision}${e.to ? ` → ${e.to}` : ''}${e.code ? ` (${e.code})` : ''} — ${e.decidedBy}`);
  }
  return out.join('\n') + '\n';
}
