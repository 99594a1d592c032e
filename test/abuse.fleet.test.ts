/**
 * One detector for the fleet, with real processes, real Redis and a real store:
 * 1. Three publishers (replicas) stream events; `gatehouse abuse serve` is SIGKILLed twice under load and restarted;
 *    at the end it has accepted exactly what a single uninterrupted in-memory pass over the stream accepts, and the
 *    rings it wrote to the store are the same — nothing lost, nothing counted twice; bad records counted by reason.
 * 2. Three `gatehouse serve` processes publish to the stream; a ring driven round-robin over all three is found by
 *    the one detector and its verdicts reach every replica through the store change feed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import OpenAI from 'openai';
import { abuseConfig } from '../src/abuse/config.ts';
import { AbuseDetector } from '../src/abuse/detector.ts';
import { FleetPublisher, RedisStreamBus, loadVerdicts } from '../src/abuse/fleet.ts';
import { decideActions } from '../src/abuse/gate.ts';
import { generatePopulation } from '../src/abuse/population/generate.ts';
import { KeyRepository } from '../src/identity/keys.ts';
import { ALL_MIGRATIONS } from '../src/server/migrations.ts';
import { openTestDb } from '../src/store/testing.ts';
import { standardConfig, tempDir, writeConfig } from './support/config.ts';
import { serve, waitFor, type ServeProcess } from './support/process.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Detector {
  proc: ChildProcess;
  out(): string;
}

function startDetector(configPath: string, checkpoint: string, analyseMs: number): Promise<Detector> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'abuse', 'serve', '--config', configPath, '--checkpoint', checkpoint, '--analyse-ms', String(analyseMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let done = false;
    const onData = (d: Buffer) => {
      out += d.toString();
      if (!done && out.includes('abuse serve: consuming')) {
        done = true;
        resolve({ proc, out: () => out });
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.on('exit', (code) => !done && reject(new Error(`abuse serve exited ${code}: ${out}`)));
  });
}

const exited = (p: ChildProcess) => new Promise<number | null>((r) => (p.exitCode !== null || p.signalCode !== null ? r(p.exitCode) : p.once('exit', (c) => r(c))));

async function caughtUp(redis: Redis, key: string, group: string): Promise<boolean> {
  const info = (await redis.xinfo('STREAM', key)) as unknown[];
  const last = String(info[info.indexOf('last-generated-id') + 1]);
  const groups = (await redis.xinfo('GROUPS', key)) as unknown[][];
  const g = groups.map((x) => Object.fromEntries(Array.from({ length: x.length / 2 }, (_, i) => [String(x[2 * i]), x[2 * i + 1]]))).find((x) => x.name === group);
  return !!g && String(g['last-delivered-id']) === last && Number(g.pending) === 0;
}

test('the detector service survives SIGKILL under load: nothing lost, nothing counted twice, same rings as one pass', { timeout: 120_000 }, async () => {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  const store = await openTestDb('sqlite', ALL_MIGRATIONS);
  const key = `gh_t_fleet_${randomBytes(6).toString('hex')}`;
  const dir = tempDir('gh-abuse-fleet-');
  const checkpoint = join(dir, 'detector.ckpt');
  const abuse = { accountCapacity: 20_000, batchSize: 250, fleet: { stream: key, group: 'detector', checkpointEvery: 1000, checkpointMs: 50 } };
  const configPath = writeConfig(dir, { store: { url: store.url }, redis: { url: REDIS_URL }, abuse });
  const publishers = [0, 1, 2].map(() => new FleetPublisher(new RedisStreamBus(new Redis(REDIS_URL), key, 1_000_000), { batchSize: 200, flushMs: 5, maxQueue: 100_000 }));
  let det: Detector | null = null;
  try {
    const pop = generatePopulation({ seed: 6, scale: 0.012 });
    const records: unknown[] = [...pop.records()];
    // Bad input and re-deliveries from the replicas: counted under a reason, never thrown, never double-counted.
    for (let i = 0; i < 40; i++) records.push({ kind: 'request', requestId: `broken-${i}` });
    for (let i = 0; i < 40; i++) records.push(records[records.length - 200 - i]);
    records.push('not an object', { kind: 'account' });
    det = await startDetector(configPath, checkpoint, 250);
    // Publish at a pace over a few seconds, round-robin over the three replicas, killing the detector twice.
    const chunk = Math.ceil(records.length / 60);
    for (let c = 0, n = 0; c < records.length; c += chunk, n++) {
      for (let i = c; i < Math.min(records.length, c + chunk); i++) publishers[i % 3]!.push(records[i]);
      await sleep(40);
      if ((n === 15 || n === 40) && det) {
        await waitFor(() => existsSync(checkpoint), 20_000);
        det.proc.kill('SIGKILL');
        await exited(det.proc);
        det = await startDetector(configPath, checkpoint, 250);
      }
    }
    await Promise.all(publishers.map((p) => p.flush()));
    assert.ok(publishers.every((p) => p.dropped === 0 && p.failed === 0));
    await waitFor(() => caughtUp(redis, key, 'detector'), 60_000);
    det.proc.kill('SIGTERM');
    assert.equal(await exited(det.proc), 0, det.out());
    const stopped = JSON.parse(det.out().trim().split('\n').filter((l) => l.includes('abuse serve: stopped')).pop()!);
    process.stdout.write(`# restarted detector: ${JSON.stringify(stopped)}\n`);

    // Reference: one uninterrupted pass over the stream, in stream order.
    const ref = new AbuseDetector(abuseConfig(abuse));
    const entries = (await redis.xrange(key, '-', '+')) as [string, string[]][];
    assert.equal(entries.length, records.length);
    for (const [, fields] of entries) ref.ingestLine(fields[1]!);
    const refStats = ref.stats();
    assert.equal(stopped.accepted, refStats.accepted, 'every event accepted exactly once');
    assert.ok(refStats.accepted > 10_000);
    for (const reason of ['malformed_field', 'missing_field', 'not_an_object'] as const) assert.equal(stopped.skipped[reason], refStats.skipped[reason], reason);
    // Duplicates: the replicas' 40 re-sent events, plus any entry redelivered after a checkpoint that held it.
    assert.ok(stopped.skipped.duplicate >= 40, JSON.stringify(stopped.skipped));
    const analysis = ref.analyse();
    const { actions, rings } = await loadVerdicts(store.db);
    assert.deepEqual(rings, JSON.parse(JSON.stringify(analysis.rings)));
    assert.deepEqual(new Map([...actions].map(([id, a]) => [id, a.action])), new Map([...decideActions(analysis, ref.cfg)].map(([id, a]) => [id, a.action])));
    assert.ok(rings.length >= 3);
  } finally {
    if (det && det.proc.exitCode === null) det.proc.kill('SIGKILL');
    await Promise.all(publishers.map((p) => p.close()));
    await redis.del(key);
    redis.disconnect();
    await store.cleanup();
  }
});

test('three gateway processes, one ring spread over all three, one detector: verdicts reach every replica', { timeout: 120_000 }, async () => {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 2 });
  const store = await openTestDb('postgres', ALL_MIGRATIONS);
  const key = `gh_t_fleet_gw_${randomBytes(6).toString('hex')}`;
  const dir = tempDir('gh-abuse-fleet-gw-');
  const ADMIN = 'admin-token-for-fleet-tests';
  const abuse = {
    minRequests: 4, minRingSize: 3, harvestFloorTokens: 10, longFormTokens: 5, flushMs: 10, degradedModel: 'lite',
    thresholds: { flag: 0.1, requireKyc: 0.15, degrade: 0.2, suspend: 0.99 },
    fleet: { role: 'publish', stream: key, group: 'detector', checkpointMs: 50 },
  };
  // One config per replica: each keeps its own audit log.
  const configFor = (g: number) => writeConfig(dir, standardConfig({ simUrl: 'http://127.0.0.1:1', storeUrl: store.url, extra: { redis: { url: REDIS_URL }, abuse, audit: { path: join(dir, `audit-${g}.jsonl`) } } }), `gatehouse-${g}.yaml`);
  const configPath = configFor(0);
  const gws: ServeProcess[] = [];
  let det: Detector | null = null;
  try {
    const keys = new KeyRepository(store.db);
    const signedUp = Date.now() - 3_600_000;
    const ring: string[] = [];
    for (let i = 0; i < 6; i++) ring.push((await keys.create({ accountId: `fleet-harvest-${i}`, accountCreatedAt: signedUp + i * 60_000, paymentFingerprint: 'card-fleet' })).secret);
    const ordinary = (await keys.create({ accountId: 'fleet-ordinary', accountCreatedAt: Date.now() - 400 * 86_400_000, paymentFingerprint: 'card-own' })).secret;
    for (let g = 0; g < 3; g++) gws.push(await serve(configFor(g), { GATEHOUSE_ADMIN_TOKEN: ADMIN, REDIS_URL }));
    const served = async (gw: ServeProcess, secret: string, content: string, ua?: string) => {
      const openai = new OpenAI({ apiKey: secret, baseURL: `${gw.url}/v1`, maxRetries: 0, ...(ua ? { defaultHeaders: { 'user-agent': ua } } : {}) });
      const { response } = await openai.chat.completions.create({ model: 'frontier', messages: [{ role: 'user', content }] }).withResponse();
      return response.headers.get('x-gatehouse-served-model');
    };
    const topics = ['binary search', 'quicksort', 'Dijkstra', 'a trie', 'Bloom filters', 'Raft', 'B-trees', 'LRU caches'];
    let n = 0;
    for (let round = 0; round < 8; round++) {
      for (let i = 0; i < ring.length; i++) {
        // Round-robin over the replicas: no replica alone sees more than a third of any member's traffic.
        assert.equal(await served(gws[n++ % 3]!, ring[i]!, `Think step by step and show your full reasoning, then give the final answer. Task ${round * 6 + i}: explain ${topics[(round + i) % topics.length]} with a worked example.`), 'frontier');
      }
    }
    for (const [g, c] of ['how do I rename a git branch', 'what is the capital of Peru', 'fix my flaky jest test please', 'difference between TCP and UDP', 'suggest a name for my cat'].entries()) {
      assert.equal(await served(gws[g % 3]!, ordinary, c, 'Mozilla/5.0 (X11; Linux x86_64) Firefox/131.0'), 'frontier');
    }
    // The detector starts now (the stream holds the backlog) and publishes verdicts after its first analysis;
    // each replica's change watcher installs them.
    det = await startDetector(configPath, join(dir, 'detector.ckpt'), 150);
    const actionOn = async (gw: ServeProcess, account: string) => ((await (await fetch(`${gw.url}/admin/v1/abuse/accounts/${account}`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { action: string }).action;
    let analysedAt = 0;
    await waitFor(() => {
      const line = det!.out().split('\n').find((l) => l.includes('"msg":"analysis"') && /"actions":[1-9]/.test(l));
      if (line && !analysedAt) analysedAt = Date.now();
      return !!line;
    }, 30_000);
    await waitFor(async () => (await Promise.all(gws.map((gw) => actionOn(gw, 'fleet-harvest-0')))).every((a) => a === 'degrade'), 10_000);
    const propagationMs = Date.now() - analysedAt;
    process.stdout.write(`# verdict propagation to 3 replicas after the detector's analysis line: ${propagationMs} ms\n`);
    for (const gw of gws) {
      for (let i = 0; i < ring.length; i++) assert.equal(await actionOn(gw, `fleet-harvest-${i}`), 'degrade');
      assert.equal(await actionOn(gw, 'fleet-ordinary'), 'none');
      const rings = (await (await fetch(`${gw.url}/admin/v1/abuse/rings`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { rings: { members: string[] }[] };
      assert.deepEqual(rings.rings.map((r) => r.members.length), [6]);
    }
    // And the gate acts on every replica.
    for (let g = 0; g < 3; g++) assert.equal(await served(gws[g]!, ring[g]!, 'Think step by step: one more task.'), 'lite');
    assert.equal(await served(gws[0]!, ordinary, 'one more question about git', 'Mozilla/5.0 (X11; Linux x86_64) Firefox/131.0'), 'frontier');
    // The detector's action changes reach an audit log through the store's audit inbox (whichever replica drains it).
    const auditActions = () => [0, 1, 2].flatMap((g) => {
      const f = join(dir, `audit-${g}.jsonl`);
      return existsSync(f) ? readFileSync(f, 'utf8').trimEnd().split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((r) => r.kind === 'admin' && r.action === 'abuse.action') : [];
    });
    await waitFor(() => new Set(auditActions().map((r) => r.target)).size === 6, 10_000);
    assert.deepEqual([...new Set(auditActions().map((r) => r.target))].sort(), ring.map((_, i) => `fleet-harvest-${i}`));
  } finally {
    if (det && det.proc.exitCode === null) det.proc.kill('SIGKILL');
    await Promise.all(gws.map((g) => g.stop('SIGKILL')));
    await redis.del(key);
    redis.disconnect();
    await store.cleanup();
  }
});
