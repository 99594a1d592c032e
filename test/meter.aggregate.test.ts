import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { BACKENDS, openTestDb } from '../src/store/testing.ts';
import { migrations } from '../src/meter/migrations.ts';
import { Meter } from '../src/meter/meter.ts';
import { queryUsage, spendSince } from '../src/meter/query.ts';
import { registerUsageAdminRoutes } from '../src/meter/admin-routes.ts';
import { registerMeterMetrics } from '../src/meter/metrics.ts';
import { costOf } from '../src/meter/usage.ts';
import { charsCounter, countRequestTokens, loadTokenCounter } from '../src/meter/tokenizer.ts';
import type { CanonicalRequest } from '../src/core/canonical.ts';
import { run as usageCli } from '../src/meter/cli.ts';
import type { RequestEvent } from '../src/core/types.ts';

const DAY1 = Date.parse('2026-05-01T10:00:00Z');
const DAY2 = Date.parse('2026-05-02T23:59:59Z');

function ev(over: Partial<RequestEvent>): RequestEvent {
  return {
    requestId: 'r', time: DAY1, keyId: 'k1', accountId: 'a1', orgId: 'o1', protocol: 'openai', stream: false, modelRequested: 'm-big', modelServed: 'm-big',
    outcome: 'ok', status: 200, inputTokens: 100, outputTokens: 50, usageEstimated: false, costUsd: 0.01, latencyMs: 5, ...over,
  };
}

test('cost arithmetic', () => {
  assert.equal(costOf({ inputPerMTok: 3, outputPerMTok: 15 }, 1_000_000, 2_000_000), 33);
  assert.equal(costOf(undefined, 10, 10), 0);
});

test('token counts without upstream usage: a real BPE tokenizer, with chat framing; chars4 as the cheap option', async () => {
  const o200k = await loadTokenCounter('o200k_base');
  assert.equal(o200k.count(''), 0);
  assert.equal(o200k.count('hello world'), 2);
  assert.equal(await loadTokenCounter('o200k_base'), o200k, 'loaded once per process');
  const cl100k = await loadTokenCounter('cl100k_base');
  // The vocabularies differ on non-Latin text; characters / 4 is far off on it.
  const japanese = '東京は日本の首都であり、世界で最も人口の多い都市圏の一つです。';
  assert.notEqual(o200k.count(japanese), cl100k.count(japanese));
  assert.ok(Math.abs(o200k.count(japanese) - japanese.length) < Math.abs(charsCounter.count(japanese) - japanese.length));
  assert.equal(charsCounter.count('x'.repeat(401)), 101);
  const req: CanonicalRequest = {
    model: 'm', system: 'Be terse.', stream: false, includeUsage: false, maxTokens: 10,
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'hello world' }] },
      { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'lookup', input: { q: 'x' } }] },
      { role: 'user', content: [{ type: 'tool_result', toolUseId: 't1', content: 'found' }] },
    ],
  };
  const expected = 3 + (3 + o200k.count('Be terse.')) + (3 + 2) + (3 + o200k.count('lookup') + o200k.count('{"q":"x"}')) + (3 + o200k.count('found'));
  assert.equal(countRequestTokens(o200k, req), expected);
});

for (const backend of BACKENDS) {
  test(`meter aggregates per key, account, org, model and day on ${backend}`, async () => {
    const t = await openTestDb(backend, migrations);
    const registry = new Registry();
    const meter = new Meter(t.db, { flushIntervalMs: 60_000 }, registerMeterMetrics(registry));
    try {
      for (let i = 0; i < 10; i++) meter.record(ev({ keyId: i % 2 ? 'k1' : 'k2' }));
      meter.record(ev({ time: DAY2, modelServed: 'm-small', usageEstimated: true, costUsd: 0.001 }));
      meter.record(ev({ accountId: 'a2', orgId: null, keyId: 'k3' }));
      meter.record(ev({ outcome: 'refused', status: 429, inputTokens: 0, outputTokens: 0, costUsd: 0, modelServed: null }));
      meter.record(ev({ requestId: 'bad', keyId: 'kbad', inputTokens: NaN, outputTokens: -5, costUsd: Infinity }));
      await meter.flush();
      // A second flush merges into the same rows.
      meter.record(ev({}));
      await meter.close();

      const total = await queryUsage(t.db, {});
      assert.equal(total.length, 1);
      assert.equal(total[0].requests, 15);
      assert.equal(total[0].refused, 1);
      assert.equal(total[0].estimated, 1);
      assert.equal(total[0].inputTokens, 13 * 100);
      assert.ok(Math.abs(total[0].costUsd - (12 * 0.01 + 0.001)) < 1e-9);

      const byDayModel = await queryUsage(t.db, { groupBy: ['day', 'model'] });
      assert.deepEqual(byDayModel.map((r) => [r.day, r.model, r.requests]), [['2026-05-01', 'm-big', 14], ['2026-05-02', 'm-small', 1]]);
      assert.deepEqual((await queryUsage(t.db, { key: 'kbad' })).map((r) => [r.requests, r.inputTokens, r.outputTokens, r.costUsd]), [[1, 0, 0, 0]]);
      const a1 = await queryUsage(t.db, { account: 'a1', groupBy: ['key'] });
      assert.deepEqual(a1.map((r) => [r.key, r.requests]), [['k1', 8], ['k2', 5], ['kbad', 1]]);
      const org = await queryUsage(t.db, { groupBy: ['org'] });
      assert.deepEqual(org.map((r) => [r.org, r.requests]), [['', 1], ['o1', 14]]);
      const day2 = await queryUsage(t.db, { from: '2026-05-02', to: '2026-05-02' });
      assert.equal(day2[0].requests, 1);
      assert.ok(Math.abs((await spendSince(t.db, 'account', 'a2', '2026-05-01')) - 0.01) < 1e-12);

      const metrics = await registry.metrics();
      assert.match(metrics, /gatehouse_tokens_total\{model="m-big",direction="input"\} 1200/);
      assert.match(metrics, /gatehouse_cost_usd_total\{model="m-small"\} 0.001/);

      const app = Fastify();
      registerUsageAdminRoutes(app, { db: t.db });
      let res = await app.inject({ url: '/admin/v1/usage?groupBy=account&from=2026-05-01&to=2026-05-31' });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json().rows.map((r: { account: string; requests: number }) => [r.account, r.requests]), [['a1', 14], ['a2', 1]]);
      res = await app.inject({ url: '/admin/v1/usage?groupBy=model&format=csv&model=m-small' });
      assert.equal(res.headers['content-type'], 'text/csv; charset=utf-8');
      assert.equal(res.body.split('\n')[0], 'model,requests,refused,estimated,inputTokens,outputTokens,costUsd');
      assert.equal(res.body.split('\n')[1], 'm-small,1,0,1,100,50,0.001');
      res = await app.inject({ url: '/admin/v1/usage?groupBy=colour' });
      assert.equal(res.statusCode, 400);
      assert.match(res.json().error.message, /query.groupBy: 'colour' is not one of/);
      res = await app.inject({ url: '/admin/v1/usage?from=someday' });
      assert.equal(res.statusCode, 400);
      await app.close();

      // CLI against the same store.
      let out = '';
      const ow = process.stdout.write.bind(process.stdout);
      process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
      try {
        assert.equal(await usageCli(['usage', '--store', t.url, '--group-by', 'day', '--csv']), 0);
      } finally {
        process.stdout.write = ow;
      }
      assert.equal(out.trim().split('\n')[1].split(',').slice(0, 2).join(','), '2026-05-01,14');
    } finally {
      await t.cleanup();
    }
  });
}

test('a failed flush keeps the usage and writes it on the next one', async () => {
  const t = await openTestDb('sqlite', migrations);
  const meter = new Meter(t.db, { flushIntervalMs: 60_000 });
  await t.db.exec('ALTER TABLE meter_usage_daily RENAME TO meter_usage_daily_x');
  meter.record(ev({}));
  await assert.rejects(meter.flush());
  assert.ok(meter.lastError);
  await t.db.exec('ALTER TABLE meter_usage_daily_x RENAME TO meter_usage_daily');
  meter.record(ev({}));
  await meter.close();
  assert.equal((await queryUsage(t.db, {}))[0].requests, 2);
  await t.cleanup();
});

for (const backend of BACKENDS) {
  test(`a large flush (many distinct rows, several statements) lands whole on ${backend}`, async () => {
    const t = await openTestDb(backend, migrations);
    const meter = new Meter(t.db, { flushIntervalMs: 60_000, maxPendingRows: 100_000 });
    try {
      for (let i = 0; i < 1234; i++) meter.record(ev({ keyId: `k${i}`, costUsd: 0.5 }));
      for (let i = 0; i < 1234; i += 2) meter.record(ev({ keyId: `k${i}`, costUsd: 0.5 }));
      await meter.close();
      const rows = await queryUsage(t.db, { groupBy: ['key'] });
      assert.equal(rows.length, 1234);
      const total = (await queryUsage(t.db, {}))[0];
      assert.equal(total.requests, 1234 + 617);
      assert.ok(Math.abs(total.costUsd - (1234 + 617) * 0.5) < 1e-6);
    } finally {
      await t.cleanup();
    }
  });
}
