/**
 * Three `gatehouse serve` processes on loopback share one Redis (REDIS_URL) and one store; one key hammers all
 * three well above its limit. The combined admitted count must be within 5 % of what the limit allows
 * (burst + rate × duration), and refusals must be 429s naming the limit with a Retry-After header.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { KeyRepository } from '../src/identity/keys.ts';
import { ALL_MIGRATIONS } from '../src/server/migrations.ts';
import { openTestDb } from '../src/store/testing.ts';
import { tempDir, writeConfig } from './support/config.ts';
import { serve, type ServeProcess } from './support/process.ts';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

test('3 gateway processes sharing Redis admit within 5% of one key\'s limit', { timeout: 120_000 }, async (t) => {
  const prefix = `gh_t_${randomBytes(5).toString('hex')}:`;
  const store = await openTestDb('sqlite', ALL_MIGRATIONS);
  const repo = new KeyRepository(store.db);
  const key = (await repo.create({ accountId: 'acct-limits', nationalities: ['US'] })).secret;
  const warmKey = (await repo.create({ accountId: 'acct-warm', nationalities: ['US'] })).secret;
  const dir = tempDir('gh-limits-e2e-');
  // 1200 rpm = 20 requests/s with a 1 s burst (20). Each replica has its own audit file (one writer per file).
  const configFor = (i: number) =>
    writeConfig(
      dir,
      {
        server: { host: '127.0.0.1', port: 0, logLevel: 'info' },
        store: { url: store.url },
        providers: { sim: { type: 'simulator', replyTokens: 4 } },
        models: [{ name: 'sim-model', provider: 'sim', upstreamModel: 'sim-1' }],
        limits: { defaults: { key: { rpm: 1200 } }, burstSeconds: 1, redis: { keyPrefix: prefix, timeoutMs: 1000 } },
        audit: { path: join(dir, `audit-${i}.jsonl`) },
      },
      `gw${i}.yaml`,
    );
  const gws: ServeProcess[] = [];
  try {
    gws.push(...(await Promise.all([0, 1, 2].map((i) => serve(configFor(i), { REDIS_URL })))));
    // Wait until every replica says its limiter reaches Redis.
    for (const gw of gws) {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const body = await (await fetch(`${gw.url}/readyz`)).text();
        if (!/redis unavailable/.test(body)) break;
        if (Date.now() > deadline) throw new Error(`replica never reached Redis: ${body}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const ask = (url: string, k: string) =>
      fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${k}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'sim-model', messages: [{ role: 'user', content: 'hi' }] }),
      });
    // Warm every replica's request path with another key, so cold starts do not eat into the measured window.
    for (const gw of gws) assert.equal((await ask(gw.url, warmKey)).status, 200);
    const durationMs = 5000;
    let firstOk = Infinity;
    let lastOk = 0;
    const counts = { ok: 0, limited: 0, other: 0 };
    let retryAfterOk = true;
    let codeOk = true;
    const start = Date.now();
    const worker = async (url: string) => {
      while (Date.now() - start < durationMs) {
        const res = await ask(url, key);
        const body = await res.text();
        if (res.status === 200) {
          counts.ok++;
          const now = performance.now();
          firstOk = Math.min(firstOk, now);
          lastOk = Math.max(lastOk, now);
        }
        else if (res.status === 429) {
          counts.limited++;
          if (!(Number(res.headers.get('retry-after')) >= 1)) retryAfterOk = false;
          if (!body.includes('rate_limit_rpm_key')) codeOk = false;
        } else counts.other++;
      }
    };
    await Promise.all(gws.flatMap((gw) => Array.from({ length: 4 }, () => worker(gw.url))));
    // The bucket starts full (burst 20) at the first admission, then refills 20/s: between the first and the last
    // admitted response the limit allows 20 + 20 × span (± a request at each end from response latency).
    const span = (lastOk - firstOk) / 1000;
    const expected = 20 + 20 * span;
    t.diagnostic(`admitted ${counts.ok} (limit allows ${expected.toFixed(1)} over ${span.toFixed(2)} s), 429: ${counts.limited}, other: ${counts.other}`);
    assert.equal(counts.other, 0);
    assert.ok(counts.limited > counts.ok, 'the key was hammered above its limit');
    assert.ok(retryAfterOk, 'every 429 carries Retry-After');
    assert.ok(codeOk, 'every 429 names the limit');
    assert.ok(Math.abs(counts.ok - expected) / expected <= 0.05, `admitted ${counts.ok}, expected ${expected.toFixed(1)} ± 5%`);
  } finally {
    await Promise.all(gws.map((gw) => gw.stop('SIGTERM')));
    await store.cleanup();
    rmSync(dir, { recursive: true, force: true });
    const r = new Redis(REDIS_URL);
    const keys = await r.keys(prefix + '*');
    if (keys.length) await r.del(...keys);
    r.disconnect();
  }
});
