/**
 * Redis limiter: same semantics as in memory, fallback when Redis is down, and 3 separate node processes sharing
 * one Redis hammering one key: the combined admitted count is within 5 % of burst + rate × duration.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { RedisLimiter } from '../src/limits/redis.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const CHILD = process.env.GH_LIMITS_CHILD;
const P = { keyId: 'k1', accountId: 'a1', orgId: 'o1' };

if (CHILD) {
  const { prefix, durationMs } = JSON.parse(CHILD) as { prefix: string; durationMs: number };
  const lim = new RedisLimiter(REDIS_URL, { burstSeconds: 1, defaults: { key: { rpm: 6000 } }, redis: { keyPrefix: prefix, timeoutMs: 2000 } });
  await lim.ready(10_000);
  // Tell the parent we are connected; it answers with the common start time once all three are.
  process.stdout.write('ready\n');
  const startAt = await new Promise<number>((resolve) => process.stdin.once('data', (d) => resolve(Number(String(d).trim()))));
  await new Promise((r) => setTimeout(r, startAt - Date.now()));
  const end = startAt + durationMs;
  let admitted = 0;
  let refused = 0;
  let errors = 0;
  const worker = async () => {
    while (Date.now() < end) {
      const v = await lim.admit(P, 'm', 0);
      if (!lim.readiness().redisOk) errors++;
      if (v.action === 'allow') admitted++;
      else refused++;
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  process.stdout.write(JSON.stringify({ admitted, refused, errors }) + '\n');
  await lim.close();
} else {
  const prefix = () => `gh_t_${randomBytes(5).toString('hex')}:`;

  async function cleanup(pfx: string) {
    const r = new Redis(REDIS_URL);
    const keys = await r.keys(pfx + '*');
    if (keys.length) await r.del(...keys);
    r.disconnect();
  }

  test('redis: rpm, tpm settle and monthly budget behave as in memory', async () => {
    const pfx = prefix();
    const lim = new RedisLimiter(REDIS_URL, { defaults: { key: { rpm: 5, tpm: 1000 }, account: { monthlyBudgetUsd: 1 } }, redis: { keyPrefix: pfx } });
    try {
      await lim.ready();
      for (let i = 0; i < 5; i++) assert.equal((await lim.admit({ ...P, keyId: `r${i}` }, 'm', 0)).action, 'allow');
      for (let i = 0; i < 5; i++) assert.equal((await lim.admit(P, 'm', 100)).action, 'allow');
      const v = await lim.admit(P, 'm', 100);
      assert.ok(v.action === 'refuse' && v.code === 'rate_limit_rpm_key' && v.status === 429 && v.retryAfter! >= 1);
      // tpm: key k2 admits 800 estimated, really used 1000 -> full.
      const k2 = { ...P, keyId: 'k2' };
      assert.equal((await lim.admit(k2, 'm', 800)).action, 'allow');
      await lim.settle(k2, 1000, 0.7, 800);
      const t = await lim.admit(k2, 'm', 50);
      assert.ok(t.action === 'refuse' && t.code === 'rate_limit_tpm_key', JSON.stringify(t));
      // Budget: 0.7 spent so far on a1, then 0.4 more.
      await lim.settle(P, 0, 0.4, 0);
      const b = await lim.admit({ ...P, keyId: 'k3' }, 'm', 0);
      assert.ok(b.action === 'refuse' && b.code === 'budget_monthly_account', JSON.stringify(b));
      assert.deepEqual(lim.readiness().redisOk, true);
    } finally {
      await lim.close();
      await cleanup(pfx);
    }
  });

  test('redis unreachable: falls back to per-replica limits and readiness says so', async () => {
    const lim = new RedisLimiter('redis://127.0.0.1:1', { defaults: { key: { rpm: 10 } }, redis: { localShare: 0.5, timeoutMs: 50 } });
    try {
      const verdicts = [];
      for (let i = 0; i < 7; i++) verdicts.push((await lim.admit(P, 'm', 0)).action);
      assert.deepEqual(verdicts, ['allow', 'allow', 'allow', 'allow', 'allow', 'refuse', 'refuse']);
      const r = lim.readiness();
      assert.equal(r.redisOk, false);
      assert.equal(r.mode, 'fallback');
    } finally {
      await lim.close();
    }
    const refuse = new RedisLimiter('redis://127.0.0.1:1', { defaults: { key: { rpm: 10 } }, redis: { fallback: 'refuse' } });
    const v = await refuse.admit(P, 'm', 0);
    assert.ok(v.action === 'refuse' && v.status === 503);
    await refuse.close();
  });

  test('3 processes sharing Redis admit within 5% of the limit combined', { timeout: 60_000 }, async (t) => {
    const pfx = prefix();
    const durationMs = 4000;
    const children = [0, 1, 2].map(() =>
      spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
        env: { ...process.env, GH_LIMITS_CHILD: JSON.stringify({ prefix: pfx, durationMs }) },
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
    let readyCount = 0;
    const allReady = new Promise<void>((resolve) => {
      for (const c of children) c.stdout.once('data', () => ++readyCount === 3 && resolve());
    });
    const runs = await Promise.all(
      children.map(
        (child) =>
          new Promise<{ admitted: number; refused: number; errors: number }>((resolve, reject) => {
            let out = '';
            let err = '';
            child.stdout.on('data', (d) => (out += d));
            child.stderr.on('data', (d) => (err += d));
            child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.replace('ready\n', ''))) : reject(new Error(`child exit ${code}: ${err}`))));
          }),
      ).concat(
        allReady.then(() => {
          const startAt = String(Date.now() + 300) + '\n';
          for (const c of children) c.stdin.end(startAt);
          return { admitted: 0, refused: 0, errors: 0 };
        }) as Promise<{ admitted: number; refused: number; errors: number }>,
      ),
    ).then((r) => r.slice(0, 3));
    await cleanup(pfx);
    const admitted = runs.reduce((s, r) => s + r.admitted, 0);
    const refused = runs.reduce((s, r) => s + r.refused, 0);
    // rpm 6000 = 100/s with a 1 s burst (100): expected = 100 + 100 × 4 s.
    const expected = 100 + 100 * (durationMs / 1000);
    t.diagnostic(`admitted ${admitted} (expected ${expected}), refused ${refused}, per process ${JSON.stringify(runs)}`);
    assert.equal(runs.reduce((s, r) => s + r.errors, 0), 0, 'no fallbacks during the run');
    assert.ok(runs.every((r) => r.admitted > 0), `every process got some: ${JSON.stringify(runs)}`);
    assert.ok(refused > admitted, `hammering: ${refused} refused`);
    assert.ok(Math.abs(admitted - expected) / expected <= 0.05, `admitted ${admitted}, expected ${expected} ±5% (${JSON.stringify(runs)})`);
  });
}
