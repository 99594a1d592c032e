/**
 * The second traffic generator (src/abuse/population) and the detector against it, at a small scale.
 * Seeds used here are development seeds; the benchmark's held-back seeds are never used in tests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { AbuseDetector } from '../src/abuse/detector.ts';
import { decideActions } from '../src/abuse/gate.ts';
import { HARD_NEGATIVE_LABELS, RING_LABELS, generatePopulation, scorePopulation, type PopLabel } from '../src/abuse/population/generate.ts';
import { promptShape, sketchPrompt } from '../src/abuse/sketch.ts';
import { AGENT_SYSTEM_PROMPT, carefulPrompt } from '../src/abuse/population/text.ts';
import { Rand } from '../src/abuse/population/rand.ts';

const NOW = () => Date.UTC(2027, 0, 1);
const SCALE = 0.05;

const cache = new Map<number, ReturnType<typeof runUncached>>();
function run(seed: number) {
  if (!cache.has(seed)) cache.set(seed, runUncached(seed));
  return cache.get(seed)!;
}
function runUncached(seed: number) {
  const pop = generatePopulation({ seed, scale: SCALE });
  const det = new AbuseDetector({ accountCapacity: 20_000 }, NOW);
  for (const r of pop.records()) det.ingestRecord(r);
  const analysis = det.analyse();
  const actions = decideActions(analysis, det.cfg);
  const flagged = new Set([...actions].filter(([, a]) => a.action !== 'none').map(([id]) => id));
  return { pop, det, analysis, actions, flagged, labels: pop.labels(), q: scorePopulation(flagged, pop.labels()) };
}

test('the population generator is deterministic per seed, differs across seeds and labels every account', () => {
  const digest = (seed: number) => {
    const h = createHash('sha256');
    const pop = generatePopulation({ seed, scale: 0.01 });
    for (const r of pop.records()) h.update(JSON.stringify(r));
    return h.digest('hex');
  };
  assert.equal(digest(4), digest(4));
  assert.notEqual(digest(4), digest(5));
  const { pop, labels } = run(3);
  assert.equal(labels.size, pop.accounts.length);
  const count = (l: PopLabel) => [...labels.values()].filter((x) => x === l).length;
  for (const l of [...RING_LABELS, ...HARD_NEGATIVE_LABELS, 'consumer', 'developer'] as PopLabel[]) assert.ok(count(l) > 0, `no ${l} accounts`);
  assert.equal(count('ring-crude'), Math.round(2500 * SCALE));
  assert.equal(count('ring-careful'), Math.round(500 * SCALE));
  // Events are in time order, inside the simulated days, with well-formed sketches.
  let last = 0;
  for (let k = 0; k < pop.eventCount; k += 97) {
    const e = pop.event(k);
    assert.ok(e.time >= last && e.time >= pop.opts.startTime && e.time < pop.opts.startTime + pop.opts.days * 86_400_000);
    assert.match(e.promptSketch!, /^[0-9a-f]{16}$/);
    assert.match(e.promptShape!, /^[0-9a-f]{16}$/);
    last = e.time;
  }
});

test('the populations carry the traits that made the first detector fail', () => {
  const { pop } = run(3);
  const by = (l: PopLabel) => pop.accounts.filter((a) => a.label === l);
  // Careful ring: a card and a device per account.
  const careful = by('ring-careful');
  assert.equal(new Set(careful.map((a) => a.meta.paymentFingerprint)).size, careful.length);
  assert.equal(new Set(careful.map((a) => a.meta.clientFingerprint)).size, careful.length);
  // Classes: one grant card and lab image per class; shell company: one verified organisation.
  const classes = by('class');
  assert.ok(new Set(classes.map((a) => a.meta.paymentFingerprint)).size < classes.length / 10);
  const shell = by('ring-shell');
  assert.equal(new Set(shell.map((a) => a.meta.orgId)).size, 1);
  assert.ok(shell.every((a) => a.meta.kyc === 'verified-organisation'));
  // Paraphrase: one grid cell asked twice reads differently, and the word sketch drifts; the structure often holds.
  const r = new Rand(1);
  const a = carefulPrompt(r, 3, 4, 5);
  let b = carefulPrompt(r, 3, 4, 5);
  for (let i = 0; i < 10 && b === a; i++) b = carefulPrompt(r, 3, 4, 5);
  assert.notEqual(a, b);
  assert.ok(sketchPrompt(a) !== sketchPrompt(b));
  // The coding tool's system prompt dominates its users' prompts (a shared template nobody should be linked by).
  assert.ok(AGENT_SYSTEM_PROMPT.split(' ').length > 150);
  assert.notEqual(promptShape(a).slice(8), promptShape(b).slice(8), 'a paraphrase is a different item');
});

test('detector on the second generator: precision, recall, careful ring, shell company, hard negatives (dev seeds)', () => {
  for (const seed of [3, 4]) {
    const { q, det, pop } = run(seed);
    assert.equal(det.stats().accepted, pop.eventCount);
    const msg = JSON.stringify({ seed, ...q, perLabel: undefined });
    assert.ok(q.precision >= 0.95, msg);
    assert.ok(q.recall >= 0.9, msg);
    assert.ok(q.recallByRing['ring-careful'] >= 0.8, msg);
    assert.ok(q.recallByRing['ring-shell'] >= 0.9, msg);
    assert.ok(q.hardNegativeFlagRate <= 0.01, msg);
  }
});

test('rings are explained: members, linking signals with weights, a timeline; the shell company is escalated past the KYC cap', () => {
  const { analysis, labels, actions } = run(3);
  const top = analysis.rings.filter((r) => r.score >= 0.3);
  assert.ok(top.length >= 3);
  for (const r of top) {
    assert.ok(r.members.length >= 3);
    assert.ok(r.links && r.links.length >= 2 && r.links.every((l) => l.weight > 0));
    assert.ok(r.timeline && r.timeline.length > 0 && r.timeline.some((d) => d.started > 0));
    assert.ok(r.evidence.length >= 3);
  }
  const shell = analysis.rings.find((r) => r.members.some((m) => labels.get(m) === 'ring-shell'))!;
  assert.ok(shell.explainedByOrg && shell.review, JSON.stringify({ org: shell.explainedByOrg, review: shell.review }));
  assert.ok(shell.members.every((m) => labels.get(m) === 'ring-shell'));
  const act = actions.get(shell.members[0]!)!;
  assert.notEqual(act.action, 'none');
  // Research groups inside verified organisations re-run public benchmarks: never flagged.
  for (const [id, l] of labels) if (l === 'research') assert.equal(actions.get(id), undefined, id);
});

test('the service reports the shell company as an incident candidate naming its verified organisation', async () => {
  const { AbuseService } = await import('../src/abuse/service.ts');
  const incidents: { summary: string; ringId: string }[] = [];
  const svc = new AbuseService({ accountCapacity: 20_000, batchSize: 100_000 }, { onIncidentCandidate: (c) => incidents.push(c), now: NOW });
  const { pop, labels } = run(4);
  for (const r of pop.records()) svc.submit(r as never);
  const analysis = await svc.analyseNow();
  const shell = analysis.rings.find((r) => r.members.some((m) => labels.get(m) === 'ring-shell'))!;
  const c = incidents.find((i) => i.ringId === shell.id);
  assert.ok(c, JSON.stringify(incidents.map((i) => i.summary)));
  assert.match(c.summary, /inside verified organisation org-nimbus-analytics/);
  await svc.stop();
});
