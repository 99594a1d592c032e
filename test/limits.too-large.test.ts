/**
 * A request that can never fit a limit (more tokens than the per-minute limit allows at once) is refused with 413
 * `request_exceeds_limit` and no Retry-After, which the official SDKs do not retry — with a 429 they would sleep for
 * as long as Retry-After says and try again, to the same end. Driven with both SDKs, retries left at their default;
 * the gateway must see exactly one request per call. In-memory limits and Redis-backed limits alike.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { MemoryLimiter } from '../src/limits/memory.ts';
import { RedisLimiter } from '../src/limits/redis.ts';
import { startHarness, type Harness } from './support/harness.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const who = { keyId: 'k1', accountId: 'a1', orgId: null };

test('limiter: a request larger than the whole bucket is 413 request_exceeds_limit, whatever the bucket holds', async () => {
  for (const lim of [new MemoryLimiter({ defaults: { key: { tpm: 100 } } }), new RedisLimiter(REDIS_URL, { defaults: { key: { tpm: 100 } }, redis: { keyPrefix: `gh:test:${process.pid}:${Date.now()}:` } })]) {
    if (lim instanceof RedisLimiter) await lim.ready();
    const v = await lim.admit(who, 'm', 101);
    assert.equal(v.action, 'refuse');
    assert.ok(v.action === 'refuse');
    assert.equal(v.status, 413);
    assert.equal(v.code, 'request_exceeds_limit');
    assert.equal(v.retryAfter, undefined, 'no Retry-After: waiting cannot help');
    assert.equal(v.ref?.limit, 'tpm:key:k1');
    assert.match(v.message, /101 tokens.*100 tokens per minute/);
    // It used nothing: the whole allowance is still there, then an ordinary over-limit request is a 429.
    assert.equal((await lim.admit(who, 'm', 100)).action, 'allow');
    const again = await lim.admit(who, 'm', 50);
    assert.ok(again.action === 'refuse');
    assert.equal(again.status, 429);
    assert.equal(again.code, 'rate_limit_tpm_key');
    assert.ok((again.retryAfter ?? 0) >= 1);
    await lim.close();
  }
});

for (const backend of ['memory', 'redis'] as const) {
  describe(`a request that can never fit the tokens-per-minute limit (${backend} limits)`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({
        backend: 'sqlite',
        extra: {
          limits: { enabled: true, defaults: { key: { tpm: 100 } }, ...(backend === 'redis' ? { redis: { keyPrefix: `gh:toolarge:${process.pid}:${Date.now()}:` } } : {}) },
          ...(backend === 'redis' ? { redis: { url: REDIS_URL } } : {}),
        },
      });
    });
    after(() => h.close());

    // ~600 tokens by the gateway's estimate (characters / 4): six times the 100-token limit.
    const big = 'word '.repeat(480);
    const refusalsLogged = () => h.logLines().filter((l) => l.msg === 'request' && l.code === 'request_exceeds_limit').length;

    test('openai SDK (default retries): fails at once with 413 request_exceeds_limit; the gateway saw one request', { timeout: 30_000 }, async () => {
      const client = new OpenAI({ apiKey: h.keys.valid, baseURL: `${h.url}/v1` });
      const seen = refusalsLogged();
      await assert.rejects(client.chat.completions.create({ model: 'frontier', messages: [{ role: 'user', content: big }] }), (err: unknown) => {
        assert.ok(err instanceof OpenAI.APIError, String(err));
        assert.equal(err.status, 413);
        assert.equal(err.code, 'request_exceeds_limit');
        assert.equal(err.headers?.get('retry-after') ?? null, null);
        assert.match(err.message, /can never be admitted/);
        return true;
      });
      assert.equal(refusalsLogged() - seen, 1, 'exactly one request reached the gateway');
    });

    test('Anthropic SDK (default retries): fails at once with 413 request_exceeds_limit, x-should-retry false; one request', { timeout: 30_000 }, async () => {
      const client = new Anthropic({ apiKey: h.keys.valid, baseURL: h.url });
      const seen = refusalsLogged();
      await assert.rejects(client.messages.create({ model: 'frontier', max_tokens: 10, messages: [{ role: 'user', content: big }] }), (err: unknown) => {
        assert.ok(err instanceof Anthropic.APIError, String(err));
        assert.equal(err.status, 413);
        assert.equal(err.headers?.get('x-should-retry'), 'false');
        assert.equal(err.headers?.get('retry-after') ?? null, null);
        const body = err.error as { type: string; error: { type: string; code: string; gatehouse?: { limit?: string } } };
        assert.equal(body.error.type, 'request_too_large');
        assert.equal(body.error.code, 'request_exceeds_limit');
        assert.equal(body.error.gatehouse?.limit, `tpm:key:${body.error.gatehouse?.limit?.split(':')[2]}`);
        return true;
      });
      assert.equal(refusalsLogged() - seen, 1, 'exactly one request reached the gateway');
    });

    test('a request that fits is still served', async () => {
      const client = new OpenAI({ apiKey: h.keys.valid, baseURL: `${h.url}/v1` });
      const r = await client.chat.completions.create({ model: 'frontier', messages: [{ role: 'user', content: 'hi' }] });
      assert.ok(r.choices[0]!.message.content);
    });
  });
}
