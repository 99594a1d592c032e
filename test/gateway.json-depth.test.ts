/**
 * JSON nested thousands of levels deep (tool-call arguments, tool_use inputs, admin bodies) is refused at parse time
 * with 400 `json_too_deep` in the caller's protocol, naming the JSON path — never a stack overflow or a hang — and
 * nesting within the limit is served. The limit is `server.maxJsonDepth`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { standardConfig } from './support/config.ts';
import { startHarness, type Harness } from './support/harness.ts';

const ADMIN_TOKEN = 'admin-token-json-depth';

/** `{"a":{"a":…1…}}` with `levels` objects, built as text (JSON.stringify would itself overflow). */
const deepObjectText = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
const deepArrayText = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);
const nestedObject = (levels: number): unknown => JSON.parse(deepObjectText(levels));

describe('JSON nesting depth', () => {
  let h: Harness;
  before(async () => {
    const server = { ...(standardConfig({ simUrl: '', storeUrl: '' }).server as object), maxJsonDepth: 32 };
    h = await startHarness({ backend: 'sqlite', extra: { server }, env: { GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN } });
  });
  after(() => h.close());

  const post = (path: string, body: string, headers: Record<string, string>) =>
    fetch(`${h.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, signal: AbortSignal.timeout(15_000) });

  test('OpenAI: tool arguments given as a deep object → 400 json_too_deep naming the path', async () => {
    const body = `{"model":"frontier","messages":[{"role":"user","content":"hi"},{"role":"assistant","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":${deepObjectText(5000)}}}]},{"role":"tool","tool_call_id":"c1","content":"ok"}]}`;
    const res = await post('/v1/chat/completions', body, { authorization: `Bearer ${h.keys.valid}` });
    assert.equal(res.status, 400);
    const json = (await res.json()) as { error: { message: string; type: string; param: string; code: string } };
    assert.deepEqual(Object.keys(json), ['error']);
    assert.equal(json.error.type, 'invalid_request_error');
    assert.equal(json.error.code, 'json_too_deep');
    assert.ok(json.error.param.startsWith('messages[1].tool_calls[0].function.arguments.a.a'), json.error.param);
    assert.match(json.error.message, /more than 32 levels deep at 'messages\[1\]\.tool_calls\[0\]\.function\.arguments\.a/);
  });

  test('OpenAI SDK: tool arguments given as deep JSON text → BadRequestError json_too_deep, one attempt', async () => {
    const client = new OpenAI({ apiKey: h.keys.valid, baseURL: `${h.url}/v1`, timeout: 15_000 });
    const before = h.logLines().length;
    await assert.rejects(
      client.chat.completions.create({
        model: 'frontier',
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: deepArrayText(20_000) } }] },
          { role: 'tool', tool_call_id: 'c1', content: 'ok' },
        ],
      }),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.BadRequestError, String(err));
        assert.equal(err.status, 400);
        assert.equal(err.code, 'json_too_deep');
        assert.match(err.message, /'messages\[1\]\.tool_calls\[0\]\.function\.arguments\[0\]\[0\]/);
        return true;
      },
    );
    const lines = h.logLines().slice(before).filter((l) => l.msg === 'request');
    assert.equal(lines.length, 1, 'one request, logged');
    assert.equal(lines[0]!.code, 'json_too_deep');
  });

  test('Anthropic: a tool_use input thousands of levels deep → 400 json_too_deep naming the path', async () => {
    const body = `{"model":"frontier","max_tokens":10,"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"f","input":${deepObjectText(5000)}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"ok"}]}]}`;
    const res = await post('/v1/messages', body, { 'x-api-key': h.keys.valid });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('x-should-retry'), 'false');
    const json = (await res.json()) as { type: string; error: { type: string; message: string; code: string } };
    assert.equal(json.type, 'error');
    assert.equal(json.error.type, 'invalid_request_error');
    assert.equal(json.error.code, 'json_too_deep');
    assert.match(json.error.message, /more than 32 levels deep at 'messages\[1\]\.content\[0\]\.input\.a\.a/);
  });

  test('Anthropic SDK: a deep tool_use input → BadRequestError json_too_deep naming the path', async () => {
    const client = new Anthropic({ apiKey: h.keys.valid, baseURL: h.url, timeout: 15_000 });
    await assert.rejects(
      client.messages.create({
        model: 'frontier',
        max_tokens: 10,
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: nestedObject(1000) as Record<string, unknown> }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'ok' }] },
        ],
      }),
      (err: unknown) => {
        assert.ok(err instanceof Anthropic.BadRequestError, String(err));
        assert.equal(err.status, 400);
        const body = err.error as { type: string; error: { type: string; message: string; code: string } };
        assert.equal(body.type, 'error');
        assert.equal(body.error.type, 'invalid_request_error');
        assert.equal(body.error.code, 'json_too_deep');
        assert.match(body.error.message, /at 'messages\[1\]\.content\[0\]\.input\.a\.a/);
        return true;
      },
    );
  });

  test('nesting within the limit is served on both protocols', async () => {
    const openai = new OpenAI({ apiKey: h.keys.valid, baseURL: `${h.url}/v1`, timeout: 15_000 });
    const r = await openai.chat.completions.create({
      model: 'frontier',
      messages: [
        { role: 'user', content: 'hi' },
        // root, messages, message, tool_calls, call, function = 6 levels; 20 more inside the arguments
        { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: deepObjectText(20) } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'ok' },
      ],
    });
    assert.ok(r.choices[0]!.message.content);
    const anthropic = new Anthropic({ apiKey: h.keys.valid, baseURL: h.url, timeout: 15_000 });
    const m = await anthropic.messages.create({
      model: 'frontier',
      max_tokens: 10,
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'f', input: nestedObject(20) as Record<string, unknown> }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'ok' }] },
      ],
    });
    assert.equal(m.type, 'message');
  });

  test('a deep body anywhere (even before authentication) is refused in the protocol format', async () => {
    const res = await post('/v1/messages', `{"model":"frontier","max_tokens":10,"metadata":${deepArrayText(20_000)}}`, {});
    assert.equal(res.status, 400);
    const json = (await res.json()) as { type: string; error: { type: string; message: string; code: string } };
    assert.equal(json.type, 'error');
    assert.equal(json.error.code, 'json_too_deep');
    assert.match(json.error.message, /at 'metadata\[0\]\[0\]/);
  });

  test('admin API: a deep body → 400 {error: {type, message}}', async () => {
    const body = `{"accountId":"a","nationalities":["US"],"label":${deepObjectText(5000)}}`;
    const res = await post('/admin/v1/keys', body, { authorization: `Bearer ${ADMIN_TOKEN}` });
    assert.equal(res.status, 400);
    const json = (await res.json()) as { error: { type: string; message: string } };
    assert.deepEqual(Object.keys(json.error).sort(), ['message', 'type']);
    assert.equal(json.error.type, 'invalid_request');
    assert.match(json.error.message, /at 'label\.a\.a/);
  });

  test('the gateway still serves afterwards', async () => {
    const res = await post('/v1/chat/completions', JSON.stringify({ model: 'frontier', messages: [{ role: 'user', content: 'hi' }] }), { authorization: `Bearer ${h.keys.valid}` });
    assert.equal(res.status, 200);
  });
});
