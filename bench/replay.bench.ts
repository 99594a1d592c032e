/**
 * Policy replay speed: a synthetic audit log of N request records (default 1,000,000, the shape the gateway writes,
 * chain fields included) replayed under a draft (a policy with 200 rules replaced by one with a new rule, a draft
 * suspend directive, lowered classifier thresholds) against 10,000 principals. Baseline measured in the same run:
 * reading and JSON-parsing every line of the same log and nothing else — the floor for any replay of a JSONL log.
 *
 *   node --import tsx bench/replay.bench.ts [--records N] [--with-limits] [--keep]
 *
 * `--with-limits` adds a limits draft (key rpm/tpm, account budget): limits are then replayed on both sides.
 * Prints records/s for both, the replay's seconds per million records, and the ratio replay ÷ parse.
 */
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseClassifyConfig } from '../src/classify/config.ts';
import type { Principal } from '../src/core/types.ts';
import { compilePolicyObject } from '../src/policy/compile.ts';
import { shippedGroups } from '../src/population/groups.ts';
import { LicenceIndex } from '../src/policy/licences.ts';
import { AccessSnapshot } from '../src/policy/snapshot.ts';
import { buildDraft, type Baseline } from '../src/replay/draft.ts';
import { ReplayEngine } from '../src/replay/engine.ts';
import { principalIndex } from '../src/replay/principals.ts';
import { readLines } from '../src/replay/reader.ts';
import { runReplay } from '../src/replay/run.ts';

const { values } = parseArgs({ options: { records: { type: 'string' }, keep: { type: 'boolean' }, 'with-limits': { type: 'boolean' } } });
const N = Number(values.records ?? 1_000_000);

let seed = 7;
const rnd = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;

const MODELS = Array.from({ length: 20 }, (_, i) => `m${i}`);
const COUNTRIES = ['US', 'GB', 'DE', 'FR', 'CN', 'IN', 'JP', 'BR', 'CA', 'AU', 'IR', 'RU', 'KR', 'NG', 'MX'];
const KYC = ['none', 'basic', 'verified-identity', 'verified-organisation'] as const;
const TIERS = ['general', 'verified', 'trusted-defender'];

const principals: Principal[] = Array.from({ length: 10_000 }, (_, i) => ({
  keyId: `k${i}`,
  accountId: `a${i}`,
  orgId: rnd() < 0.7 ? `o${i % 500}` : null,
  nationalities: [pick(COUNTRIES)],
  residence: pick(COUNTRIES),
  kyc: pick(KYC),
  programmes: rnd() < 0.1 ? ['critical-infrastructure-defenders'] : [],
  tier: pick(TIERS),
  staff: false,
}));

function rules(extra: unknown[] = []): unknown {
  const list: unknown[] = [...extra];
  for (let i = 0; i < 200; i++) {
    list.push({ id: `r${i}`, models: [pick(MODELS)], when: { nationality: { anyOf: [pick(COUNTRIES), pick(COUNTRIES)] }, kyc: { atLeast: pick(KYC) } }, action: rnd() < 0.5 ? 'allow' : 'deny' });
  }
  return { version: 1, default: 'allow', rules: list };
}

async function writeLog(path: string): Promise<void> {
  const out = createWriteStream(path);
  const base = Date.UTC(2026, 10, 1);
  let prev = '0'.repeat(64);
  for (let i = 1; i <= N; i++) {
    const p = pick(principals);
    const model = pick(MODELS);
    const refused = rnd() < 0.05;
    const hash = (i * 2654435761).toString(16).padStart(64, 'a').slice(0, 64);
    const rec = {
      action: refused ? 'refuse' : 'allow',
      ...(refused ? { code: 'policy_deny' } : {}),
      costUsd: 0.0012,
      inputTokens: 120,
      kind: 'request',
      labels: { benign: rnd(), coding: rnd() * 0.2, 'security-defensive': rnd() * 0.1, 'security-offensive': rnd() * 0.3, 'bio-chem': rnd() * 0.2, 'other-harm': rnd() * 0.5, jailbreak: rnd() * 0.2 },
      latencyMs: 230,
      modelRequested: model,
      modelServed: refused ? null : model,
      outcome: refused ? 'refused' : 'ok',
      outputTokens: 40,
      prevHash: prev,
      principal: { accountId: p.accountId, keyId: p.keyId, orgId: p.orgId },
      protocol: 'openai',
      requestId: `req-${i.toString(36)}`,
      requestTime: base + i * 10,
      seq: i,
      status: refused ? 403 : 200,
      stream: false,
      time: base + i * 10 + 230,
      usageEstimated: false,
      hash,
    };
    prev = hash;
    if (!out.write(JSON.stringify(rec) + '\n')) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-replay-bench-'));
const log = join(dir, 'audit.jsonl');
try {
  process.stdout.write(`writing ${N.toLocaleString()} records… `);
  await writeLog(log);
  process.stdout.write(`${(statSync(log).size / 1e6).toFixed(0)} MB\n`);
  const files = [{ path: log, limit: null }];

  // Baseline: read and parse every line, nothing else.
  let t0 = performance.now();
  let parsed = 0;
  await readLines(files, {
    line(text) {
      if ((JSON.parse(text) as { seq: number }).seq > 0) parsed++;
      return true;
    },
  });
  const parseMs = performance.now() - t0;

  const groups = shippedGroups();
  const policy = compilePolicyObject(rules(), { models: MODELS, groups });
  const baseline: Baseline = { access: new AccessSnapshot(policy, [], LicenceIndex.EMPTY, MODELS), classify: parseClassifyConfig({}), models: MODELS, groups };
  const draft = buildDraft(baseline, {
    policy: { value: rules([{ id: 'new', models: ['m1', 'm2'], when: { nationality: { anyOf: ['CN', 'RU', 'IR'] } }, action: 'deny' }]), name: 'draft' },
    directives: [{ value: { models: ['m3'], population: { nationality: { anyOf: ['RU', 'IR'] } }, effect: 'suspend', authority: 'bench', reference: 'bench' }, name: 'directive' }],
    classify: { value: { tiers: { general: { 'other-harm': { action: 'refuse', threshold: 0.45 } } } }, name: 'classify' },
    ...(values['with-limits'] ? { limits: { value: { defaults: { key: { rpm: 30, tpm: 20_000 }, account: { monthlyBudgetUsd: 50 } } }, name: 'limits' } } : {}),
  });
  const engine = new ReplayEngine({ baseline: draft.baseline, draft: draft.scenario, principals: principalIndex(principals) });
  t0 = performance.now();
  const { report } = await runReplay(files, engine);
  const replayMs = performance.now() - t0;
  await draft.close();

  const changed = Object.values(report.changes).reduce((s, g) => s + g.count, 0);
  console.log(`draft: ${draft.summary.join('; ')}`);
  console.log(`records: ${parsed.toLocaleString()} parsed; replayed ${report.records.replayed.toLocaleString()}, changed ${changed.toLocaleString()} (served→refused ${report.changes['served→refused'].count}, refused→served ${report.changes['refused→served'].count})`);
  console.log(`baseline (read + JSON.parse only): ${(parseMs / 1000).toFixed(2)} s, ${Math.round((N / parseMs) * 1000).toLocaleString()} records/s`);
  console.log(`replay (parse + baseline and draft decisions + report): ${(replayMs / 1000).toFixed(2)} s, ${Math.round((N / replayMs) * 1000).toLocaleString()} records/s, ${((replayMs / N) * 1e6 / 1000).toFixed(1)} s per million`);
  console.log(`ratio replay ÷ parse: ${(replayMs / parseMs).toFixed(2)}`);
} finally {
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
}
