/**
 * Slow clients cannot hold connections: a client that dribbles its headers or its body is cut off (408, then the
 * connection closes) once `server.headersTimeoutMs` / `server.requestTimeoutMs` have passed, a long streamed
 * response is not cut, and connections beyond `server.maxConnections` are closed as they arrive. Raw sockets play
 * the slow clients.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { standardConfig } from './support/config.ts';
import { startHarness, type Harness } from './support/harness.ts';

const baseServer = () => standardConfig({ simUrl: '', storeUrl: '' }).server as Record<string, unknown>;

/** Connects, then writes `chunks` one at a time every `everyMs` until the server closes; resolves with what it said. */
function dribble(url: string, chunks: string[], everyMs: number): Promise<{ received: string; closedAfterChunks: number }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let received = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.on('data', (d) => (received += d.toString()));
    socket.on('error', () => {}); // a reset after the 408 is a close too
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ received, closedAfterChunks: sent });
    });
    socket.on('connect', () => {
      timer = setInterval(() => {
        if (sent >= chunks.length) {
          clearInterval(timer);
          socket.destroy();
          reject(new Error(`the server kept the connection open through all ${chunks.length} chunks`));
          return;
        }
        if (!socket.destroyed) socket.write(chunks[sent++]!);
      }, everyMs);
    });
  });
}

describe('slow clients', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ backend: 'sqlite', extra: { server: { ...baseServer(), headersTimeoutMs: 600, requestTimeoutMs: 1200 } } });
  });
  after(() => h.close());

  test('headers dribbled one byte at a time: 408 and closed once headersTimeoutMs has passed', { timeout: 20_000 }, async () => {
    // 100 one-byte chunks every 50 ms would take 5 s; the gateway must not wait for them.
    const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(200)}`;
    const { received, closedAfterChunks } = await dribble(h.url, head.split('').slice(0, 100), 50);
    assert.match(received, /^HTTP\/1\.1 408/);
    assert.ok(closedAfterChunks < 100, `closed after ${closedAfterChunks} chunks`);
  });

  test('a body dribbled after complete headers: 408 and closed once requestTimeoutMs has passed', { timeout: 20_000 }, async () => {
    const body = JSON.stringify({ model: 'frontier', messages: [{ role: 'user', content: 'x'.repeat(200) }] });
    const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${h.keys.valid}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const { received, closedAfterChunks } = await dribble(h.url, [head, ...body.split('').slice(0, 100)], 50);
    assert.match(received, /^HTTP\/1\.1 408/);
    assert.ok(closedAfterChunks < 101, `closed after ${closedAfterChunks} chunks`);
  });

  test('a response that streams longer than requestTimeoutMs is not cut', { timeout: 20_000 }, async () => {
    // 'paced' streams 500 tokens at 50/s upstream: about 10 s, far past the 1.2 s request timeout.
    const client = new OpenAI({ apiKey: h.keys.valid, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'paced', stream: true, max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
    let chunks = 0;
    const started = Date.now();
    for await (const c of stream) {
      if (c.choices[0]?.delta?.content) chunks++;
      if (Date.now() - started > 2500) break; // well past the request timeout, still streaming
    }
    assert.ok(chunks > 20, `streamed ${chunks} chunks`);
  });
});

describe('connection cap', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ backend: 'sqlite', extra: { server: { ...baseServer(), maxConnections: 3 } } });
  });
  after(() => h.close());

  /** Opens a keep-alive connection and gets /healthz on it: resolves with the socket (still open) or null when refused. */
  function healthz(): Promise<net.Socket | null> {
    const { hostname, port } = new URL(h.url);
    return new Promise((resolve) => {
      const socket = net.connect(Number(port), hostname);
      let received = '';
      socket.on('error', () => {});
      socket.on('data', (d) => {
        received += d.toString();
        if (received.includes('"status":"ok"')) resolve(socket);
      });
      socket.on('close', () => resolve(null));
      socket.on('connect', () => socket.write(`GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`));
    });
  }

  test('connections beyond maxConnections are closed; once one closes, a new one is served', { timeout: 20_000 }, async () => {
    const held: net.Socket[] = [];
    for (let i = 0; i < 3; i++) {
      const s = await healthz();
      assert.ok(s, `connection ${i + 1} of 3 is served`);
      held.push(s);
    }
    assert.equal(await healthz(), null, 'a 4th connection is closed');
    held.pop()!.destroy();
    // The server counts the closed connection down asynchronously: try until it does (bounded by the test timeout).
    let again: net.Socket | null = null;
    while (!again) {
      again = await healthz();
      if (!again) await new Promise((r) => setTimeout(r, 20));
    }
    held.push(again);
    for (const s of held) s.destroy();
  });
});
