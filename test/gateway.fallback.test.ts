/** Fallbacks on upstream failure, error statuses when every attempt fails, mid-stream breaks, and cancellation. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { loadTokenCounter } from '../src/meter/tokenizer.ts';
import { BACKENDS, startHarness, type Harness } from './support/harness.ts';

for (const backend of BACKENDS) describe(`fallbacks and upstream failures (${backend} store)`, () => {
  let h: Harness;
  let openai: OpenAI;
  let anthropic: Anthropic;
  before(async () => {
    h = await startHarness({ backend });
    openai = new OpenAI({ apiKey: h.keys.valid, baseURL: `${h.url}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: h.keys.valid, baseURL: h.url, maxRetries: 0 });
  });
  after(() => h.close());

  const served = async (model: string, stream: boolean) => {
    const { data, response } = await openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], stream: stream as false }).withResponse();
    return { header: response.headers.get('x-gatehouse-served-model'), data };
  };

  for (const stream of [false, true]) {
    test(`5xx falls back to the next model (stream=${stream})`, async () => {
      const r = await served('down-then-lite', stream);
      assert.equal(r.header, 'lite');
    });
    test(`attempt timeout falls back (stream=${stream})`, async () => {
      const t0 = Date.now();
      const r = await served('slow-then-lite', stream);
      assert.equal(r.header, 'lite');
      assert.ok(Date.now() - t0 < 2500, 'did not wait for the slow upstream');
    });
    test(`connection reset falls back across providers (stream=${stream})`, async () => {
      const r = await served('reset-then-anthropic', stream);
      assert.equal(r.header, 'via-anthropic');
    });
    test(`connection refused falls back (stream=${stream})`, async () => {
      const r = await served('refused-port', stream);
      assert.equal(r.header, 'lite');
    });
  }

  test('stream broken before the first byte falls back', async () => {
    const r = await served('break-early-then-lite', true);
    assert.equal(r.header, 'lite');
  });

  test('fallbacks are counted in /metrics', async () => {
    const text = await (await fetch(`${h.url}/metrics`)).text();
    assert.match(text, /gatehouse_fallbacks_total\{from="down-then-lite",to="lite"\} [1-9]/);
    assert.match(text, /gatehouse_upstream_errors_total\{provider="sim-down",kind="status"\} [1-9]/);
    assert.match(text, /gatehouse_overhead_seconds_bucket/);
  });

  test('every attempt failed: 503 (overloaded), 502 (5xx), 504 (timeout), in both protocol formats', async () => {
    for (const [model, status] of [['all-down', 503], ['all-500', 502], ['all-slow', 504]] as const) {
      await assert.rejects(openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }] }), (e: InstanceType<typeof OpenAI.APIError>) => {
        assert.equal(e.status, status, model);
        assert.ok((e.error as { code: string }).code.startsWith('upstream_'));
        return true;
      });
      const res = await fetch(`${h.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': h.keys.valid },
        body: JSON.stringify({ model, max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
      });
      assert.equal(res.status, status);
      const body = (await res.json()) as { type: string; error: { type: string; message: string } };
      assert.equal(body.type, 'error');
      assert.ok(body.error.message.length > 0);
      // Streaming requests that fail before the first byte get the same plain error, not a hung stream.
      await assert.rejects(openai.chat.completions.create({ model, stream: true, messages: [{ role: 'user', content: 'x' }] }), (e: InstanceType<typeof OpenAI.APIError>) => e.status === status);
    }
  });

  test('stream broken mid-way ends with a protocol error event (OpenAI and Anthropic)', async () => {
    const s = await openai.chat.completions.create({ model: 'break-late', stream: true, messages: [{ role: 'user', content: 'x' }] });
    let text = '';
    await assert.rejects(async () => {
      for await (const c of s) text += c.choices[0]?.delta?.content ?? '';
    }, /upstream stream broke/);
    assert.ok(text.length > 0, 'some text arrived before the break');

    const res = await fetch(`${h.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': h.keys.valid },
      body: JSON.stringify({ model: 'break-late', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'x' }] }),
    });
    const raw = await res.text();
    assert.match(raw, /^event: message_start/);
    assert.match(raw, /event: error\ndata: \{"type":"error","error":\{"type":"api_error"/);
    assert.doesNotMatch(raw, /message_stop/);
    await assert.rejects(anthropic.messages.stream({ model: 'break-late', max_tokens: 100, messages: [{ role: 'user', content: 'x' }] }).finalMessage());
  });

  test('an upstream that reports no usage: tokens are counted with the tokenizer, streaming and not', async () => {
    const o200k = await loadTokenCounter('o200k_base');
    const openai = new OpenAI({ apiKey: h.keys.valid, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const messages = [{ role: 'system' as const, content: 'Answer briefly.' }, { role: 'user' as const, content: 'What does a load balancer do?' }];
    const expectedInput = 3 + (3 + o200k.count('Answer briefly.')) + (3 + o200k.count('What does a load balancer do?'));
    const r = await openai.chat.completions.create({ model: 'no-usage', messages });
    const reply = r.choices[0]!.message.content!;
    assert.ok(reply.length > 0);
    assert.equal(r.usage!.prompt_tokens, expectedInput);
    assert.equal(r.usage!.completion_tokens, o200k.count(reply), 'the reply is counted, not taken as 0');
    const stream = await openai.chat.completions.create({ model: 'no-usage', messages, stream: true, stream_options: { include_usage: true } });
    let streamed = '';
    let usage: { prompt_tokens: number; completion_tokens: number } | undefined;
    for await (const chunk of stream) {
      streamed += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(usage?.prompt_tokens, expectedInput);
    assert.equal(usage?.completion_tokens, o200k.count(streamed));
  });

  test('a client that disconnects mid-stream cancels the upstream request', async () => {
    const before = h.sim.stats.aborted;
    const ctrl = new AbortController();
    const res = await fetch(`${h.url}/v1/chat/completions`, {
      method: 'POST',
      signal: ctrl.signal,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${h.keys.valid}` },
      body: JSON.stringify({ model: 'paced', stream: true, messages: [{ role: 'user', content: 'long please' }] }),
    });
    const reader = res.body!.getReader();
    await reader.read();
    ctrl.abort();
    const deadline = Date.now() + 3000;
    while (h.sim.stats.aborted === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(h.sim.stats.aborted, before + 1, 'the upstream saw the cancellation');
    // What was streamed before the disconnect is still charged (estimated, as the upstream never sent its usage).
    await new Promise((r) => setTimeout(r, 50));
    const closed = h.logLines().filter((l) => l.msg === 'request' && l.outcome === 'client_closed' && l.modelServed === 'paced');
    assert.equal(closed.length, 1);
    assert.ok(closed[0]!.outputTokens > 0, 'streamed output is metered');
    // Counted with the default tokenizer (o200k_base) and chat framing: 3 for the reply + 3 for the one message.
    const o200k = await loadTokenCounter('o200k_base');
    assert.equal(closed[0]!.inputTokens, 3 + 3 + o200k.count('long please'));
  });
});
