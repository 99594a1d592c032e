import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { AbuseDetector } from '../src/abuse/detector.ts';
import { decideActions } from '../src/abuse/gate.ts';
import { HARD_NEGATIVE_LABELS, evaluate, simulate, type Label } from '../src/abuse/simulate.ts';
import { ACTION_ORDER } from '../src/abuse/types.ts';

const NOW = () => Date.UTC(2026, 5, 1);
const SMALL = { benignAccounts: 5000, benignRequests: 40_000, ringSize: 150, hardNegativeScale: 0.1 };

const cache = new Map<string, ReturnType<typeof runUncached>>();
function run(stealth: number, seed = 11) {
  const k = `${stealth}/${seed}`;
  if (!cache.has(k)) cache.set(k, runUncached(stealth, seed));
  return cache.get(k)!;
}

function runUncached(stealth: number, seed: number) {
  const sim = simulate({ ...SMALL, seed, stealth });
  const det = new AbuseDetector({ accountCapacity: 20_000 }, NOW);
  for (const a of sim.accounts) det.ingestAccount(a.meta);
  for (const e of sim.events()) det.ingest(e);
  const analysis = det.analyse();
  const actions = decideActions(analysis, det.cfg);
  const levels = new Map([...actions].map(([id, a]) => [id, ACTION_ORDER.indexOf(a.action)]));
  return { sim, det, analysis, actions, levels, labels: sim.labels() };
}

test('finds a moderately stealthy ring with precision and recall >= 0.95 among hard negatives', () => {
  const { sim, levels, labels, det, analysis } = run(0.5);
  assert.ok(sim.eventCount > 40_000, `simulated ${sim.eventCount} events`);
  const q = evaluate(levels, labels, ACTION_ORDER.indexOf('flag'));
  assert.ok(q.recall >= 0.95, `recall ${q.recall}`);
  assert.ok(q.precision >= 0.95, `precision ${q.precision} ${JSON.stringify(q.falsePositivesByLabel)}`);
  assert.equal(det.stats().accepted, sim.eventCount);
  const top = analysis.rings[0];
  assert.ok(top.members.every((m) => labels.get(m) === 'ring'));
  assert.ok(top.evidence.length >= 3 && top.evidence.every((e) => e.exampleRequestIds.length > 0));
  assert.ok(top.firstSeen < top.lastSeen);
});

test('no hard-negative account reaches suspend (none goes above flag)', () => {
  const { levels, labels } = run(0.5);
  const hardNeg = [...labels].filter(([, l]) => HARD_NEGATIVE_LABELS.includes(l));
  assert.ok(hardNeg.length > 100);
  for (const [id, l] of hardNeg) {
    const lvl = levels.get(id) ?? 0;
    assert.ok(lvl < ACTION_ORDER.indexOf('suspend'), `${l} ${id} at ${ACTION_ORDER[lvl]}`);
    assert.ok(lvl <= ACTION_ORDER.indexOf('flag'), `${l} ${id} at ${ACTION_ORDER[lvl]}`);
  }
});

test('an unstealthy ring is suspended; a fully stealthy one mostly evades (the detector is not an oracle)', () => {
  const loud = run(0);
  const q0 = evaluate(loud.levels, loud.labels, ACTION_ORDER.indexOf('suspend'));
  assert.ok(q0.recall >= 0.95, `suspend recall at stealth 0: ${q0.recall}`);
  const quiet = run(1);
  const q1 = evaluate(quiet.levels, quiet.labels, ACTION_ORDER.indexOf('flag'));
  assert.ok(q1.recall < 0.5, `recall at stealth 1: ${q1.recall}`);
});

test('the simulator is deterministic for a seed and differs across seeds', () => {
  const digest = (seed: number) => {
    const h = createHash('sha256');
    const sim = simulate({ benignAccounts: 300, benignRequests: 2000, ringSize: 20, hardNegatives: false, seed });
    for (const r of sim.records()) h.update(JSON.stringify(r));
    return h.digest('hex');
  };
  assert.equal(digest(5), digest(5));
  assert.notEqual(digest(5), digest(6));
});

test('labels cover every account and ring size is as configured', () => {
  const sim = simulate({ benignAccounts: 400, benignRequests: 3000, ringSize: 37, hardNegatives: false, seed: 3 });
  const labels: Map<string, Label> = sim.labels();
  assert.equal(labels.size, sim.accounts.length);
  assert.equal([...labels.values()].filter((l) => l === 'ring').length, 37);
});
