import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../src/audit/log.ts';
import { adminAuditor, auditDurableSink, auditReadiness } from '../src/audit/sink.ts';
import { auditRecordFromEvent } from '../src/audit/record.ts';
import type { RequestEvent } from '../src/core/types.ts';

const ev: RequestEvent = {
  requestId: 'req-1', time: 1, keyId: 'k', accountId: 'a', orgId: null, protocol: 'anthropic', stream: true, modelRequested: 'big', modelServed: 'small',
  outcome: 'ok', status: 200, code: 'routed_cyber', ref: { rule: 'cyber-route', classifier: 'cyber' }, labels: { cyber: 0.91 }, inputTokens: 3, outputTokens: 4,
  usageEstimated: false, costUsd: 0.5, latencyMs: 9, promptHash: 'f'.repeat(64), promptSketch: 'abcd', netPrefix: '10.0.0.0/24', userAgent: 'ua',
};

test('request records keep the decision and the non-secret abuse signals, never text', () => {
  const r = auditRecordFromEvent(ev);
  assert.equal(r.action, 'route');
  assert.deepEqual(r.ref, { rule: 'cyber-route', classifier: 'cyber' });
  assert.equal(r.promptHash, 'f'.repeat(64));
  // Replaying the log must reproduce abuse detection, so the sketch, prefix and user agent are kept.
  assert.deepEqual([r.promptSketch, r.netPrefix, r.userAgent], ['abcd', '10.0.0.0/24', 'ua']);
  assert.deepEqual(Object.keys(r), Object.keys(r).slice().sort(), 'keys stay in canonical order');
  assert.equal(auditRecordFromEvent({ ...ev, outcome: 'refused', status: 429 }).action, 'refuse');
});

test('durable sink appends the event as an audit record; readiness follows health', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-audit-sink-'));
  const log = await AuditLog.open({ path: join(dir, 'a.jsonl') }, { onProblem: () => {} });
  const sink = auditDurableSink(log);
  assert.equal(sink.healthy, true);
  await sink.append(ev);
  await adminAuditor(log)('directive.issued', 'admin:alice', 'dir-7', { scope: 'model:big' });
  assert.deepEqual(auditReadiness(log).check(), { ok: true, detail: 'seq 2' });
  const [rec, admin] = readFileSync(join(dir, 'a.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.equal(rec.kind, 'request');
  assert.equal(rec.requestId, 'req-1');
  assert.deepEqual([admin.kind, admin.action, admin.actor, admin.target, admin.details.scope], ['admin', 'directive.issued', 'admin:alice', 'dir-7', 'model:big']);
  log.healthy = false;
  log.lastError = 'ENOSPC';
  assert.equal(sink.healthy, false);
  assert.deepEqual(auditReadiness(log).check(), { ok: false, detail: 'audit log unwritable: ENOSPC' });
  await log.close();
  rmSync(dir, { recursive: true });
});
