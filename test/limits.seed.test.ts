import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openTestDb } from '../src/store/testing.ts';
import { migrations } from '../src/meter/migrations.ts';
import { Meter } from '../src/meter/meter.ts';
import { MemoryLimiter } from '../src/limits/memory.ts';
import { seedSpendFromMeter } from '../src/limits/seed.ts';
import type { RequestEvent } from '../src/core/types.ts';

test('monthly budgets survive a restart by seeding spend from the meter table', async () => {
  const t = await openTestDb('sqlite', migrations);
  const now = Date.parse('2026-07-20T10:00:00Z');
  const meter = new Meter(t.db, { flushIntervalMs: 60_000 });
  const ev = (time: number, cost: number): RequestEvent => ({
    requestId: 'r', time, keyId: 'k1', accountId: 'a1', orgId: 'o1', protocol: 'openai', stream: false, modelRequested: 'm', modelServed: 'm',
    outcome: 'ok', status: 200, inputTokens: 1, outputTokens: 1, usageEstimated: false, costUsd: cost, latencyMs: 1,
  });
  meter.record(ev(now - 86_400_000, 3)); // this month
  meter.record(ev(Date.parse('2026-06-30T23:00:00Z'), 50)); // last month: does not count
  await meter.close();
  const lim = new MemoryLimiter({ defaults: { account: { monthlyBudgetUsd: 5 }, org: { monthlyBudgetUsd: 3 } } }, () => now);
  assert.equal(lim.admitSync({ keyId: 'k1', accountId: 'a1', orgId: 'o1' }, 'm', 0).action, 'allow');
  assert.equal(await seedSpendFromMeter(lim, t.db, now), 3);
  const v = lim.admitSync({ keyId: 'k1', accountId: 'a1', orgId: 'o1' }, 'm', 0);
  assert.ok(v.action === 'refuse' && v.code === 'budget_monthly_org', JSON.stringify(v));
  assert.equal(lim.admitSync({ keyId: 'k2', accountId: 'a1', orgId: 'o2' }, 'm', 0).action, 'allow'); // a1 at 3 of 5
  await lim.close();
  await t.cleanup();
});
