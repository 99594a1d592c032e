/**
 * The red-team regression gate: every built-in transform applied to the shipped seeds (60 harmful, 60 benign) against
 * the default classifier in-process, run seed 1. Fails when any transform's attack success rate or over-refusal
 * exceeds its recorded bound in src/redteam/bounds.json, or when a transform has no bound. Re-measure with
 * `gatehouse redteam --write-bounds src/redteam/bounds.json` after a classifier change, and review the diff.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { checkBounds, parseBounds, runRedteam, summarise } from '../src/redteam/harness.ts';
import { loadTransforms } from '../src/redteam/registry.ts';
import { loadSeedFiles, SHIPPED_SEEDS } from '../src/redteam/seeds.ts';
import { classifierTarget } from '../src/redteam/targets.ts';

const BOUNDS = fileURLToPath(new URL('../src/redteam/bounds.json', import.meta.url));

test('no transform beats its recorded attack-success or over-refusal bound on the shipped seeds', async () => {
  const bounds = parseBounds(readFileSync(BOUNDS, 'utf8'), BOUNDS);
  const transforms = await loadTransforms();
  for (const t of transforms) {
    assert.ok(t.name in bounds.asr && t.name in bounds.overRefusal, `transform ${t.name} has no bound in bounds.json: measure it and record one`);
  }
  const { seeds, errors } = loadSeedFiles(SHIPPED_SEEDS);
  assert.deepEqual(errors, []);
  const rows = await runRedteam({ seeds, transforms, target: await classifierTarget(undefined, 'general'), runSeed: 1 });
  assert.deepEqual(rows.filter((r) => r.outcome === 'error'), [], 'the classifier decides every conversation');
  const summary = summarise(rows);
  const violations = checkBounds(summary, bounds).map(
    (v) => `${v.transform}: ${v.metric === 'asr' ? 'attack success' : 'over-refusal'} ${(100 * v.measured).toFixed(1)}% > bound ${(100 * v.bound).toFixed(1)}%`,
  );
  assert.deepEqual(violations, []);
});
