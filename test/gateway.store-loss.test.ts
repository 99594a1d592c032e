/**
 * A gateway that loses its PostgreSQL store (a network partition, made with a TCP proxy the test cuts): it keeps
 * enforcing the last directives it saw, then, once its view is older than `staleAfterMs`, fails closed for models a
 * directive governs (503 directives_stale in the caller's protocol) while other models keep serving, and /readyz
 * says why. When the store is reachable again it recovers by itself. Driven with the openai and Anthropic SDKs.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startHarness, type Harness } from './support/harness.ts';

const ADMIN_TOKEN = 'admin-token-for-store-loss';
const STALE_AFTER_MS = 1500;

/** A TCP pass-through to PostgreSQL that can be cut (every connection reset, new ones refused) and restored. */
class Partition {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  port = 0;
  constructor(private readonly target: { host: string; port: number }) {}

  async open(): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  async cut(): Promise<void> {
    const server = this.server!;
    this.server = null;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.resetAndDestroy();
    await closed;
  }
}

async function waitFor(cond: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for: ${what}`);
}

describe('a gateway that loses its PostgreSQL store', () => {
  let h: Harness;
  const partition = new Partition({ host: '127.0.0.1', port: 5432 });
  before(async () => {
    await partition.open();
    h = await startHarness({
      backend: 'postgres',
      env: { GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN },
      gatewayStoreUrl: (url) => url.replace(/127\.0\.0\.1:5432|localhost:5432/, `127.0.0.1:${partition.port}`),
      extra: { directives: { staleAfterMs: STALE_AFTER_MS, pollIntervalMs: 100 } },
    });
  });
  after(async () => {
    await h.close();
    await partition.cut();
  });

  test('keeps its last directives, fails closed for governed models after staleAfterMs, and recovers', async () => {
    const openai = new OpenAI({ apiKey: h.keys.valid, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const anthropic = new Anthropic({ apiKey: h.keys.valid, baseURL: h.url, maxRetries: 0 });
    const ask = (model: string) => openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'hello' }] });
    // A directive governing `frontier` that does not apply to this US principal.
    const res = await fetch(`${h.url}/admin/v1/directives`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'D-partition', models: ['frontier'], population: { nationality: { noneOf: ['US'] } }, effect: 'suspend', authority: 'Test authority', reference: 'T-9', by: 'tester', why: 'partition drill' }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    assert.ok((await ask('frontier')).choices[0]!.message.content);

    const cutAt = Date.now();
    await partition.cut();
    // Within the bound: last known directives, still serving.
    assert.ok((await ask('frontier')).choices[0]!.message.content);
    await waitFor(async () => (await fetch(`${h.url}/readyz`)).status === 503, '/readyz to report the lost store');
    await new Promise((r) => setTimeout(r, Math.max(0, cutAt + STALE_AFTER_MS + 300 - Date.now())));

    await assert.rejects(ask('frontier'), (e: InstanceType<typeof OpenAI.APIError>) => {
      assert.equal(e.status, 503);
      assert.equal(e.code, 'directives_stale');
      return true;
    });
    await assert.rejects(anthropic.messages.create({ model: 'frontier', max_tokens: 16, messages: [{ role: 'user', content: 'hello' }] }), (e: InstanceType<typeof Anthropic.APIError>) => {
      assert.equal(e.status, 503);
      assert.equal((e.error as { error: { type: string } }).error.type, 'overloaded_error');
      return true;
    });
    assert.ok((await ask('lite')).choices[0]!.message.content, 'a model no directive governs keeps serving');
    const checks = async () => ((await (await fetch(`${h.url}/readyz`)).json()) as { checks: Record<string, { ok: boolean; detail?: string }> }).checks;
    assert.equal((await checks()).directives!.ok, false);
    assert.match((await checks()).directives!.detail!, /STALE/);
    await waitFor(async () => (await checks()).store!.ok === false, 'the store probe to fail too');

    await partition.open();
    await waitFor(async () => (await fetch(`${h.url}/readyz`)).status === 200, 'recovery once the store is back');
    assert.ok((await ask('frontier')).choices[0]!.message.content, 'serving again');
  });
});
