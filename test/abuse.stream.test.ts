import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { run } from '../src/abuse/cli.ts';
import { AbuseDetector } from '../src/abuse/detector.ts';
import { simulate } from '../src/abuse/simulate.ts';
import { STREAM_FIELD, consumeRedisStream, ingestJsonlFile, publishEvent } from '../src/abuse/stream.ts';

const NOW = () => Date.UTC(2026, 5, 1);
const sim = simulate({ benignAccounts: 800, benignRequests: 6000, ringSize: 40, hardNegatives: false, seed: 9, stealth: 0.3 });
const records = [...sim.records()];

function reference() {
  const det = new AbuseDetector({}, NOW);
  for (const r of records) det.ingestRecord(r);
  return det.analyse();
}

async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  let out = '';
  let err = '';
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    return { code: await fn(), out, err };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
}

test('Redis stream consumption (real Redis, random key) matches in-memory ingestion', async () => {
  const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
  const key = `gh_t_abuse_${randomBytes(6).toString('hex')}`;
  try {
    const pipe = redis.pipeline();
    for (const r of records) pipe.xadd(key, '*', STREAM_FIELD, JSON.stringify(r));
    await pipe.exec();
    await publishEvent(redis, key, { kind: 'request', requestId: 'broken' }); // counted, not thrown
    await redis.xadd(key, '*', 'other', 'x');
    const det = new AbuseDetector({}, NOW);
    let batches = 0;
    const { entries, lastId } = await consumeRedisStream(det, redis, key, { count: 500, onBatch: () => void batches++ });
    assert.equal(entries, records.length + 2);
    assert.ok(batches >= Math.ceil(records.length / 500));
    assert.equal(det.stats().skipped.missing_field, 2);
    assert.deepEqual(det.analyse().rings, reference().rings);
    // Resuming after the last id reads nothing new.
    const again = await consumeRedisStream(det, redis, key, { fromId: lastId });
    assert.equal(again.entries, 0);
    // Follow mode stops when aborted.
    const ac = new AbortController();
    const following = consumeRedisStream(det, redis, key, { fromId: lastId, follow: true, blockMs: 50, signal: ac.signal });
    await redis.xadd(key, '*', STREAM_FIELD, JSON.stringify({ ...records[records.length - 1], requestId: 'late-1' }));
    setTimeout(() => ac.abort(), 150);
    assert.equal((await following).entries, 1);
  } finally {
    await redis.del(key);
    redis.disconnect();
  }
});

test('JSONL file ingestion and the CLI: simulate abuse, abuse detect, abuse rings', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gh-abuse-'));
  try {
    const events = join(dir, 'events.jsonl');
    const truth = join(dir, 'truth.jsonl');
    const state = join(dir, 'state.json');
    const sim1 = await capture(() => run(['simulate', 'abuse', '--out', events, '--truth', truth, '--benign-accounts', '800', '--benign-requests', '6000', '--ring-size', '40', '--seed', '9', '--stealth', '0.3', '--no-hard-negatives']));
    assert.equal(sim1.code, 0, sim1.err);
    const lines = (await readFile(events, 'utf8')).trim().split('\n');
    assert.equal(lines.length, records.length);
    assert.deepEqual(JSON.parse(lines[lines.length - 1]), JSON.parse(JSON.stringify(records[records.length - 1])));
    await writeFile(events, (await readFile(events, 'utf8')) + '{oops\n\n{"kind":"request","requestId":"x"}\n');

    const det = new AbuseDetector({}, NOW);
    assert.equal(await ingestJsonlFile(det, events), records.length + 3);
    assert.deepEqual(det.analyse().rings, reference().rings);
    assert.equal(det.stats().skipped.bad_json, 1);
    await assert.rejects(ingestJsonlFile(det, join(dir, 'nope.jsonl')), /cannot read/);

    const detect = await capture(() => run(['abuse', 'detect', '--events', events, '--truth', truth, '--state', state, '--json']));
    assert.equal(detect.code, 0, detect.err);
    const report = JSON.parse(detect.out);
    assert.ok(report.quality.flag.recall >= 0.95 && report.quality.flag.precision >= 0.95, JSON.stringify(report.quality.flag));
    assert.equal(report.stats.skipped.bad_json, 1);
    const rings = await capture(() => run(['abuse', 'rings', '--state', state]));
    assert.equal(rings.code, 0, rings.err);
    assert.match(rings.out, /ring-acct-/);
    const usage = await capture(() => run(['abuse', 'frobnicate']));
    assert.equal(usage.code, 2);
    assert.match(usage.err, /unknown subcommand/);
    const badNum = await capture(() => run(['simulate', 'abuse', '--out', events, '--truth', truth, '--stealth', '2']));
    assert.equal(badNum.code, 1);
    assert.match(badNum.err, /--stealth: expected a number from 0 to 1/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('CLI: simulate population, abuse detect with state, abuse rings --explain RING', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'gh-abuse-pop-'));
  try {
    const events = join(dir, 'events.jsonl');
    const truth = join(dir, 'truth.jsonl');
    const state = join(dir, 'state.json');
    const sim = await capture(() => run(['simulate', 'population', '--out', events, '--truth', truth, '--seed', '2', '--scale', '0.02']));
    assert.equal(sim.code, 0, sim.err);
    const detect = await capture(() => run(['abuse', 'detect', '--events', events, '--truth', truth, '--state', state, '--json']));
    assert.equal(detect.code, 0, detect.err);
    const report = JSON.parse(detect.out);
    assert.ok(report.quality.flag.recall >= 0.9 && report.quality.flag.precision >= 0.95, JSON.stringify(report.quality.flag));
    const top = report.rings[0];
    const explained = await capture(() => run(['abuse', 'rings', '--state', state, '--explain', top.id]));
    assert.equal(explained.code, 0, explained.err);
    assert.match(explained.out, new RegExp(`^${top.id}: ${top.members.length} members, score`));
    assert.match(explained.out, /linked by .*\n\s+\w+\s+\d\.\d{3}/);
    assert.match(explained.out, /timeline .*\n\s+\d{4}-\d{2}-\d{2}/);
    for (const m of top.members.slice(0, 5)) assert.ok(explained.out.includes(m), m);
    const missing = await capture(() => run(['abuse', 'rings', '--state', state, '--explain', 'ring-nope']));
    assert.equal(missing.code, 1);
    assert.match(missing.err, /no ring 'ring-nope'/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
