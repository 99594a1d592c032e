import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AbuseDetector, memoryBoundBytes } from '../src/abuse/detector.ts';
import { simulate } from '../src/abuse/simulate.ts';

const NOW = () => Date.UTC(2026, 5, 1);

test('snapshot mid-stream + restore gives the same rings as an uninterrupted run', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gh-abuse-'));
  try {
    const sim = simulate({ benignAccounts: 2000, benignRequests: 15_000, ringSize: 80, hardNegativeScale: 0.05, seed: 21 });
    const events = [...sim.events()];
    const half = Math.floor(events.length / 2);
    const whole = new AbuseDetector({}, NOW);
    for (const a of sim.accounts) whole.ingestAccount(a.meta);
    for (const e of events) whole.ingest(e);

    const first = new AbuseDetector({}, NOW);
    for (const a of sim.accounts) first.ingestAccount(a.meta);
    for (const e of events.slice(0, half)) first.ingest(e);
    const file = join(dir, 'abuse.snapshot.json');
    await first.saveSnapshot(file);

    const second = new AbuseDetector({}, NOW);
    await second.loadSnapshot(file);
    // Re-delivery of already-seen events after a restart is recognised as duplicates.
    for (const e of events.slice(half - 10, half)) second.ingest(e);
    assert.equal(second.stats().skipped.duplicate, 10);
    for (const e of events.slice(half)) second.ingest(e);

    const a = whole.analyse();
    const b = second.analyse();
    assert.ok(a.rings.length > 0);
    assert.deepEqual(b.rings, a.rings);
    assert.equal(second.stats().accepted, whole.stats().accepted);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a corrupt or foreign snapshot is refused with a precise error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gh-abuse-'));
  try {
    const det = new AbuseDetector({}, NOW);
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{"version":');
    await assert.rejects(det.loadSnapshot(bad), /not JSON/);
    await writeFile(bad, '{"version":99}');
    await assert.rejects(det.loadSnapshot(bad), /unsupported version 99/);
    await assert.rejects(det.loadSnapshot(join(dir, 'missing.json')), /ENOENT/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('account state is capped: LRU eviction keeps at most accountCapacity accounts', () => {
  const det = new AbuseDetector({ accountCapacity: 100, dedupCapacity: 50 }, NOW);
  for (let i = 0; i < 500; i++) {
    det.ingest({ requestId: `r${i}`, time: NOW() - 10_000 + i, keyId: null, accountId: `acct${i}`, orgId: null, protocol: 'openai', stream: false, modelRequested: 'm', modelServed: 'm', outcome: 'ok', status: 200, inputTokens: 1, outputTokens: 1, usageEstimated: false, costUsd: 0, latencyMs: 1 });
  }
  const s = det.stats();
  assert.equal(s.accountsTracked, 100);
  assert.equal(s.accountsEvicted, 400);
  assert.ok(det.table.index.has('acct499') && !det.table.index.has('acct0'));
  assert.equal(det.validator.recent.size, 50);
  assert.equal(s.memoryBoundBytes, memoryBoundBytes(det.cfg));
  // Restoring into a smaller table keeps the most recent accounts.
  const small = new AbuseDetector({ accountCapacity: 16 }, NOW);
  small.restore(det.snapshot());
  assert.equal(small.table.index.size, 16);
  assert.ok(small.table.index.has('acct499') && small.table.index.has('acct484') && !small.table.index.has('acct483'));
  assert.throws(() => new AbuseDetector({ accountCapacity: 10 }), /\$\.abuse\.accountCapacity: /);
});
