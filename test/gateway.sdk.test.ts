/**
 * The gateway driven by the official SDKs, on both store backends: both protocols, streaming and not,
 * tools, cross-protocol translation through real HTTP upstream adapters, and the served-model header.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { BACKENDS, startHarness, type Harness } from './support/harness.ts';

const weatherTool = {
  name: 'get_weather',
  description: 'Weather for a city',
  schema: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city'] },
};

for (const backend of BACKENDS) {
  describe(`SDK clients against the gateway (${backend} store)`, () => {
    let h: Harness;
    let openai: OpenAI;
    let anthropic: Anthropic;
    before(async () => {
      h = await startHarness({ backend });
      openai = new OpenAI({ apiKey: h.keys.valid, baseURL: `${h.url}/v1`, maxRetries: 0 });
      anthropic = new Anthropic({ apiKey: h.keys.valid, baseURL: h.url, maxRetries: 0 });
    });
    after(() => h.close());

    test('OpenAI non-streaming: reply, usage, served-model header', async () => {
      const { data, response } = await openai.chat.completions
        .create({ model: 'frontier', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hello there' }] })
        .withResponse();
      assert.equal(data.object, 'chat.completion');
      assert.equal(data.model, 'frontier');
      assert.match(data.choices[0]!.message.content!, /^\[simulated sim-frontier\]/);
      assert.equal(data.choices[0]!.finish_reason, 'stop');
      assert.equal(data.usage!.completion_tokens, 12);
      assert.ok(data.usage!.prompt_tokens > 0);
      assert.equal(response.headers.get('x-gatehouse-served-model'), 'frontier');
      assert.ok(response.headers.get('x-request-id'));
    });

    test('OpenAI streaming with include_usage ends with usage and [DONE]', async () => {
      const stream = await openai.chat.completions.create({
        model: 'frontier',
        messages: [{ role: 'user', content: 'stream please' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      let usage: OpenAI.CompletionUsage | undefined;
      let finish: string | null | undefined;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? '';
        if (chunk.choices[0]?.finish_reason) finish = chunk.choices[0].finish_reason;
        if (chunk.usage) usage = chunk.usage;
      }
      assert.match(text, /^\[simulated sim-frontier\]/);
      assert.equal(finish, 'stop');
      assert.equal(usage?.completion_tokens, 12);
      // Without include_usage there is no usage chunk.
      const s2 = await openai.chat.completions.create({ model: 'frontier', messages: [{ role: 'user', content: 'x' }], stream: true });
      for await (const chunk of s2) assert.equal(chunk.usage ?? null, null);
    });

    test('OpenAI tools: tool_calls pass through, streaming and not', async () => {
      const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: weatherTool.name, description: weatherTool.description, parameters: weatherTool.schema } }];
      const r = await openai.chat.completions.create({ model: 'frontier', messages: [{ role: 'user', content: 'weather in Paris?' }], tools, tool_choice: 'required' });
      const call = r.choices[0]!.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
      assert.equal(r.choices[0]!.finish_reason, 'tool_calls');
      assert.equal(call.function.name, 'get_weather');
      assert.deepEqual(JSON.parse(call.function.arguments), { city: 'simulated', days: 1 });
      // Feed the tool result back (tool role) — it must translate into a valid follow-up.
      const follow = await openai.chat.completions.create({
        model: 'frontier',
        messages: [
          { role: 'user', content: 'weather in Paris?' },
          { role: 'assistant', content: null, tool_calls: [call] },
          { role: 'tool', tool_call_id: call.id, content: '{"temp":21}' },
        ],
        tools,
      });
      assert.equal(follow.choices[0]!.finish_reason, 'stop');
      const stream = openai.chat.completions.stream({ model: 'frontier', messages: [{ role: 'user', content: 'weather?' }], tools, tool_choice: { type: 'function', function: { name: 'get_weather' } } });
      const final = await stream.finalChatCompletion();
      const sc = final.choices[0]!.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
      assert.equal(sc.function.name, 'get_weather');
      assert.deepEqual(JSON.parse(sc.function.arguments), { city: 'simulated', days: 1 });
    });

    test('GET /v1/models lists public models only', async () => {
      const ids: string[] = [];
      for await (const m of openai.models.list()) ids.push(m.id);
      assert.ok(ids.includes('frontier'));
      assert.ok(!ids.includes('all-down-2'), 'hidden models are not listed');
    });

    test('Anthropic non-streaming with system prompt', async () => {
      const { data, response } = await anthropic.messages
        .create({ model: 'frontier', max_tokens: 5, system: 'be terse', messages: [{ role: 'user', content: 'hi' }] })
        .withResponse();
      assert.equal(data.type, 'message');
      assert.equal(data.model, 'frontier');
      assert.equal(data.stop_reason, 'max_tokens', 'max_tokens below the reply length stops early');
      assert.equal(data.usage.output_tokens, 5);
      assert.equal(response.headers.get('x-gatehouse-served-model'), 'frontier');
    });

    test('Anthropic streaming: full event sequence and final message', async () => {
      const events: string[] = [];
      const stream = anthropic.messages.stream({ model: 'frontier', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
      stream.on('streamEvent', (e) => events.push(e.type));
      const final = await stream.finalMessage();
      assert.equal(events[0], 'message_start');
      assert.equal(events.at(-1), 'message_stop');
      assert.ok(events.includes('content_block_start') && events.includes('content_block_delta') && events.includes('content_block_stop') && events.includes('message_delta'));
      assert.equal(final.stop_reason, 'end_turn');
      assert.equal(final.usage.output_tokens, 12);
      assert.match((final.content[0] as Anthropic.TextBlock).text, /^\[simulated sim-frontier\]/);
    });

    test('Anthropic tool use passes through, streaming and not', async () => {
      const tools: Anthropic.Tool[] = [{ name: weatherTool.name, description: weatherTool.description, input_schema: weatherTool.schema as Anthropic.Tool.InputSchema }];
      const r = await anthropic.messages.create({ model: 'frontier', max_tokens: 100, tools, tool_choice: { type: 'any' }, messages: [{ role: 'user', content: 'weather in Oslo?' }] });
      assert.equal(r.stop_reason, 'tool_use');
      const use = r.content.find((b) => b.type === 'tool_use') as Anthropic.ToolUseBlock;
      assert.deepEqual(use.input, { city: 'simulated', days: 1 });
      const follow = await anthropic.messages.create({
        model: 'frontier',
        max_tokens: 100,
        tools,
        messages: [
          { role: 'user', content: 'weather in Oslo?' },
          { role: 'assistant', content: r.content },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '{"temp":3}' }] },
        ],
      });
      assert.equal(follow.stop_reason, 'end_turn');
      const final = await anthropic.messages.stream({ model: 'frontier', max_tokens: 100, tools, tool_choice: { type: 'tool', name: 'get_weather' }, messages: [{ role: 'user', content: 'x' }] }).finalMessage();
      const su = final.content.find((b) => b.type === 'tool_use') as Anthropic.ToolUseBlock;
      assert.deepEqual(su.input, { city: 'simulated', days: 1 });
    });

    test('cross-protocol: OpenAI ingress to an Anthropic upstream and back, streaming and tools', async () => {
      const r = await openai.chat.completions.create({ model: 'via-anthropic', messages: [{ role: 'system', content: 's' }, { role: 'user', content: 'hello' }] });
      assert.match(r.choices[0]!.message.content!, /^\[simulated claude-sim\]/);
      assert.equal(r.usage!.completion_tokens, 12);
      const s = await openai.chat.completions.create({ model: 'via-anthropic', messages: [{ role: 'user', content: 'hello' }], stream: true, stream_options: { include_usage: true } });
      let text = '';
      let usage: OpenAI.CompletionUsage | undefined;
      for await (const c of s) {
        text += c.choices[0]?.delta?.content ?? '';
        if (c.usage) usage = c.usage;
      }
      assert.match(text, /^\[simulated claude-sim\]/);
      assert.equal(usage?.completion_tokens, 12);
      const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: weatherTool.schema } }];
      const t = await openai.chat.completions.stream({ model: 'via-anthropic', messages: [{ role: 'user', content: 'x' }], tools, tool_choice: 'required' }).finalChatCompletion();
      const call = t.choices[0]!.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
      assert.equal(t.choices[0]!.finish_reason, 'tool_calls');
      assert.deepEqual(JSON.parse(call.function.arguments), { city: 'simulated', days: 1 });
    });

    test('cross-protocol: Anthropic ingress to an OpenAI-compatible upstream and back', async () => {
      const r = await anthropic.messages.create({ model: 'via-openai', max_tokens: 100, system: 'sys', messages: [{ role: 'user', content: 'hello' }] });
      assert.match((r.content[0] as Anthropic.TextBlock).text, /^\[simulated gpt-sim\]/);
      assert.equal(r.stop_reason, 'end_turn');
      assert.equal(r.usage.output_tokens, 12);
      const final = await anthropic.messages.stream({ model: 'via-openai', max_tokens: 100, messages: [{ role: 'user', content: 'hello' }] }).finalMessage();
      assert.equal(final.usage.output_tokens, 12);
      assert.equal(final.stop_reason, 'end_turn');
      const tools: Anthropic.Tool[] = [{ name: 'get_weather', input_schema: weatherTool.schema as Anthropic.Tool.InputSchema }];
      const tu = await anthropic.messages.stream({ model: 'via-openai', max_tokens: 100, tools, tool_choice: { type: 'any' }, messages: [{ role: 'user', content: 'x' }] }).finalMessage();
      assert.equal(tu.stop_reason, 'tool_use');
      assert.deepEqual((tu.content.find((b) => b.type === 'tool_use') as Anthropic.ToolUseBlock).input, { city: 'simulated', days: 1 });
    });
  });
}
