/**
 * Overload handled like a production proxy: past `overload.maxInFlight` requests in flight, a new one is answered
 * at once with 503 `overloaded` and retry-after in the caller's format (not queued), /readyz reports the load, and
 * the gateway serves again as soon as the backlog drains. The event-loop delay is a Prometheus gauge.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startHarness, type Harness } from './support/harness.ts';

describe('overload', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      backend: 'sqlite',
      extra: { overload: { maxInFlight: 2, retryAfterSeconds: 3 } },
      modelsExtra: [{ name: 'slow', provider: 'sim-slow', upstreamModel: 'x', timeoutMs: 10_000 }],
    });
  });
  after(() => h.close());

  test('past maxInFlight a request gets 503 overloaded with retry-after at once, in both protocols', async () => {
    const openai = new OpenAI({ apiKey: h.keys.valid, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const anthropic = new Anthropic({ apiKey: h.keys.valid, baseURL: h.url, maxRetries: 0 });
    const busy = [0, 1].map(() => openai.chat.completions.create({ model: 'slow', messages: [{ role: 'user', content: 'hi' }] }));
    // Wait until both are in flight.
    for (let i = 0; i < 100; i++) {
      const r = (await (await fetch(`${h.url}/readyz`)).json()) as { checks: { load: { ok: boolean; detail: string } } };
      if (r.checks.load.detail.startsWith('2/2')) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const ready = await fetch(`${h.url}/readyz`);
    assert.equal(ready.status, 503);
    assert.equal(((await ready.json()) as { checks: { load: { ok: boolean } } }).checks.load.ok, false);

    await assert.rejects(openai.chat.completions.create({ model: 'frontier', messages: [{ role: 'user', content: 'hi' }] }), (e: InstanceType<typeof OpenAI.APIError>) => {
      assert.equal(e.status, 503);
      assert.equal(e.code, 'overloaded');
      assert.equal(e.headers?.get('retry-after'), '3');
      return true;
    });
    await assert.rejects(anthropic.messages.create({ model: 'frontier', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }), (e: InstanceType<typeof Anthropic.APIError>) => {
      assert.equal(e.status, 503);
      assert.equal((e.error as { error: { type: string } }).error.type, 'overloaded_error');
      assert.equal(e.headers?.get('retry-after'), '3');
      return true;
    });
    // The busy ones complete normally; then the gateway serves again.
    for (const r of await Promise.all(busy)) assert.ok(r.choices[0]!.message.content);
    const ok = await openai.chat.completions.create({ model: 'frontier', messages: [{ role: 'user', content: 'hi' }] });
    assert.ok(ok.choices[0]!.message.content);
    assert.equal((await fetch(`${h.url}/readyz`)).status, 200);
  });

  test('the event-loop delay and requests in flight are metrics', async () => {
    const text = await (await fetch(`${h.url}/metrics`)).text();
    assert.match(text, /^gatehouse_event_loop_delay_p99_seconds \d/m);
    assert.match(text, /^gatehouse_requests_in_flight 0$/m);
  });
});
