/**
 * Misbehaving upstreams: an HTTP server speaking "OpenAI" or "Anthropic" that answers with seeded garbage —
 * truncated or invalid JSON, wrong shapes, HTML with status 200, SSE streams with broken events, unknown event
 * types, missing terminators, huge lines, resets mid-body. Whatever the upstream does, the client (either ingress
 * protocol, streaming or not) gets a well-formed answer in its own protocol — a success, a 502/503/504 error, or a
 * stream that ends with the protocol's error event — never a hang, a 500, or a dead gateway.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startHarness, type Harness } from './support/harness.ts';

const CASES = 240;

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const OPENAI_OK = { id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } };
const ANTHROPIC_OK = { id: 'msg', type: 'message', role: 'assistant', model: 'm', content: [{ type: 'text', text: 'hello' }], stop_reason: 'end_turn', usage: { input_tokens: 1, output_tokens: 1 } };
const OPENAI_CHUNK = (text: string) => `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: text }, finish_reason: null }] })}\n\n`;
const ANTHROPIC_EVENTS = [
  `event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message: { id: 'msg', type: 'message', role: 'assistant', model: 'm', content: [], usage: { input_tokens: 1, output_tokens: 0 } } })}\n\n`,
  `event: content_block_start\ndata: ${JSON.stringify({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } })}\n\n`,
  `event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'hel' } })}\n\n`,
  `event: content_block_stop\ndata: ${JSON.stringify({ type: 'content_block_stop', index: 0 })}\n\n`,
  `event: message_delta\ndata: ${JSON.stringify({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 1 } })}\n\n`,
  `event: message_stop\ndata: {"type":"message_stop"}\n\n`,
];

type Reply = (res: http.ServerResponse, req: http.IncomingMessage) => void;

/** The upstream's bad behaviours; each is picked by the seeded generator per request. */
function behaviours(anthropic: boolean, _r: () => number): Reply[] {
  const ok = anthropic ? ANTHROPIC_OK : OPENAI_OK;
  const json = (status: number, body: string, type = 'application/json'): Reply => (res) => res.writeHead(status, { 'content-type': type }).end(body);
  const sse = (parts: string[], end = true): Reply => (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const p of parts) res.write(p);
    if (end) res.end();
    else setTimeout(() => res.socket?.destroy(), 20);
  };
  const goodStream = anthropic ? ANTHROPIC_EVENTS : [OPENAI_CHUNK('hel'), OPENAI_CHUNK('lo'), 'data: [DONE]\n\n'];
  const list: Reply[] = [
    json(200, JSON.stringify(ok)),
    json(200, JSON.stringify(ok).slice(0, 20)),
    json(200, '<html>Bad gateway</html>', 'text/html'),
    json(200, 'null'),
    json(200, JSON.stringify({ ...ok, choices: 'nope', content: 7 })),
    json(200, JSON.stringify({ ...ok, choices: [{ message: null }], content: [{ type: 'mystery' }] })),
    json(200, JSON.stringify({ ...ok, usage: { prompt_tokens: 'many', input_tokens: -5 } })),
    json(500, 'internal'),
    json(429, JSON.stringify({ error: { message: 'slow down' } })),
    json(404, ''),
    (res) => res.socket?.destroy(),
    (res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
      res.write('{"id":');
      setTimeout(() => res.socket?.destroy(), 10);
    },
    sse(goodStream),
    sse(goodStream.slice(0, 2), false),
    sse(['data: {not json}\n\n', ...goodStream]),
    sse(['event: mystery\ndata: {"type":"mystery"}\n\n', ...goodStream]),
    sse([`data: ${'x'.repeat(200_000)}\n\n`]),
    sse(['data: {"choices":[{"delta":{"content":5}}]}\n\n', 'event: content_block_delta\ndata: {"type":"content_block_delta","index":9,"delta":{}}\n\n']),
    sse(goodStream.map((p) => p.replace(/\n\n$/, '\n'))),
    sse([]),
    sse([goodStream[0]!, 'data: [DONE]\n\n', goodStream[0]!]),
    (res) => {
      // A stream that stops sending but never ends: the attempt timeout must end it.
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(goodStream[0]!);
    },
  ];
  return list;
}

describe('misbehaving upstreams', () => {
  let h: Harness;
  let server: http.Server;
  const r = rng(2026);
  let next: Reply = (res) => res.end();
  before(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => next(res, req));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    h = await startHarness({
      backend: 'sqlite',
      providersExtra: {
        'bad-openai': { type: 'openai', baseUrl: `http://127.0.0.1:${port}/v1` },
        'bad-anthropic': { type: 'anthropic', baseUrl: `http://127.0.0.1:${port}` },
      },
      modelsExtra: [
        { name: 'bad-openai', provider: 'bad-openai', upstreamModel: 'x', timeoutMs: 1500, idleTimeoutMs: 1500 },
        { name: 'bad-anthropic', provider: 'bad-anthropic', upstreamModel: 'x', timeoutMs: 1500, idleTimeoutMs: 1500 },
      ],
    });
  });
  after(async () => {
    await h.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test(`${CASES} requests through garbage-speaking upstreams, every combination of ingress, upstream and mode`, { timeout: 300_000 }, async () => {
    const seen = new Map<string, number>();
    for (let i = 0; i < CASES; i++) {
      const anthropicUpstream = i % 2 === 1;
      const anthropicIngress = (i >> 1) % 2 === 1;
      const stream = (i >> 2) % 2 === 1;
      const list = behaviours(anthropicUpstream, r);
      const which = Math.floor(r() * list.length);
      next = list[which]!;
      const model = anthropicUpstream ? 'bad-anthropic' : 'bad-openai';
      const body = anthropicIngress
        ? { model, max_tokens: 20, stream, messages: [{ role: 'user', content: 'hi' }] }
        : { model, stream, messages: [{ role: 'user', content: 'hi' }] };
      const where = `case ${i}: behaviour ${which}, ${anthropicUpstream ? 'anthropic' : 'openai'} upstream, ${anthropicIngress ? 'anthropic' : 'openai'} ingress, ${stream ? 'stream' : 'whole'}`;
      let res: Response;
      let text: string;
      try {
        res = await fetch(`${h.url}${anthropicIngress ? '/v1/messages' : '/v1/chat/completions'}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${h.keys.valid}` },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(10_000),
        });
        text = await res.text();
      } catch (e) {
        throw new Error(`${where}: ${(e as Error).message}`);
      }
      seen.set(String(res.status), (seen.get(String(res.status)) ?? 0) + 1);
      assert.ok(res.status === 200 || res.status === 400 || res.status === 502 || res.status === 503 || res.status === 504, `${res.status} in ${where}: ${text.slice(0, 200)}`);
      if (res.status !== 200) {
        const err = JSON.parse(text) as Record<string, any>;
        if (anthropicIngress) assert.equal(err.type, 'error', where);
        assert.equal(typeof (err.error?.message), 'string', where);
      } else if (stream) {
        // A stream ends either with its protocol's normal terminator or with its protocol's error event.
        const ended = anthropicIngress ? /event: (message_stop|error)\n/.test(text) : /data: \[DONE\]|"error":\{/.test(text);
        assert.ok(ended, `${where}: unterminated stream: ${text.slice(-200)}`);
      } else {
        JSON.parse(text);
      }
    }
    assert.ok((seen.get('200') ?? 0) > 10 && (seen.get('502') ?? 0) > 10, JSON.stringify([...seen]));
    next = behaviours(false, r)[0]!;
    const still = await fetch(`${h.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${h.keys.valid}` }, body: JSON.stringify({ model: 'frontier', messages: [{ role: 'user', content: 'hi' }] }) });
    assert.equal(still.status, 200, 'the gateway still serves');
  });
});
