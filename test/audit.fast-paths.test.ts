/**
 * The request path's audit fast paths write exactly the bytes the generic code writes: the fixed-shape serialiser
 * of request records against the generic canonical JSON (and the hash chain sealed over it), and the prepared-key
 * HMAC against node:crypto's createHmac.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJsonWith, canonicalRequestJson, REQUEST_RECORD_MEMBERS } from '../src/audit/canonical-json.ts';
import { sealRequestWith, sealWith } from '../src/audit/chain.ts';
import { AuditLog } from '../src/audit/log.ts';
import { auditRecordFromEvent, keyedTextHasher, type RequestAuditRecord } from '../src/audit/record.ts';
import { auditDurableSink } from '../src/audit/sink.ts';
import { verifyAudit } from '../src/audit/verify.ts';
import type { Outcome, RequestEvent } from '../src/core/types.ts';

/** Deterministic PRNG (mulberry32) so a failure reproduces. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const AWKWARD = ['', 'plain', 'quote " and \\ backslash', 'line\nbreak\ttab\u0001', 'ünïcödé ✓ 漢字', 'emoji 🙂', 'lone \ud800 surrogate', '\u2028\u2029', '<script>'];
const OUTCOMES: Outcome[] = ['ok', 'refused', 'moderated', 'invalid', 'upstream_error', 'stream_error', 'internal_error', 'client_closed'];

function randomEvent(r: () => number): RequestEvent {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const maybe = <T>(v: () => T): T | undefined => (r() < 0.5 ? v() : undefined);
  const str = () => pick(AWKWARD) + (r() < 0.5 ? String(Math.floor(r() * 1e6)) : '');
  const num = () => (r() < 0.3 ? Math.floor(r() * 1e6) : r() * 1e4 - 100);
  const ev: RequestEvent = {
    requestId: str(),
    time: Math.floor(r() * 2e12),
    keyId: r() < 0.8 ? str() : null,
    accountId: r() < 0.8 ? str() : null,
    orgId: r() < 0.5 ? str() : null,
    protocol: pick(['openai', 'anthropic'] as const),
    stream: r() < 0.5,
    modelRequested: str(),
    modelServed: r() < 0.7 ? str() : null,
    outcome: pick(OUTCOMES),
    status: pick([200, 400, 403, 429, 499, 500, 503]),
    inputTokens: num(),
    outputTokens: num(),
    usageEstimated: r() < 0.5,
    costUsd: num(),
    latencyMs: num(),
  };
  const code = maybe(str);
  if (code !== undefined) ev.code = code;
  if (r() < 0.5) {
    // Labels in whatever order the classifier produced them; sometimes keys only the slow path may write.
    const names = ['selfharm', 'cyber', 'bio', 'benign', 'Chem', 'a', 'zz'].filter(() => r() < 0.6);
    if (r() < 0.1) names.push('7');
    ev.labels = Object.fromEntries(names.map((n) => [n, r()]));
  }
  if (r() < 0.5) ev.ref = r() < 0.5 ? { rule: str(), classifier: str() } : ({ licence: str(), directive: str(), rule: str(), limit: str() } as RequestEvent['ref']);
  if (r() < 0.3) ev.skipped = [{ model: str(), code: str(), ref: { rule: str() } }, { model: str(), code: str() }] as RequestEvent['skipped'];
  for (const k of ['promptHash', 'promptSketch', 'promptShape', 'netPrefix', 'userAgent', 'traceId'] as const) {
    const v = maybe(str);
    if (v !== undefined) ev[k] = v;
  }
  if (r() < 0.5) ev.reasoningRequested = r() < 0.5;
  if (r() < 0.2) ev.failedOpen = r() < 0.5 ? ['cascade: timeout'] : ['model: unavailable', 'cascade: \u00e9rror "x"'];
  return ev;
}

test('a request record serialised by its fixed shape is byte for byte the generic canonical JSON', () => {
  const r = rng(14);
  let slow = 0;
  for (let i = 0; i < 5000; i++) {
    const ev = randomEvent(r);
    const record = auditRecordFromEvent(ev, r() < 0.5 ? { responseHash: 'b'.repeat(64) } : {});
    const chain = { seq: i + 1, prevHash: (i % 16).toString(16).repeat(64), time: Math.floor(r() * 2e12) };
    const generic = canonicalJsonWith(record, chain);
    assert.equal(canonicalRequestJson(record, chain), generic, `record ${i}: ${generic}`);
    assert.deepEqual(sealRequestWith(record, chain), sealWith(record, chain));
    if (ev.labels && '7' in ev.labels) slow++;
  }
  assert.ok(slow > 0, 'the integer-like-key fallback was exercised');
});

test('every member of a request record is written by the fixed-shape serialiser', () => {
  const ev = randomEvent(rng(1));
  const full: RequestEvent = { ...ev, code: 'c', labels: { b: 1, a: 2 }, failedOpen: ['cascade: timeout'], ref: { rule: 'r' }, skipped: [], promptHash: 'h', promptSketch: 's', promptShape: 'p', reasoningRequested: true, netPrefix: 'n', userAgent: 'u', traceId: 't', modelServed: 'm' };
  const record = auditRecordFromEvent(full, { responseHash: 'x' });
  const written = Object.keys(JSON.parse(canonicalRequestJson(record, { seq: 1, prevHash: 'p', time: 2 })) as object);
  assert.deepEqual(written, [...Object.keys(record), 'prevHash', 'seq', 'time'].sort());
  assert.deepEqual(Object.keys(record), [...REQUEST_RECORD_MEMBERS], 'the builder sets exactly the listed members');
});

test('a non-finite number in a request record is refused, as the generic canonical JSON refuses it', () => {
  const record = auditRecordFromEvent({ ...randomEvent(rng(2)), latencyMs: NaN });
  const chain = { seq: 1, prevHash: '0'.repeat(64), time: 1 };
  assert.throws(() => canonicalJsonWith(record, chain), /non-finite/);
  assert.throws(() => canonicalRequestJson(record, chain), /non-finite/);
  const nested = auditRecordFromEvent({ ...randomEvent(rng(3)), skipped: [{ model: 'm', code: 'c', score: Infinity }] as never });
  assert.throws(() => canonicalJsonWith(nested, chain), /non-finite/);
  assert.throws(() => canonicalRequestJson(nested, chain), /non-finite/);
});

test('the prepared-key HMAC equals createHmac for any key and text', () => {
  const r = rng(7);
  const keys = [Buffer.alloc(0), Buffer.from('demo-only-hmac-key-change-me'), Buffer.alloc(64, 7), Buffer.alloc(65, 9), Buffer.from('k'.repeat(300))];
  for (const key of keys) {
    const hasher = keyedTextHasher(key);
    const texts = [...AWKWARD, 'x'.repeat(1365), 'é'.repeat(3000), '漢'.repeat(2000), 'y'.repeat(20_000), '\ud83d'.repeat(5000), 'z'.repeat(1_200_000)];
    for (let i = 0; i < 30; i++) texts.push(Array.from({ length: Math.floor(r() * 3000) }, () => String.fromCharCode(Math.floor(r() * 0xffff))).join(''));
    // Short again after long ones: the reused buffer must not leak bytes of an earlier, longer text.
    texts.push('short', '');
    for (const text of texts) assert.equal(hasher(text), createHmac('sha256', key).update(text).digest('hex'), `key ${key.length} bytes, text ${text.length} units`);
  }
});

test('the durable sink writes the same log as appending the generic record, and it verifies', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-audit-fast-'));
  try {
    let t = 1_764_600_000_000;
    const clock = () => t++;
    const fast = await AuditLog.open({ path: join(dir, 'fast.jsonl'), textHashKey: 'k1' }, { clock, onProblem: () => {} });
    const sink = auditDurableSink(fast);
    const r = rng(21);
    const events: RequestEvent[] = [];
    for (let i = 0; i < 300; i++) {
      const ev = randomEvent(r);
      events.push(ev);
      await sink.append(ev, { request: { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] } as never, response: `reply ${i} ✓` });
      if (i % 50 === 0) await fast.append({ kind: 'admin', action: 'key.created', actor: 'test', target: `k${i}` });
    }
    await fast.close();
    t = 1_764_600_000_000;
    const generic = await AuditLog.open({ path: join(dir, 'generic.jsonl'), textHashKey: 'k1' }, { clock, onProblem: () => {} });
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]!;
      const record: RequestAuditRecord = auditRecordFromEvent(ev, ev.modelServed !== null ? { responseHash: createHmac('sha256', 'k1').update(`reply ${i} ✓`).digest('hex') } : {});
      await generic.append(record);
      if (i % 50 === 0) await generic.append({ kind: 'admin', action: 'key.created', actor: 'test', target: `k${i}` });
    }
    await generic.close();
    const bytes = readFileSync(join(dir, 'fast.jsonl'));
    assert.ok(bytes.equals(readFileSync(join(dir, 'generic.jsonl'))), 'identical files');
    const verified = await verifyAudit(join(dir, 'fast.jsonl'));
    assert.equal(verified.ok, true);
    assert.equal(verified.records, 306);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
