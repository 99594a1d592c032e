/**
 * OpenTelemetry tracing through a real gateway: an in-process OTLP/HTTP collector receives the JSON export. A
 * request's SERVER span carries the GenAI attributes (requested/served model, tokens, operation) and Gatehouse's
 * decision, outcome and code; its children are one span per gate and a CLIENT span per upstream attempt. A caller's
 * traceparent is honoured (same trace, its span as parent) and the attempt's traceparent reaches the upstream. The
 * trace id is in the request's log line and its audit record.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { startHarness, type Harness } from './support/harness.ts';
import { tempDir } from './support/config.ts';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
}

function attr(span: OtlpSpan, key: string): unknown {
  const v = span.attributes.find((a) => a.key === key)?.value;
  if (!v) return undefined;
  const x = v.stringValue ?? v.intValue ?? v.boolValue ?? v.doubleValue;
  return typeof x === 'string' && v.intValue !== undefined ? Number(x) : x;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('tracing: OpenTelemetry spans over OTLP/HTTP', () => {
  let h: Harness;
  let collector: Server;
  let upstream: Server;
  let auditPath: string;
  const spans: OtlpSpan[] = [];
  const exportHeaders: IncomingHttpHeaders[] = [];
  const upstreamHeaders: IncomingHttpHeaders[] = [];

  before(async () => {
    collector = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        exportHeaders.push(req.headers);
        const doc = JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
        for (const rs of doc.resourceSpans) for (const ss of rs.scopeSpans) spans.push(...ss.spans);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    // An OpenAI-speaking upstream that remembers the headers it was sent.
    upstream = createServer((req, res) => {
      upstreamHeaders.push(req.headers);
      req.resume();
      req.on('end', () => {
        const body = { id: 'c1', object: 'chat.completion', created: 1, model: 'captured-model', choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }], usage: { prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 } };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
    });
    const collectorUrl = await listen(collector);
    const upstreamUrl = await listen(upstream);
    auditPath = join(tempDir(), 'audit', 'audit.jsonl');
    h = await startHarness({
      backend: 'sqlite',
      extra: { audit: { path: auditPath }, tracing: { endpoint: `${collectorUrl}/v1/traces`, headers: { 'x-collector-token': 'secret-1' }, serviceName: 'gatehouse-test' } },
      providersExtra: { capture: { type: 'openai', baseUrl: `${upstreamUrl}/v1` } },
      modelsExtra: [{ name: 'traced', provider: 'capture', upstreamModel: 'up-model' }],
    });
  });
  after(async () => {
    await h.close();
    collector.close();
    upstream.close();
  });

  const flushed = async () => {
    await h.gateway.flushTraces();
    return spans;
  };

  test('a request continues the caller trace; GenAI attributes, gate and attempt spans; traceparent sent upstream', async () => {
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    const openai = new OpenAI({ apiKey: h.keys.valid, baseURL: `${h.url}/v1`, maxRetries: 0, defaultHeaders: { traceparent: `00-${callerTrace}-${callerSpan}-01` } });
    const { data, response } = await openai.chat.completions.create({ model: 'traced', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    assert.equal(data.choices[0]!.message.content, 'hello');
    const requestId = response.headers.get('x-request-id');

    const all = (await flushed()).filter((s) => s.traceId === callerTrace);
    const server = all.find((s) => s.kind === 2 && s.parentSpanId === callerSpan); // SERVER in OTLP
    assert.ok(server, `no server span in ${JSON.stringify(all.map((s) => s.name))}`);
    assert.equal(server.name, 'chat traced');
    assert.equal(attr(server, 'gen_ai.operation.name'), 'chat');
    assert.equal(attr(server, 'gen_ai.request.model'), 'traced');
    assert.equal(attr(server, 'gen_ai.response.model'), 'traced');
    assert.equal(attr(server, 'gen_ai.usage.input_tokens'), 7);
    assert.equal(attr(server, 'gen_ai.usage.output_tokens'), 2);
    assert.equal(attr(server, 'gatehouse.decision'), 'allow');
    assert.equal(attr(server, 'gatehouse.outcome'), 'ok');
    assert.equal(attr(server, 'gatehouse.request_id'), requestId);

    const children = all.filter((s) => s.parentSpanId === server.spanId);
    const gates = children.filter((s) => s.name.startsWith('gate '));
    assert.ok(gates.length >= 1, 'one span per gate');
    for (const g of gates) assert.equal(attr(g, 'gatehouse.decision'), 'allow');
    const attempts = children.filter((s) => s.kind === 3); // CLIENT
    assert.equal(attempts.length, 1);
    assert.equal(attempts[0]!.name, 'chat up-model');
    assert.equal(attr(attempts[0]!, 'gen_ai.provider.name'), 'capture');
    assert.equal(attr(attempts[0]!, 'gen_ai.usage.input_tokens'), 7);

    const sent = upstreamHeaders.at(-1)!.traceparent;
    assert.equal(sent, `00-${callerTrace}-${attempts[0]!.spanId}-01`);
    assert.equal(exportHeaders.at(-1)!['x-collector-token'], 'secret-1');

    const line = h.logLines().find((l) => l.msg === 'request' && l.requestId === requestId);
    assert.equal(line?.traceId, callerTrace);
    const record = readFileSync(auditPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>).find((r) => r.requestId === requestId);
    assert.equal(record?.traceId, callerTrace);
  });

  test('a new trace without traceparent; refusals and streams are traced with their code', async () => {
    const openai = new OpenAI({ apiKey: h.keys.valid, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const { response } = await openai.chat.completions.create({ model: 'frontier', stream: true, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    const streamId = response.headers.get('x-request-id');
    await assert.rejects(openai.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'hi' }] }), /does not exist/);
    const bad = await fetch(`${h.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${h.keys.valid}`, 'content-type': 'application/json', traceparent: 'garbage' }, body: '{"model":"frontier","messages":[{"role":"user","content":"hi"}]}' });
    assert.equal(bad.status, 200);
    const badId = bad.headers.get('x-request-id');

    const all = await flushed();
    const byRequest = (id: string | null) => all.find((s) => s.kind === 2 && attr(s, 'gatehouse.request_id') === id);
    const streamed = byRequest(streamId);
    assert.ok(streamed);
    assert.equal(streamed.parentSpanId || undefined, undefined);
    assert.equal(attr(streamed, 'gatehouse.outcome'), 'ok');
    assert.ok(all.some((s) => s.parentSpanId === streamed.spanId && s.kind === 3), 'the streaming attempt has its span');
    const notFound = all.find((s) => s.kind === 2 && attr(s, 'gatehouse.code') === 'model_not_found');
    assert.ok(notFound);
    assert.equal(attr(notFound, 'gatehouse.outcome'), 'invalid');
    assert.equal(attr(notFound, 'http.response.status_code'), 404);
    // A malformed traceparent starts a new trace instead of failing the request.
    const fresh = byRequest(badId);
    assert.ok(fresh);
    assert.match(fresh.traceId, /^[0-9a-f]{32}$/);
    assert.equal(fresh.parentSpanId || undefined, undefined);
  });
});
