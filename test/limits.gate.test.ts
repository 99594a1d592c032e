import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryLimiter } from '../src/limits/memory.ts';
import { RedisLimiter } from '../src/limits/redis.ts';
import { estimateRequestTokens, limitsGate } from '../src/limits/gate.ts';
import type { GateInput } from '../src/core/gates.ts';
import type { Principal, RequestEvent } from '../src/core/types.ts';
import type { CanonicalRequest } from '../src/core/canonical.ts';

const principal: Principal = { keyId: 'k1', accountId: 'a1', orgId: null, nationalities: [], residence: null, kyc: 'none', programmes: [], tier: 'general', staff: false };
const request: CanonicalRequest = { model: 'm', system: 'x'.repeat(40), messages: [{ role: 'user', content: [{ type: 'text', text: 'y'.repeat(360) }] }], maxTokens: null, stream: false, includeUsage: false };

function input(requestId: string): GateInput {
  return { requestId, principal, model: 'm', request, now: Date.now(), memo: new Map() };
}

function event(requestId: string, tokens: number): RequestEvent {
  return { requestId, time: Date.now(), keyId: 'k1', accountId: 'a1', orgId: null, protocol: 'openai', stream: true, modelRequested: 'm', modelServed: 'm', outcome: 'client_closed', status: 499, inputTokens: tokens, outputTokens: 0, usageEstimated: true, costUsd: 0, latencyMs: 1 };
}

test('gate admits with a prompt estimate, re-checks do not charge twice, the sink settles the real usage', async () => {
  assert.equal(estimateRequestTokens(request), 100);
  const lim = new MemoryLimiter({ defaults: { key: { tpm: 300 } } });
  const { gate, sink } = limitsGate(lim);
  const a = input('r1');
  assert.equal((await gate.check(a)).action, 'allow');
  assert.equal((await gate.check(a)).action, 'allow'); // re-check after a route: memoised
  assert.equal((await gate.check(input('r2'))).action, 'allow');
  // 200 of 300 used: a third request of 100 fits, a fourth does not.
  assert.equal((await gate.check(input('r3'))).action, 'allow');
  const v = await gate.check(input('r4'));
  assert.ok(v.action === 'refuse' && v.code === 'rate_limit_tpm_key');
  // r1..r3 really used 10 tokens each (streams cut short): 270 given back.
  for (const id of ['r1', 'r2', 'r3']) sink.onEvent(event(id, 10));
  assert.equal((await gate.check(input('r5'))).action, 'allow');
  await lim.close();
});

test('readiness reports redis down with the fallback in force', async () => {
  const lim = new RedisLimiter('redis://127.0.0.1:1', { redis: { timeoutMs: 50 } });
  const { readiness, gate } = limitsGate(lim);
  await gate.check(input('x'));
  const r = readiness.check();
  assert.equal(r.ok, true);
  assert.match(r.detail!, /redis unavailable: limits on fallback 'local' \(per-replica\)/);
  await lim.close();
  const memory = limitsGate(new MemoryLimiter({}));
  assert.deepEqual(memory.readiness.check(), { ok: true, detail: 'memory' });
});
