/** Every bad input gets the right status and an error in the caller's own protocol format. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BACKENDS, startHarness, type Harness } from './support/harness.ts';

interface Case {
  name: string;
  status: number;
  code: string;
  body?: string | Buffer;
  key?: 'valid' | 'revoked' | 'unknown' | 'none';
}

const openaiOk = { model: 'frontier', messages: [{ role: 'user', content: 'hi' }] };
const anthropicOk = { model: 'frontier', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };

function cases(ok: Record<string, unknown>, protocol: 'openai' | 'anthropic'): Case[] {
  const c: Case[] = [
    { name: 'malformed JSON', status: 400, code: 'invalid_json', body: '{"model": "frontier", ' },
    { name: 'empty body', status: 400, code: 'empty_body', body: '' },
    { name: 'body not an object', status: 400, code: 'invalid_request', body: '[1,2]' },
    { name: 'wrong type', status: 400, code: 'invalid_request', body: JSON.stringify({ ...ok, messages: 'hello' }) },
    { name: 'missing field', status: 400, code: 'invalid_request', body: JSON.stringify({ model: 'frontier' }) },
    { name: 'unknown model', status: 404, code: 'model_not_found', body: JSON.stringify({ ...ok, model: 'no-such-model' }) },
    { name: 'hidden model', status: 404, code: 'model_not_found', body: JSON.stringify({ ...ok, model: 'all-down-2' }) },
    { name: 'body over the limit', status: 413, code: 'request_too_large', body: JSON.stringify({ ...ok, pad: 'x'.repeat(70 * 1024) }) },
    { name: 'invalid UTF-8', status: 400, code: 'invalid_utf8', body: Buffer.concat([Buffer.from('{"model":"frontier","x":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]) },
    { name: 'missing key', status: 401, code: 'missing_api_key', key: 'none' },
    { name: 'unknown key', status: 401, code: 'invalid_api_key', key: 'unknown' },
    { name: 'revoked key', status: 401, code: 'key_revoked', key: 'revoked' },
  ];
  if (protocol === 'anthropic') c.push({ name: 'missing max_tokens', status: 400, code: 'invalid_request', body: JSON.stringify({ model: 'frontier', messages: [{ role: 'user', content: 'x' }] }) });
  if (protocol === 'openai') c.push({ name: 'bad role', status: 400, code: 'invalid_request', body: JSON.stringify({ model: 'frontier', messages: [{ role: 'wizard', content: 'x' }] }) });
  return c;
}

for (const backend of BACKENDS) describe(`bad input (${backend} store)`, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ backend });
  });
  after(() => h.close());

  for (const protocol of ['openai', 'anthropic'] as const) {
    const ok = protocol === 'openai' ? openaiOk : anthropicOk;
    const path = protocol === 'openai' ? '/v1/chat/completions' : '/v1/messages';
    for (const c of cases(ok, protocol)) {
      test(`${protocol}: ${c.name} → ${c.status}`, async () => {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        const key = c.key ?? 'valid';
        const secret = key === 'none' ? undefined : key === 'unknown' ? 'gh_thisIsNotARealKeyAtAll000000000000000000' : h.keys[key];
        if (secret) headers[protocol === 'openai' ? 'authorization' : 'x-api-key'] = protocol === 'openai' ? `Bearer ${secret}` : secret;
        const res = await fetch(`${h.url}${path}`, { method: 'POST', headers, body: (c.body ?? JSON.stringify(ok)) as string });
        assert.equal(res.status, c.status);
        assert.match(res.headers.get('content-type') ?? '', /application\/json/);
        const body = (await res.json()) as Record<string, any>;
        if (protocol === 'openai') {
          assert.deepEqual(Object.keys(body), ['error']);
          assert.equal(typeof body.error.message, 'string');
          assert.equal(typeof body.error.type, 'string');
          assert.equal(body.error.code, c.code);
        } else {
          assert.equal(body.type, 'error');
          assert.equal(typeof body.error.type, 'string');
          assert.equal(typeof body.error.message, 'string');
          assert.equal(body.error.code, c.code);
        }
        assert.ok(body.error.message.length > 10, 'message explains the problem');
        if (secret) assert.ok(!JSON.stringify(body).includes(secret), 'the key is never echoed');
      });
    }
  }

  test('validation errors name the JSON path and what was found', async () => {
    const res = await fetch(`${h.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${h.keys.valid}` },
      body: JSON.stringify({ model: 'frontier', messages: [{ role: 'user', content: 42 }] }),
    });
    const body = (await res.json()) as { error: { message: string; param: string } };
    assert.equal(body.error.param, 'messages[0].content');
    assert.match(body.error.message, /messages\[0\]\.content/);
  });

  test('unknown routes get a 404 in the protocol format', async () => {
    const res = await fetch(`${h.url}/v1/completions`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 404);
    const body = (await res.json()) as { error: { code: string } };
    assert.equal(body.error.code, 'route_not_found');
  });

  test('bad inputs are logged with their outcome', async () => {
    const lines = h.logLines().filter((l) => l.msg === 'request' && l.outcome === 'invalid');
    assert.ok(lines.length >= 10);
    assert.ok(lines.some((l) => l.status === 413));
    assert.ok(lines.some((l) => l.status === 401));
  });
});
