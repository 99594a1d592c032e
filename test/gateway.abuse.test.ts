/**
 * Ring detection through the gateway: accounts created through the admin API with their sign-up time and payment
 * fingerprint, driven with the openai SDK like a distillation script (one template, reasoning traces, machine
 * pace), are linked into one ring using the account metadata the gateway sends the detector; the ring's members
 * are then served the degraded model while an ordinary account is untouched, and the action is on the audit record.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { AbuseDetector } from '../src/abuse/detector.ts';
import { startHarness, type Harness } from './support/harness.ts';
import { tempDir } from './support/config.ts';

const ADMIN_TOKEN = 'admin-token-for-abuse-tests';
const RING_SIZE = 6;

describe('abuse: a distillation ring through the gateway', () => {
  let h: Harness;
  let auditPath: string;
  before(async () => {
    auditPath = join(tempDir(), 'audit.jsonl');
    h = await startHarness({
      backend: 'sqlite',
      env: { GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN },
      extra: {
        audit: { path: auditPath },
        // Small numbers so a handful of accounts and requests make a ring; analysis is triggered by the test.
        abuse: {
          minRequests: 4, minRingSize: 3, harvestFloorTokens: 10, longFormTokens: 5, analyseIntervalMs: 3_600_000, flushMs: 10, degradedModel: 'lite',
          thresholds: { flag: 0.1, requireKyc: 0.15, degrade: 0.2, suspend: 0.99 },
        },
      },
    });
  });
  after(() => h.close());

  async function createKey(body: Record<string, unknown>): Promise<string> {
    const res = await fetch(`${h.url}/admin/v1/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(res.status, 201, await res.clone().text());
    return ((await res.json()) as { secret: string }).secret;
  }

  // Every account here shares 127.0.0.1 and the test's clock; the ordinary developer at least has their own client.
  const ORDINARY_UA = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/131.0';
  async function servedModel(secret: string, content: string, ua?: string): Promise<string> {
    const openai = new OpenAI({ apiKey: secret, baseURL: `${h.url}/v1`, maxRetries: 0, ...(ua ? { defaultHeaders: { 'user-agent': ua } } : {}) });
    const { response } = await openai.chat.completions.create({ model: 'frontier', messages: [{ role: 'user', content }] }).withResponse();
    return response.headers.get('x-gatehouse-served-model')!;
  }

  test('accounts sharing a card and a template are one ring, degraded; an ordinary account is not', async () => {
    const signedUp = Date.now() - 3_600_000;
    const ring: string[] = [];
    for (let i = 0; i < RING_SIZE; i++) ring.push(await createKey({ accountId: `harvest-${i}`, accountCreatedAt: signedUp + i * 60_000, paymentFingerprint: 'card-7731' }));
    const ordinary = await createKey({ accountId: 'ordinary-dev', accountCreatedAt: Date.now() - 400 * 86_400_000, paymentFingerprint: 'card-0001' });
    // New keys reach the gateway through the store's change feed.
    const deadline = Date.now() + 5000;
    for (;;) {
      try {
        await servedModel(ordinary, 'warm-up', ORDINARY_UA);
        break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    const topics = ['binary search', 'quicksort', 'Dijkstra', 'a trie', 'Bloom filters', 'Raft', 'B-trees', 'LRU caches'];
    for (let round = 0; round < 8; round++) {
      for (let i = 0; i < RING_SIZE; i++) {
        assert.equal(await servedModel(ring[i]!, `Think step by step and show your full reasoning, then give the final answer. Task ${round * RING_SIZE + i}: explain ${topics[(round + i) % topics.length]} with a worked example.`), 'frontier');
      }
    }
    const chat = ['how do I rename a git branch', 'what is the capital of Peru', 'fix my flaky jest test please', 'difference between TCP and UDP', 'suggest a name for my cat'];
    for (const c of chat) assert.equal(await servedModel(ordinary, c, ORDINARY_UA), 'frontier');

    await new Promise((r) => setTimeout(r, 50)); // the service's 10 ms flush
    await h.abuse!.analyseNow();
    const rings = h.abuse!.rings();
    assert.equal(rings.length, 1, JSON.stringify(rings.map((r) => r.members)));
    const [found] = rings;
    assert.deepEqual([...found!.members].sort(), Array.from({ length: RING_SIZE }, (_, i) => `harvest-${i}`));
    const signals = found!.evidence.map((e) => e.signal);
    // Only the account metadata the gateway sends can show these two.
    assert.ok(signals.includes('shared_payment'), signals.join(','));
    assert.ok(signals.includes('signup_burst'), signals.join(','));

    for (const secret of ring) assert.equal(await servedModel(secret, 'Think step by step: one more task.'), 'lite');
    assert.equal(await servedModel(ordinary, 'one more question about git', ORDINARY_UA), 'frontier');

    await new Promise((r) => setTimeout(r, 50));
    const log = readFileSync(auditPath, 'utf8').trimEnd().split('\n');
    const actions = log.map((l) => JSON.parse(l)).filter((r) => r.kind === 'admin' && r.actor === 'abuse-detector');
    assert.deepEqual(actions.map((a) => a.target).sort(), Array.from({ length: RING_SIZE }, (_, i) => `harvest-${i}`));

    // The audit record keeps every non-secret signal the detector uses, and account metadata is in the log too:
    // replaying the log into a fresh detector gives exactly the live analysis.
    const requests = log.map((l) => JSON.parse(l)).filter((r) => r.kind === 'request' && r.principal?.accountId?.startsWith('harvest-'));
    assert.ok(requests.length >= RING_SIZE * 8);
    for (const r of requests) {
      assert.match(r.promptSketch, /^[0-9a-f]{16}$/);
      assert.match(r.promptShape, /^[0-9a-f]{16}$/);
      assert.equal(typeof r.netPrefix, 'string');
      assert.equal(typeof r.userAgent, 'string');
      assert.equal(typeof r.reasoningRequested, 'boolean');
    }
    assert.ok(requests.filter((r) => r.reasoningRequested === true).length >= RING_SIZE * 8, 'the gateway sends reasoningRequested');
    await h.abuse!.analyseNow();
    const live = h.abuse!.rings();
    const replay = new AbuseDetector(h.abuse!.cfg);
    for (const line of log) replay.ingestLine(line);
    assert.deepEqual(replay.stats().skipped, {}, JSON.stringify(replay.stats().lastSkipDetail));
    assert.equal(replay.stats().accepted, h.abuse!.detector.stats().accepted);
    assert.deepEqual(replay.analyse().rings, live);
  });
});
