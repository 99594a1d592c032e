import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AbuseDetector } from '../src/abuse/detector.ts';
import { asksForReasoning, bandKeys, isSketch, promptSignals, similarity, sketchPrompt } from '../src/abuse/sketch.ts';
import { RecentIds, parseRecord } from '../src/abuse/validate.ts';

const NOW = Date.UTC(2026, 5, 1, 12);
const ev = (over: Record<string, unknown> = {}) => ({
  requestId: 'r1', time: NOW - 1000, keyId: 'k', accountId: 'a1', orgId: null, protocol: 'openai', stream: false,
  modelRequested: 'm', modelServed: 'm', outcome: 'ok', status: 200, inputTokens: 10, outputTokens: 20,
  usageEstimated: false, costUsd: 0, latencyMs: 5, promptSketch: sketchPrompt('hello world'), netPrefix: '10.0.0.0/24',
  ...over,
});

test('sketch: 16 hex chars, stable, near-duplicate templates close and unrelated prompts far', () => {
  const tpl = 'You are an expert tutor. Solve the following problem step by step and show all intermediate reasoning. Problem:';
  const a = sketchPrompt(`${tpl} a train leaves at noon at sixty km per hour`);
  const b = sketchPrompt(`${tpl} how many primes are below one hundred`);
  const c = sketchPrompt('write me a haiku about autumn leaves in the park please');
  assert.ok(isSketch(a) && isSketch(c));
  assert.equal(a, sketchPrompt(`${tpl} a train leaves at noon at sixty km per hour`));
  assert.equal(sketchPrompt('Hello, WORLD!'), sketchPrompt('hello world'));
  assert.ok(similarity(a, b) >= 0.5, `template similarity ${similarity(a, b)}`);
  assert.ok(similarity(a, c) <= 0.25, `unrelated similarity ${similarity(a, c)}`);
  assert.equal(sketchPrompt(''), 'ffffffffffffffff');
  const keys = new Int32Array(4);
  bandKeys(a, keys);
  assert.deepEqual([...keys].map((k) => k >>> 16), [0, 1, 2, 3]);
  assert.equal(keys[0] & 0xffff, parseInt(a.slice(0, 4), 16));
});

test('sketch is cheap: under 100 µs of CPU for a 200-word prompt (measured in CPU time: the machine is shared)', () => {
  const text = Array.from({ length: 200 }, (_, i) => `word${i % 97}`).join(' ');
  for (let i = 0; i < 200; i++) sketchPrompt(text);
  const c0 = process.cpuUsage();
  for (let i = 0; i < 2000; i++) sketchPrompt(text);
  const us = process.cpuUsage(c0).user / 2000;
  assert.ok(us < 100, `${us} µs per sketch`);
});

test('reasoning-trace requests are recognised lexically', () => {
  assert.ok(asksForReasoning('Please think step by step'));
  assert.ok(asksForReasoning('show your reasoning and the final answer'));
  assert.ok(!asksForReasoning('summarise this email'));
  assert.deepEqual(promptSignals('solve it step-by-step').reasoningRequested, true);
});

test('parseRecord names the exact field and reason', () => {
  const cases: [unknown, string, RegExp][] = [
    [null, 'not_an_object', /\$/],
    [[1], 'not_an_object', /\$/],
    [{ ...ev(), requestId: undefined }, 'missing_field', /\$\.requestId/],
    [{ ...ev(), requestId: 5 }, 'malformed_field', /\$\.requestId/],
    [{ ...ev(), time: 'yesterday' }, 'malformed_field', /\$\.time/],
    [{ ...ev(), time: Number.NaN }, 'malformed_field', /\$\.time/],
    [{ ...ev(), accountId: undefined }, 'missing_field', /\$\.accountId/],
    [{ ...ev(), accountId: null }, 'no_account', /\$\.accountId/],
    [{ ...ev(), inputTokens: -1 }, 'malformed_field', /\$\.inputTokens/],
    [{ ...ev(), outputTokens: undefined }, 'missing_field', /\$\.outputTokens/],
    [{ ...ev(), promptSketch: 'xyz' }, 'malformed_field', /\$\.promptSketch/],
    [{ ...ev(), netPrefix: 7 }, 'malformed_field', /\$\.netPrefix/],
    [{ ...ev(), accountId: 'x'.repeat(300) }, 'malformed_field', /\$\.accountId/],
    [{ ...ev(), reasoningRequested: 'yes' }, 'malformed_field', /\$\.reasoningRequested/],
    [{ kind: 'account' }, 'missing_field', /\$\.accountId/],
    [{ kind: 'account', accountId: 'a', createdAt: 'x' }, 'malformed_field', /\$\.createdAt/],
    [{ kind: 5 }, 'malformed_field', /\$\.kind/],
    [{ ...ev(), promptShape: 'ABCDEF0123456789' }, 'malformed_field', /\$\.promptShape/],
    [{ ...ev(), userAgent: 'u'.repeat(300) }, 'malformed_field', /\$\.userAgent/],
    [{ kind: 'admin', action: 'abuse.account', details: 'x' }, 'malformed_field', /\$\.details/],
    [{ kind: 'admin', action: 'abuse.account', details: { accountId: 7 } }, 'malformed_field', /\$\.accountId/],
  ];
  for (const [rec, reason, detail] of cases) {
    const p = parseRecord(rec);
    assert.equal(p.kind, 'skip', JSON.stringify(rec)?.slice(0, 80));
    if (p.kind === 'skip') {
      assert.equal(p.reason, reason, JSON.stringify(rec)?.slice(0, 80));
      assert.match(p.detail, detail);
    }
  }
  assert.equal(parseRecord({ kind: 'admin', action: 'keys.create' }).kind, 'ignore');
  // Account metadata as the gateway writes it to the audit log.
  const acct = parseRecord({ kind: 'admin', action: 'abuse.account', actor: 'gateway', target: 'a1', details: { accountId: 'a1', paymentFingerprint: 'c', createdAt: NOW } });
  assert.ok(acct.kind === 'account' && acct.meta.accountId === 'a1' && acct.meta.paymentFingerprint === 'c');
  assert.equal(parseRecord({ kind: 'request', ...ev() }).kind, 'request');
  assert.equal(parseRecord({ kind: 'request', event: ev() }).kind, 'request');
  assert.equal(parseRecord(ev()).kind, 'request');
  // The audit log's request record: nested principal, arrival time in `requestTime`.
  const audit = parseRecord({ kind: 'request', seq: 7, time: NOW, requestId: 'q', requestTime: NOW - 5, principal: { keyId: 'k', accountId: 'acc', orgId: 'o' }, inputTokens: 1, outputTokens: 2, promptHash: 'ab' });
  assert.equal(audit.kind, 'request');
  if (audit.kind === 'request') assert.deepEqual([audit.event.time, audit.event.accountId, audit.event.orgId], [NOW - 5, 'acc', 'o']);
  const anon = parseRecord({ kind: 'request', requestId: 'q2', requestTime: NOW, principal: { keyId: null, accountId: null, orgId: null }, inputTokens: 1, outputTokens: 2 });
  assert.ok(anon.kind === 'skip' && anon.reason === 'no_account');
});

test('detector counts skew, duplicates, replays, bad JSON and malformed records; never throws', () => {
  const det = new AbuseDetector({ maxClockSkewMs: 60_000, replayWindowMs: 3_600_000, dedupCapacity: 100 }, () => NOW);
  det.ingest(ev({ requestId: 'a' }) as never);
  det.ingest(ev({ requestId: 'a' }) as never); // duplicate
  det.ingest(ev({ requestId: 'future', time: NOW + 120_000 }) as never); // clock skew
  det.ingest(ev({ requestId: 'late-ok', time: NOW - 1000 - 1_800_000 }) as never); // within replay window
  det.ingest(ev({ requestId: 'old', time: NOW - 1000 - 7_200_000 }) as never); // replay
  det.ingestLine('{not json');
  det.ingestLine('');
  det.ingestLine('42');
  det.ingestLine(JSON.stringify({ ...ev({ requestId: 'b' }), inputTokens: 'many' }));
  det.ingestLine(JSON.stringify({ kind: 'decision', x: 1 }));
  for (const junk of [undefined, 'str', 3, true, {}, { requestId: {} }]) det.ingestRecord(junk);
  const s = det.stats();
  assert.equal(s.accepted, 2);
  assert.equal(s.skipped.duplicate, 1);
  assert.equal(s.skipped.clock_skew, 1);
  assert.equal(s.skipped.replay, 1);
  assert.equal(s.skipped.bad_json, 1);
  assert.equal(s.skipped.malformed_field, 2);
  assert.equal(s.skipped.not_an_object, 5);
  assert.equal(s.skipped.missing_field, 1);
  assert.match(s.lastSkipDetail.clock_skew, /beyond now/);
  assert.equal(det.table.req[det.table.index.get('a1')!], 2);
});

test('RecentIds is bounded and forgets the oldest', () => {
  const r = new RecentIds(3);
  for (const id of ['a', 'b', 'c', 'd']) assert.equal(r.seenOrAdd(id), false);
  assert.equal(r.size, 3);
  assert.equal(r.seenOrAdd('d'), true);
  assert.equal(r.seenOrAdd('a'), false); // evicted, so not recognised
  assert.deepEqual(RecentIds.from(3, r.toJSON()).toJSON(), r.toJSON());
});
