import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryLimiter } from '../src/limits/memory.ts';
import { configSchema } from '../src/limits/config.ts';
import { gcra, planFor } from '../src/limits/plan.ts';

const P = { keyId: 'k1', accountId: 'a1', orgId: 'o1' };

function clock(start = Date.parse('2026-06-15T12:00:00Z')) {
  const c = { now: start, fn: () => c.now };
  return c;
}

test('GCRA: bucket of `burst` admits that many at once, then one per interval', () => {
  let tat = 0;
  let admitted = 0;
  for (let i = 0; i < 20; i++) {
    const r = gcra(tat, 1000, 100, 500, 1);
    if (r.ok) {
      tat = r.tat;
      admitted++;
    }
  }
  assert.equal(admitted, 5);
  const r = gcra(tat, 1000, 100, 500, 1);
  assert.equal(r.ok, false);
  assert.ok(!r.ok && Math.abs(r.retryAfterMs - 100) < 1e-9);
  assert.equal(gcra(tat, 1100, 100, 500, 1).ok, true);
});

test('config defaults: absent section = no limits; overrides replace defaults field by field', () => {
  const cfg = configSchema.parse(undefined);
  assert.deepEqual(planFor(cfg, P), { rates: [], budgets: [] });
  const cfg2 = configSchema.parse({ defaults: { account: { rpm: 60, tpm: 1000 } }, overrides: { account: { a1: { rpm: 120 } } } });
  const plan = planFor(cfg2, P);
  assert.deepEqual(plan.rates.map((r) => [r.id, r.limit]), [['rpm:account:a1', 120], ['tpm:account:a1', 1000]]);
  assert.throws(() => configSchema.parse({ defaults: { account: { rpm: -1 } } }), /rpm/);
  assert.throws(() => configSchema.parse({ defaults: { acount: {} } }));
});

test('rpm per key: 429 naming the limit with Retry-After once the minute is used up', () => {
  const c = clock();
  const lim = new MemoryLimiter({ defaults: { key: { rpm: 10 } } }, c.fn);
  for (let i = 0; i < 10; i++) assert.equal(lim.admitSync(P, 'm', 0).action, 'allow');
  const v = lim.admitSync(P, 'm', 0);
  assert.equal(v.action, 'refuse');
  assert.ok(v.action === 'refuse');
  assert.equal(v.status, 429);
  assert.equal(v.code, 'rate_limit_rpm_key');
  assert.equal(v.ref?.limit, 'rpm:key:k1');
  assert.equal(v.retryAfter, 6);
  // Another key is not affected.
  assert.equal(lim.admitSync({ ...P, keyId: 'k2' }, 'm', 0).action, 'allow');
  c.now += 6000;
  assert.equal(lim.admitSync(P, 'm', 0).action, 'allow');
  void lim.close();
});

test('a request refused by the account limit does not consume the key allowance (all-or-nothing)', () => {
  const c = clock();
  const lim = new MemoryLimiter({ defaults: { key: { rpm: 5 }, account: { rpm: 3 } } }, c.fn);
  for (let i = 0; i < 3; i++) assert.equal(lim.admitSync(P, 'm', 0).action, 'allow');
  for (let i = 0; i < 5; i++) {
    const v = lim.admitSync(P, 'm', 0);
    assert.ok(v.action === 'refuse' && v.code === 'rate_limit_rpm_account');
  }
  // A different account under the same key budget: key k1 has used 3 of 5.
  assert.equal(lim.admitSync({ ...P, accountId: 'a2' }, 'm', 0).action, 'allow');
  assert.equal(lim.admitSync({ ...P, accountId: 'a2' }, 'm', 0).action, 'allow');
  const v = lim.admitSync({ ...P, accountId: 'a2' }, 'm', 0);
  assert.ok(v.action === 'refuse' && v.code === 'rate_limit_rpm_key');
  void lim.close();
});

test('tpm: estimate at admit, settle charges the difference; an oversized request is named as such', () => {
  const c = clock();
  const lim = new MemoryLimiter({ defaults: { org: { tpm: 1000 } } }, c.fn);
  assert.equal(lim.admitSync(P, 'm', 400).action, 'allow');
  lim.settleSync(P, 900, 0, 400); // used 900 in reality
  const v = lim.admitSync(P, 'm', 200);
  assert.ok(v.action === 'refuse' && v.code === 'rate_limit_tpm_org');
  assert.equal(lim.admitSync(P, 'm', 100).action, 'allow');
  const big = lim.admitSync({ ...P, orgId: 'o2' }, 'm', 5000);
  assert.ok(big.action === 'refuse' && big.status === 413 && big.code === 'request_exceeds_limit' && /needs about 5000 tokens/.test(big.message));
  // Giving back unused tokens frees room.
  const c2 = clock();
  const lim2 = new MemoryLimiter({ defaults: { key: { tpm: 1000 } } }, c2.fn);
  assert.equal(lim2.admitSync(P, 'm', 1000).action, 'allow');
  assert.equal(lim2.admitSync(P, 'm', 500).action, 'refuse');
  lim2.settleSync(P, 100, 0, 1000);
  assert.equal(lim2.admitSync(P, 'm', 500).action, 'allow');
  void lim.close();
  void lim2.close();
});

test('monthly budget: refused once spent, until the next UTC month', () => {
  const c = clock(Date.parse('2026-06-30T23:00:00Z'));
  const lim = new MemoryLimiter({ overrides: { account: { a1: { monthlyBudgetUsd: 1 } } } }, c.fn);
  assert.equal(lim.admitSync(P, 'm', 0).action, 'allow');
  lim.settleSync(P, 100, 0.6);
  assert.equal(lim.admitSync(P, 'm', 0).action, 'allow');
  lim.settleSync(P, 100, 0.6);
  const v = lim.admitSync(P, 'm', 0);
  assert.ok(v.action === 'refuse');
  assert.equal(v.code, 'budget_monthly_account');
  assert.equal(v.retryAfter, 3600);
  assert.match(v.message, /\$1\.00 reached \(\$1\.20 spent/);
  c.now += 3600_000;
  assert.equal(lim.admitSync(P, 'm', 0).action, 'allow');
  lim.seedSpend('account', 'a1', 5);
  assert.equal(lim.admitSync(P, 'm', 0).action, 'refuse');
  void lim.close();
});
