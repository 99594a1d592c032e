import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AccountTable, HOURS, PFX_K } from '../src/abuse/account-table.ts';

/** Writes values derived from the account number into every kind of field of its slot. */
function fill(t: AccountTable, i: number): number {
  const s = t.slot(`acct-${i}`);
  t.req[s] = i + 1;
  t.inTok[s] = i * 1.5;
  t.createdAt[s] = 1_000_000 + i;
  t.hours[s * HOURS + (i % HOURS)] = i;
  t.addTemplateKey(s, i);
  t.addPrefix(s, `10.0.${i % 256}.0/24`);
  AccountTable.addSample(t.pfxBot, t.pfxBits, s, PFX_K, i * 7 + 1);
  t.org[s] = `org-${i % 5}`;
  return s;
}

test('the account table grows as accounts arrive, keeping every slot and the LRU order', () => {
  const t = new AccountTable(5000);
  assert.ok(t.allocated < 5000, `starts smaller than its capacity (allocated ${t.allocated})`);
  const slots = new Map<number, number>();
  for (let i = 0; i < 3000; i++) slots.set(i, fill(t, i));
  assert.ok(t.allocated >= 3000 && t.allocated <= 5000, `grew to hold 3000 accounts (allocated ${t.allocated})`);
  for (let i = 0; i < 3000; i++) {
    const s = t.index.get(`acct-${i}`)!;
    assert.equal(s, slots.get(i), 'slot numbers are stable across growth');
    assert.equal(t.req[s], i + 1);
    assert.equal(t.inTok[s], i * 1.5);
    assert.equal(t.createdAt[s], 1_000_000 + i);
    assert.equal(t.hours[s * HOURS + (i % HOURS)], i);
    assert.equal(t.tKey[s * 6], i);
    assert.equal(t.pfx[s * 2], `10.0.${i % 256}.0/24`);
    assert.equal(t.pfxBot[s * PFX_K], i * 7 + 1);
    assert.equal(t.pfxBot[s * PFX_K + 1], 0xffffffff, 'unused bottom-k entries stay EMPTY');
    assert.equal(t.org[s], `org-${i % 5}`);
  }
  const order = [...t.slots()];
  assert.equal(order.length, 3000);
  assert.equal(order[0], slots.get(2999), 'most recent first');
  assert.equal(order[2999], slots.get(0));
  // A fresh slot after growth starts cleared (NaN sign-up time, EMPTY samples).
  const s = t.slot('late');
  assert.ok(Number.isNaN(t.createdAt[s]));
  assert.equal(t.req[s], 0);
  assert.equal(t.tKey[s * 6], -1);
});

test('a grown table still evicts the least recently active account at its capacity', () => {
  const t = new AccountTable(1500);
  for (let i = 0; i < 1500; i++) fill(t, i);
  assert.equal(t.allocated, 1500, 'growth stops at the capacity');
  t.slot('acct-0'); // touched: now the most recent
  fill(t, 1500);
  assert.equal(t.evicted, 1);
  assert.equal(t.index.has('acct-1'), false, 'the least recently active account went');
  assert.equal(t.index.has('acct-0'), true);
  const s = t.index.get('acct-1500')!;
  assert.equal(t.req[s], 1501);
  assert.equal(t.index.size, 1500);
});

test('a snapshot of a grown table restores into a fresh one', () => {
  const t = new AccountTable(4000);
  for (let i = 0; i < 2100; i++) fill(t, i);
  const back = AccountTable.fromJSON(JSON.parse(JSON.stringify(t.toJSON())) as Record<string, unknown>, 4000);
  assert.equal(back.index.size, 2100);
  for (const i of [0, 1023, 1024, 2047, 2048, 2099]) {
    const a = t.index.get(`acct-${i}`)!;
    const b = back.index.get(`acct-${i}`)!;
    assert.equal(back.req[b], t.req[a]);
    assert.equal(back.createdAt[b], t.createdAt[a]);
    assert.equal(back.pfx[b * 2], t.pfx[a * 2]);
  }
  assert.deepEqual([...back.slots()].map((s) => back.ids[s]), [...t.slots()].map((s) => t.ids[s]));
});
