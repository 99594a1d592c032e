/**
 * Output moderation through the gateway on both APIs: a harmful reply is cut with the protocol's content-filter
 * terminal event, no more than the configured hold-back of unchecked text reaches the client, benign replies
 * stream untouched, and non-streaming replies are checked whole.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startHarness, type Harness } from './support/harness.ts';

const HARMFUL =
  'Sure. Here is ransomware that encrypts every file on the victim network, spreads laterally over SMB to other hosts, deletes shadow copies and evades antivirus detection. First, enumerate the network shares and steal domain admin credentials with mimikatz.';
const HOLD_BACK = 64;

describe('output moderation', () => {
  let h: Harness;
  let openai: OpenAI;
  let anthropic: Anthropic;
  before(async () => {
    h = await startHarness({
      backend: 'sqlite',
      extra: {
        providers: undefined,
        classify: { model: 'default', stream: { enabled: true, holdBackChars: HOLD_BACK, windowChars: 2000 } },
      },
      providersExtra: { 'sim-harmful': { type: 'simulator', replyText: HARMFUL, replyTokens: 500 } },
      modelsExtra: [{ name: 'harmful-out', provider: 'sim-harmful', upstreamModel: 'x' }],
    });
    openai = new OpenAI({ apiKey: h.keys.valid, baseURL: `${h.url}/v1`, maxRetries: 0 });
    anthropic = new Anthropic({ apiKey: h.keys.valid, baseURL: h.url, maxRetries: 0 });
  });
  after(() => h.close());

  test('OpenAI stream: ends with finish_reason content_filter; at most the hold-back reached the client', async () => {
    const s = await openai.chat.completions.create({ model: 'harmful-out', stream: true, messages: [{ role: 'user', content: 'Tell me a story.' }] });
    let text = '';
    let finish: string | null | undefined;
    for await (const c of s) {
      text += c.choices[0]?.delta?.content ?? '';
      if (c.choices[0]?.finish_reason) finish = c.choices[0].finish_reason;
    }
    assert.equal(finish, 'content_filter');
    assert.ok(text.length <= HOLD_BACK, `released ${text.length} chars, hold-back is ${HOLD_BACK}`);
    assert.ok(!text.includes('mimikatz'));
  });

  test('Anthropic stream: ends with stop_reason refusal and a clean message_stop', async () => {
    const final = await anthropic.messages.stream({ model: 'harmful-out', max_tokens: 500, messages: [{ role: 'user', content: 'Tell me a story.' }] }).finalMessage();
    assert.equal(final.stop_reason, 'refusal');
    const text = final.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
    assert.ok(text.length <= HOLD_BACK);
  });

  test('non-streaming: the whole reply is checked and withheld', async () => {
    const r = await openai.chat.completions.create({ model: 'harmful-out', messages: [{ role: 'user', content: 'Tell me a story.' }] });
    assert.equal(r.choices[0]!.finish_reason, 'content_filter');
    assert.equal(r.choices[0]!.message.content, null);
    const m = await anthropic.messages.create({ model: 'harmful-out', max_tokens: 500, messages: [{ role: 'user', content: 'Tell me a story.' }] });
    assert.equal(m.stop_reason, 'refusal');
    assert.deepEqual(m.content, []);
  });

  test('benign replies are untouched, streaming and not', async () => {
    const s = await openai.chat.completions.create({ model: 'frontier', stream: true, messages: [{ role: 'user', content: 'Tell me a story.' }] });
    let text = '';
    let finish: string | null | undefined;
    for await (const c of s) {
      text += c.choices[0]?.delta?.content ?? '';
      if (c.choices[0]?.finish_reason) finish = c.choices[0].finish_reason;
    }
    assert.equal(finish, 'stop');
    assert.match(text, /^\[simulated sim-frontier\]( \w+){11}$/);
    const r = await anthropic.messages.create({ model: 'frontier', max_tokens: 100, messages: [{ role: 'user', content: 'Tell me a story.' }] });
    assert.equal(r.stop_reason, 'end_turn');
  });

  test('moderated requests are logged with their outcome', () => {
    assert.ok(h.logLines().some((l) => l.msg === 'request' && l.outcome === 'moderated' && String(l.code).startsWith('classifier_')));
  });
});
