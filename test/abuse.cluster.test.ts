import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AbuseDetector } from '../src/abuse/detector.ts';
import { accountFeatures } from '../src/abuse/features.ts';
import { sketchPrompt } from '../src/abuse/sketch.ts';
import type { AbuseEvent, AccountMeta } from '../src/abuse/types.ts';

const T0 = Date.UTC(2026, 2, 1);
const NOW = () => Date.UTC(2026, 5, 1);
let seq = 0;

function event(accountId: string, time: number, over: Partial<AbuseEvent> = {}): AbuseEvent {
  return {
    requestId: `r${seq++}`, time, keyId: null, accountId, orgId: null, protocol: 'openai', stream: false,
    modelRequested: 'm', modelServed: 'm', outcome: 'ok', status: 200, inputTokens: 80, outputTokens: 1500,
    usageEstimated: false, costUsd: 0, latencyMs: 1, ...over,
  };
}

/** A distillation-like account: regular round-the-clock requests, reasoning traces, long outputs. */
function harvester(det: AbuseDetector, meta: AccountMeta, template: string | null, prefix: string) {
  det.ingestAccount({ createdAt: T0 - 86_400_000, ...meta });
  for (let i = 0; i < 48; i++) {
    const text = template ? `${template} item ${meta.accountId} ${i} ${i * 7} ${i * 13}` : `unrelated words ${meta.accountId} ${i} ${i * 3} alpha ${i * 11}`;
    det.ingest(event(meta.accountId, T0 + i * 3_600_000 + seq % 1000, { promptSketch: sketchPrompt(text), reasoningRequested: true, netPrefix: prefix }));
  }
}

const TPL = 'You are an expert tutor. Solve the following problem step by step, showing every intermediate step and your full reasoning. Problem:';

test('groups linked by their own cards stay separate when they share only one other key (a NAT prefix)', () => {
  const det = new AbuseDetector({}, NOW);
  for (let k = 0; k < 5; k++) harvester(det, { accountId: `a${k}`, paymentFingerprint: 'cardA' }, null, k === 0 ? '10.0.0.0/24' : `10.1.${k}.0/24`);
  for (let k = 0; k < 5; k++) harvester(det, { accountId: `b${k}`, paymentFingerprint: 'cardB' }, null, k === 0 ? '10.0.0.0/24' : `10.2.${k}.0/24`);
  const rings = det.analyse().rings;
  assert.equal(rings.length, 2, JSON.stringify(rings.map((r) => r.members)));
  assert.deepEqual(rings.map((r) => r.members.length), [5, 5]);
  assert.ok(rings.every((r) => r.evidence.some((e) => e.signal === 'shared_payment' && e.strength === 1)));
});

test('two shared keys (prefix + prompt template) link accounts with no shared card', () => {
  const det = new AbuseDetector({}, NOW);
  for (let k = 0; k < 6; k++) harvester(det, { accountId: `t${k}`, paymentFingerprint: `card-${k}`, netPrefix: `172.16.${k}.0/24` }, TPL, '192.0.2.0/24');
  // Same shape of traffic but unrelated prompts and no common infrastructure: stays unlinked.
  for (let k = 0; k < 6; k++) harvester(det, { accountId: `u${k}`, paymentFingerprint: `ucard-${k}` }, null, `198.51.${k}.0/24`);
  const rings = det.analyse().rings;
  assert.equal(rings.length, 1);
  assert.deepEqual(rings[0].members, ['t0', 't1', 't2', 't3', 't4', 't5']);
  const tpl = rings[0].evidence.find((e) => e.signal === 'shared_prompt_template');
  assert.ok(tpl && tpl.strength === 1 && tpl.exampleRequestIds.length > 0);
  assert.ok(rings[0].evidence.find((e) => e.signal === 'reasoning_trace_requests')!.strength === 1);
});

test('a crowd of ordinary users behind one NAT prefix is never a ring', () => {
  const det = new AbuseDetector({}, NOW);
  for (let k = 0; k < 60; k++) {
    const id = `n${k}`;
    det.ingestAccount({ accountId: id, createdAt: T0 - 400 * 86_400_000, netPrefix: '203.0.113.0/24', paymentFingerprint: `c${k}`, clientFingerprint: `f${k}` });
    // Human sessions: a few bursts of requests at office hours on several days, ordinary ratios.
    for (let d = 0; d < 4; d++) for (let j = 0; j < 4; j++) det.ingest(event(id, T0 + d * 86_400_000 + (9 + (k % 8)) * 3_600_000 + j * 40_000 * (1 + (k % 5)), { inputTokens: 300, outputTokens: 400, promptSketch: sketchPrompt(`question ${k} ${d} ${j} about topic ${k * d}`), netPrefix: '203.0.113.0/24' }));
  }
  const s = det.table.index.get('n0')!;
  assert.ok(accountFeatures(det.table, s, 8).suspicion < 0.3);
  assert.equal(det.analyse().rings.length, 0);
});

test('one verified organisation with templated automation is not a ring', () => {
  const det = new AbuseDetector({}, NOW);
  for (let k = 0; k < 5; k++) {
    const id = `o${k}`;
    det.ingestAccount({ accountId: id, orgId: 'acme', kyc: 'verified-organisation', createdAt: T0 - 400 * 86_400_000, paymentFingerprint: 'acme-card', clientFingerprint: 'acme-svc' });
    for (let i = 0; i < 300; i++) det.ingest(event(id, T0 + i * 1_200_000, { orgId: 'acme', inputTokens: 900, outputTokens: 120, promptSketch: sketchPrompt(`extract the invoice fields as json from the document ${k} ${i} ${i * 17}`), netPrefix: '198.18.0.0/24' }));
  }
  // Short extractions from long documents harvest nothing: the accounts are not suspects, so card, egress,
  // device and template — all shared — link nobody.
  const rings = det.analyse().rings;
  assert.equal(rings.length, 0, JSON.stringify(rings));
  const s = det.table.index.get('o0')!;
  assert.ok(accountFeatures(det.table, s, 8).suspicion < det.cfg.linkThreshold);
});
