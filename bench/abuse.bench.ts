/**
 * Abuse detection benchmark: quality and speed at the issue's scale.
 *   node --import tsx bench/abuse.bench.ts [--quick]
 * 1. Simulate 1,000,000 benign requests from 100,000 accounts (with hard negatives) + a 2,500-account ring
 *    at stealth 0.5; ingest on one core; analyse; precision/recall per action level; hard negatives' worst action.
 * 2. Throughput vs a baseline that only parses and validates the same events (shape, skew, dedup).
 * 3. Detector memory (heap + array buffers delta) against the stated bound memoryBoundBytes(config).
 * 4. Precision/recall as stealth rises (smaller population, same proportions), as a table and an SVG plot.
 * Writes bench/results/abuse.md and bench/results/abuse-stealth.svg (and .png when ImageMagick can render it).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ANALYSIS_BYTES_PER_ACCOUNT, ANALYSIS_BYTES_PER_SUSPECT, AbuseDetector, memoryBoundBytes } from '../src/abuse/detector.ts';
import { decideActions } from '../src/abuse/gate.ts';
import { HARD_NEGATIVE_LABELS, evaluate, simulate, type Simulation } from '../src/abuse/simulate.ts';
import { promptSignals, sketchPrompt } from '../src/abuse/sketch.ts';
import { ACTION_ORDER, type AbuseEvent } from '../src/abuse/types.ts';
import { EventValidator, parseRecord } from '../src/abuse/validate.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const quick = process.argv.includes('--quick');
const SCALE = quick ? 0.1 : 1;
const NOW = () => Date.UTC(2026, 5, 1);
const log = (s: string) => process.stdout.write(s + '\n');
const mem = () => {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers + m.external;
};

function chunks(sim: Simulation, size: number): Generator<AbuseEvent[]> {
  return (function* () {
    for (let k = 0; k < sim.eventCount; k += size) {
      const out: AbuseEvent[] = [];
      for (let i = k; i < Math.min(sim.eventCount, k + size); i++) out.push(sim.event(i));
      yield out;
    }
  })();
}

function quality(det: AbuseDetector, sim: Simulation) {
  const analysis = det.analyse();
  const actions = decideActions(analysis, det.cfg);
  const levels = new Map([...actions].map(([id, a]) => [id, ACTION_ORDER.indexOf(a.action)]));
  const labels = sim.labels();
  const at = Object.fromEntries((['flag', 'require-kyc', 'degrade', 'suspend'] as const).map((a) => [a, evaluate(levels, labels, ACTION_ORDER.indexOf(a))]));
  const worstHardNegative: Record<string, string> = {};
  for (const l of HARD_NEGATIVE_LABELS) worstHardNegative[l] = 'none';
  for (const [id, l] of labels) {
    if (!HARD_NEGATIVE_LABELS.includes(l)) continue;
    const lvl = levels.get(id) ?? 0;
    if (lvl > ACTION_ORDER.indexOf(worstHardNegative[l] as never)) worstHardNegative[l] = ACTION_ORDER[lvl];
  }
  return { analysis, at, worstHardNegative };
}

// --- 0. sketch cost (the hot-path part) ---
const prompt = 'You are an expert tutor. Solve the following problem step by step, showing every intermediate step and your full reasoning. Problem: a train leaves the station at noon travelling at sixty kilometres per hour towards a city two hundred kilometres away';
for (let i = 0; i < 20_000; i++) sketchPrompt(prompt);
let t0 = process.hrtime.bigint();
for (let i = 0; i < 100_000; i++) sketchPrompt(prompt);
const sketchUs = Number(process.hrtime.bigint() - t0) / 1e3 / 100_000;
log(`sketchPrompt: ${sketchUs.toFixed(2)} µs per ${prompt.split(' ').length}-word prompt`);
for (let i = 0; i < 20_000; i++) promptSignals(prompt);
t0 = process.hrtime.bigint();
for (let i = 0; i < 100_000; i++) promptSignals(prompt);
const signalsUs = Number(process.hrtime.bigint() - t0) / 1e3 / 100_000;
log(`promptSignals (sketch + shape + reasoning): ${signalsUs.toFixed(2)} µs per prompt`);

// --- 1. main run ---
t0 = process.hrtime.bigint();
const sim = simulate({ seed: 2026, benignAccounts: 100_000 * SCALE, benignRequests: 1_000_000 * SCALE, ringSize: Math.round(2500 * SCALE), stealth: 0.5, hardNegativeScale: SCALE });
const simS = Number(process.hrtime.bigint() - t0) / 1e9;
log(`simulated ${sim.eventCount} events, ${sim.accounts.length} accounts in ${simS.toFixed(1)} s`);

const cfg = { accountCapacity: 150_000 * SCALE, dedupCapacity: 200_000, maxSuspects: 50_000 };
const base0 = mem();
const det = new AbuseDetector(cfg, NOW);
for (const a of sim.accounts) det.ingestAccount(a.meta);
const baseline = new EventValidator({ dedupCapacity: cfg.dedupCapacity, maxClockSkewMs: 300_000, replayWindowMs: 86_400_000, now: NOW });
let ingestNs = 0;
let baselineNs = 0;
let ingestCpuUs = 0;
let baselineCpuUs = 0;
const load0 = os.loadavg()[0];
let peak = 0;
for (const batch of chunks(sim, 100_000)) {
  let t = process.hrtime.bigint();
  let c = process.cpuUsage();
  for (const e of batch) {
    const p = parseRecord(e);
    if (p.kind === 'request') baseline.admit(p.event);
  }
  baselineCpuUs += process.cpuUsage(c).user;
  baselineNs += Number(process.hrtime.bigint() - t);
  t = process.hrtime.bigint();
  c = process.cpuUsage();
  for (const e of batch) det.ingest(e);
  ingestCpuUs += process.cpuUsage(c).user;
  ingestNs += Number(process.hrtime.bigint() - t);
}
const afterIngest = mem();
t0 = process.hrtime.bigint();
const q = quality(det, sim);
const analyseMs = Number(process.hrtime.bigint() - t0) / 1e6;
peak = Math.max(afterIngest, mem());
const n = sim.eventCount;
const ingestRate = n / (ingestNs / 1e9);
const baselineRate = n / (baselineNs / 1e9);
// Per CPU-second of this thread: what one dedicated core does, less distorted by other load on the machine.
const ingestCpuRate = n / (ingestCpuUs / 1e6);
const baselineCpuRate = n / (baselineCpuUs / 1e6);
const load1 = os.loadavg()[0];
const detectorBytes = peak - base0;
const bound = memoryBoundBytes(det.cfg);
log(`ingest: ${(ingestRate / 1000).toFixed(0)}k events/s wall, ${(ingestCpuRate / 1000).toFixed(0)}k events per CPU-second; baseline parse+validate only: ${(baselineRate / 1000).toFixed(0)}k wall, ${(baselineCpuRate / 1000).toFixed(0)}k per CPU-s; ratio ${(ingestCpuRate / baselineCpuRate).toFixed(2)} (load average ${load0.toFixed(1)} → ${load1.toFixed(1)} on ${os.cpus().length} cores)`);
log(`analyse: ${analyseMs.toFixed(0)} ms; suspects ${q.analysis.suspects}; rings ${q.analysis.rings.length}`);
for (const [a, r] of Object.entries(q.at)) log(`  at ≥${a.padEnd(11)} precision ${r.precision.toFixed(4)} recall ${r.recall.toFixed(4)} (tp ${r.tp}, fp ${r.fp} ${JSON.stringify(r.falsePositivesByLabel)})`);
log(`hard negatives, worst action: ${JSON.stringify(q.worstHardNegative)}`);
log(`memory: detector ${(detectorBytes / 2 ** 20).toFixed(1)} MiB measured vs bound ${(bound / 2 ** 20).toFixed(1)} MiB (accountCapacity ${det.cfg.accountCapacity}, dedupCapacity ${det.cfg.dedupCapacity}, maxSuspects ${det.cfg.maxSuspects})`);

// JSONL path on a 200k slice: JSON.parse + validate vs JSON.parse + full ingest.
const lines: string[] = [];
for (let i = 0; i < Math.min(200_000, n); i++) lines.push(JSON.stringify({ kind: 'request', ...sim.event(i) }));
const jd = new AbuseDetector(cfg, NOW);
const jv = new EventValidator({ dedupCapacity: cfg.dedupCapacity, maxClockSkewMs: 300_000, replayWindowMs: 86_400_000, now: NOW });
let c0 = process.cpuUsage();
for (const l of lines) {
  const p = parseRecord(JSON.parse(l));
  if (p.kind === 'request') jv.admit(p.event);
}
const jBase = lines.length / (process.cpuUsage(c0).user / 1e6);
c0 = process.cpuUsage();
for (const l of lines) jd.ingestLine(l);
const jFull = lines.length / (process.cpuUsage(c0).user / 1e6);
log(`JSONL (per CPU-second): ${(jFull / 1000).toFixed(0)}k lines/s with detection vs ${(jBase / 1000).toFixed(0)}k lines/s JSON.parse + validate only (ratio ${(jFull / jBase).toFixed(2)})`);
lines.length = 0;

// --- 4. stealth sweep ---
const sweep: { stealth: number; precision: number; recall: number; suspendRecall: number; fp: number }[] = [];
for (const stealth of [0, 0.25, 0.5, 0.6, 0.7, 0.8, 0.9, 1]) {
  const s = simulate({ seed: 77, benignAccounts: 10_000, benignRequests: 100_000, ringSize: 250, stealth, hardNegativeScale: 0.1 });
  const d = new AbuseDetector({ accountCapacity: 20_000 }, NOW);
  for (const a of s.accounts) d.ingestAccount(a.meta);
  for (const e of s.events()) d.ingest(e);
  const r = quality(d, s);
  sweep.push({ stealth, precision: r.at.flag.precision, recall: r.at.flag.recall, suspendRecall: r.at.suspend.recall, fp: r.at.flag.fp });
  log(`stealth ${stealth.toFixed(2)}: precision ${r.at.flag.precision.toFixed(3)} recall ${r.at.flag.recall.toFixed(3)} (suspend recall ${r.at.suspend.recall.toFixed(3)}, fp ${r.at.flag.fp})`);
}

// --- outputs ---
function svg(): string {
  const W = 560, H = 340, L = 60, R = 20, T = 30, B = 50;
  const x = (s: number) => L + s * (W - L - R);
  const y = (v: number) => T + (1 - v) * (H - T - B);
  const line = (f: (p: (typeof sweep)[0]) => number, color: string, dash = '') =>
    `<polyline fill="none" stroke="${color}" stroke-width="2.5" ${dash ? `stroke-dasharray="${dash}"` : ''} points="${sweep.map((p) => `${x(p.stealth).toFixed(1)},${y(f(p)).toFixed(1)}`).join(' ')}"/>` +
    sweep.map((p) => `<circle cx="${x(p.stealth).toFixed(1)}" cy="${y(f(p)).toFixed(1)}" r="3.5" fill="${color}"/>`).join('');
  const grid = [0, 0.25, 0.5, 0.75, 1].map((v) => `<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/><text x="${L - 8}" y="${y(v) + 4}" text-anchor="end" font-size="12">${v.toFixed(2)}</text>`).join('');
  const xt = sweep.map((p) => `<text x="${x(p.stealth)}" y="${H - B + 18}" text-anchor="middle" font-size="12">${p.stealth}</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${W / 2}" y="18" text-anchor="middle" font-size="14">Ring detection as stealth rises (250-account ring, 10k users)</text>
${grid}${xt}
<line x1="${L}" x2="${W - R}" y1="${y(0)}" y2="${y(0)}" stroke="#333"/><line x1="${L}" x2="${L}" y1="${T}" y2="${y(0)}" stroke="#333"/>
<text x="${W / 2}" y="${H - 10}" text-anchor="middle" font-size="13">ring stealth</text>
${line((p) => p.precision, '#1f77b4')}${line((p) => p.recall, '#d62728')}${line((p) => p.suspendRecall, '#ff7f0e', '5,4')}
<rect x="${L + 10}" y="${T + 150}" width="170" height="66" fill="white" stroke="#ccc"/>
<line x1="${L + 20}" x2="${L + 45}" y1="${T + 166}" y2="${T + 166}" stroke="#1f77b4" stroke-width="2.5"/><text x="${L + 50}" y="${T + 170}" font-size="12">precision</text>
<line x1="${L + 20}" x2="${L + 45}" y1="${T + 184}" y2="${T + 184}" stroke="#d62728" stroke-width="2.5"/><text x="${L + 50}" y="${T + 188}" font-size="12">recall (≥ flag)</text>
<line x1="${L + 20}" x2="${L + 45}" y1="${T + 202}" y2="${T + 202}" stroke="#ff7f0e" stroke-width="2.5" stroke-dasharray="5,4"/><text x="${L + 50}" y="${T + 206}" font-size="12">recall (suspend)</text>
</svg>\n`;
}

if (!quick) {
  writeFileSync('bench/results/abuse-stealth.svg', svg());
  let png = false;
  try {
    execFileSync('convert', ['bench/results/abuse-stealth.svg', 'bench/results/abuse-stealth.png'], { stdio: 'ignore', timeout: 20_000 });
    png = true;
  } catch {
    png = false;
  }
  const pass = (b: boolean) => (b ? 'yes' : '**no**');
  const f = q.at.flag;
  const hnOk = Object.values(q.worstHardNegative).every((a) => a !== 'suspend');
  const md = `# Abuse detection benchmark

Command: \`node --import tsx bench/abuse.bench.ts\` (writes this file). Machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, shared with other workloads, so timings are noisy (expect ±30%).

## Issue scale: ${sim.eventCount.toLocaleString('en')} events, ${sim.accounts.length.toLocaleString('en')} accounts (1,000,000 benign requests from 100,000 accounts incl. hard negatives + a 2,500-account ring at stealth 0.5)

| figure | measured | target | met |
|---|---|---|---|
| ring-member recall (≥ flag) | ${f.recall.toFixed(4)} | ≥ 0.95 | ${pass(f.recall >= 0.95)} |
| precision (≥ flag) | ${f.precision.toFixed(4)} (${f.fp} benign of ${f.tp + f.fp} flagged) | ≥ 0.95 | ${pass(f.precision >= 0.95)} |
| hard negatives at suspend | worst action per group: ${Object.entries(q.worstHardNegative).map(([k, v]) => `${k} ${v}`).join(', ')} | none at suspend | ${pass(hnOk)} |
| ingest throughput, one core, per CPU-second of the ingest thread | ${(ingestCpuRate / 1000).toFixed(0)}k events/s | ≥ 100k/s | ${pass(ingestCpuRate >= 100_000)} |
| ingest throughput, wall clock (machine load average ${load0.toFixed(1)} → ${load1.toFixed(1)} on ${os.cpus().length} cores) | ${(ingestRate / 1000).toFixed(0)}k events/s | ≥ 100k/s | ${pass(ingestRate >= 100_000)} |
| baseline: parse + validate only (shape, skew, dedup), per CPU-s / wall | ${(baselineCpuRate / 1000).toFixed(0)}k / ${(baselineRate / 1000).toFixed(0)}k events/s | — | detector/baseline ${(ingestCpuRate / baselineCpuRate).toFixed(2)} |
| JSONL lines per CPU-second: JSON.parse + detection vs JSON.parse + validate | ${(jFull / 1000).toFixed(0)}k vs ${(jBase / 1000).toFixed(0)}k lines/s | — | ratio ${(jFull / jBase).toFixed(2)} |
| analyse() (features + linking + scoring) | ${analyseMs.toFixed(0)} ms, ${q.analysis.suspects} suspects, ${q.analysis.rings.length} rings | — | — |
| detector memory (heap+buffers delta, after ingest and analysis) | ${(detectorBytes / 2 ** 20).toFixed(1)} MiB | ≤ bound ${(bound / 2 ** 20).toFixed(1)} MiB | ${pass(detectorBytes <= bound)} |
| sketchPrompt (hot path) | ${sketchUs.toFixed(2)} µs per ${prompt.split(' ').length}-word prompt | — | — |
| promptSignals: sketch + shape + reasoning test (hot path, what the gateway calls) | ${signalsUs.toFixed(2)} µs per prompt | — | ${(signalsUs / sketchUs).toFixed(2)}× sketch alone |

Per action level at issue scale:

| level | precision | recall | benign flagged (by group) |
|---|---|---|---|
${Object.entries(q.at).map(([a, r]) => `| ≥ ${a} | ${r.precision.toFixed(4)} | ${r.recall.toFixed(4)} | ${r.fp} ${JSON.stringify(r.falsePositivesByLabel)} |`).join('\n')}

Memory bound (see \`memoryBoundBytes\` in src/abuse/detector.ts): accountCapacity × (bytesPerAccount(256) + ${ANALYSIS_BYTES_PER_ACCOUNT}) + RecentIds.bytesFor(dedupCapacity) (≤ 44 bytes/id) + maxSuspects × ${ANALYSIS_BYTES_PER_SUSPECT} bytes, with every stored string at its 256-char validation cap; config here accountCapacity=${det.cfg.accountCapacity}, dedupCapacity=${det.cfg.dedupCapacity}, maxSuspects=${det.cfg.maxSuspects}.

## Precision and recall as stealth rises (250-account ring, 10,000 benign accounts / 100,000 requests, hard negatives at 0.1×)

Stealth s spreads the ring over more payment cards and client fingerprints (pool ≈ s²·N), over residential prefixes shared with real users, jitters (log-normal gaps, σ = 1.2·s) and day-gates its timing (s > 0.6), paraphrases its templates and pads prompts, lowers the reasoning-trace share (0.9 − 0.5·s) and output/input ratio, and ages a share s of its accounts.

| stealth | precision (≥ flag) | recall (≥ flag) | recall at suspend | benign flagged |
|---|---|---|---|---|
${sweep.map((p) => `| ${p.stealth.toFixed(2)} | ${p.precision.toFixed(3)} | ${p.recall.toFixed(3)} | ${p.suspendRecall.toFixed(3)} | ${p.fp} |`).join('\n')}

![precision and recall vs stealth](abuse-stealth.${png ? 'png' : 'svg'})

Reading: suspicion is led by harvest intensity (long-form answers, output volume relative to the population), and suspects are linked by purity-weighted keys, shared proxy prefixes, cohort and synchronised activity without needing a shared card. At stealth 1 this simulator also shortens the ring's answers by 40% (below the long-form threshold) on top of a card and device per account, residential proxies, human timing and aged accounts: member by member it is then indistinguishable from users here, and recall collapses. The simulator is ours, so these figures show the detector's behaviour against the threat model we wrote, not against a real adversary; bench/results/abuse-population.md has the second, independent generator.
`;
  writeFileSync('bench/results/abuse.md', md);
  log('wrote bench/results/abuse.md and abuse-stealth.svg' + (png ? ' + .png' : ''));
}
