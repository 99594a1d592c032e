/**
 * GET /v1/models is the caller's own catalogue: a key is required, and each principal sees only the models its
 * access decision (directives, policy, licences) allows, with a real `created` time. `server.publicModels: true`
 * lists every non-hidden model to anyone. Driven with the official SDKs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { standardConfig } from './support/config.ts';
import { startHarness, type Harness } from './support/harness.ts';

const ADMIN_TOKEN = 'admin-token-models';

async function admin(h: Harness, method: string, path: string, body: unknown): Promise<any> {
  const res = await fetch(`${h.url}${path}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
  return res.json();
}

async function ids(client: OpenAI): Promise<string[]> {
  const out: string[] = [];
  for await (const m of client.models.list()) out.push(m.id);
  return out.sort();
}

describe('GET /v1/models per principal', () => {
  let h: Harness;
  let gbSecret: string;
  const startedAt = Math.floor(Date.now() / 1000);
  before(async () => {
    h = await startHarness({ backend: 'sqlite', env: { GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN } });
    gbSecret = (await admin(h, 'POST', '/admin/v1/keys', { accountId: 'gb-acct', nationalities: ['GB'], residence: 'GB' })).secret;
    // 'lite' and 'via-openai' are suspended for everyone but US nationals.
    await admin(h, 'POST', '/admin/v1/directives', { models: ['lite', 'via-openai'], population: { nationality: { noneOf: ['US'] } }, effect: 'suspend', authority: 'Test authority', reference: 'M-1', by: 'tester', why: 'models listing' });
  });
  after(() => h.close());

  test('two principals with different access see different lists (openai SDK)', async () => {
    const us = await ids(new OpenAI({ apiKey: h.keys.valid, baseURL: `${h.url}/v1` }));
    const gb = await ids(new OpenAI({ apiKey: gbSecret, baseURL: `${h.url}/v1` }));
    assert.ok(us.includes('lite') && us.includes('via-openai') && us.includes('frontier'), us.join(','));
    assert.ok(gb.includes('frontier'), gb.join(','));
    assert.ok(!gb.includes('lite') && !gb.includes('via-openai'), `suspended models are not listed: ${gb.join(',')}`);
    assert.deepEqual(us.filter((m) => !gb.includes(m)).sort(), ['lite', 'via-openai']);
    for (const list of [us, gb]) assert.ok(!list.includes('all-down-2'), 'hidden models are never listed');
  });

  test('a model the principal may not use is a 404 on retrieve; one it may use has a real created time', async () => {
    const gb = new OpenAI({ apiKey: gbSecret, baseURL: `${h.url}/v1` });
    await assert.rejects(gb.models.retrieve('lite'), (err: unknown) => err instanceof OpenAI.NotFoundError && err.code === 'model_not_found');
    const m = await gb.models.retrieve('frontier');
    assert.equal(m.id, 'frontier');
    assert.ok(m.created >= startedAt - 5 && m.created <= Math.floor(Date.now() / 1000), `created ${m.created}`);
    const listed = (await gb.models.list()).data.find((x) => x.id === 'frontier')!;
    assert.equal(listed.created, m.created);
  });

  test('without a key, or with an unknown one: 401 in the caller\'s protocol', async () => {
    const none = await fetch(`${h.url}/v1/models`);
    assert.equal(none.status, 401);
    assert.equal(((await none.json()) as { error: { code: string } }).error.code, 'missing_api_key');
    await assert.rejects(new OpenAI({ apiKey: 'gh_notAKey', baseURL: `${h.url}/v1`, maxRetries: 0 }).models.list(), (err: unknown) => err instanceof OpenAI.AuthenticationError && err.code === 'invalid_api_key');
    await assert.rejects(new Anthropic({ apiKey: 'gh_notAKey', baseURL: h.url, maxRetries: 0 }).models.list(), (err: unknown) => {
      assert.ok(err instanceof Anthropic.AuthenticationError, String(err));
      assert.equal((err.error as { type: string }).type, 'error');
      return true;
    });
    const revoked = await fetch(`${h.url}/v1/models/frontier`, { headers: { authorization: `Bearer ${h.keys.revoked}` } });
    assert.equal(revoked.status, 401);
  });

  test('the Anthropic SDK lists the same models for the same principal', async () => {
    const out: string[] = [];
    for await (const m of new Anthropic({ apiKey: gbSecret, baseURL: h.url }).models.list()) {
      assert.equal(m.type, 'model');
      assert.ok(Date.parse(m.created_at) > 0);
      out.push(m.id);
    }
    assert.deepEqual(out.sort(), await ids(new OpenAI({ apiKey: gbSecret, baseURL: `${h.url}/v1` })));
  });

  test('lifting the directive lists the models again', async () => {
    const res = await fetch(`${h.url}/admin/v1/directives?status=active`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    const { directives } = (await res.json()) as { directives: { id: string }[] };
    for (const d of directives) await admin(h, 'POST', `/admin/v1/directives/${d.id}/lift`, { by: 'tester', why: 'done' });
    const gb = await ids(new OpenAI({ apiKey: gbSecret, baseURL: `${h.url}/v1` }));
    assert.ok(gb.includes('lite') && gb.includes('via-openai'), gb.join(','));
  });
});

describe('GET /v1/models with server.publicModels: true', () => {
  let h: Harness;
  before(async () => {
    const server = { ...(standardConfig({ simUrl: '', storeUrl: '' }).server as object), publicModels: true };
    h = await startHarness({ backend: 'sqlite', extra: { server } });
  });
  after(() => h.close());

  test('no key needed; every non-hidden model is listed', async () => {
    const res = await fetch(`${h.url}/v1/models`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { data: { id: string; created: number }[] };
    const ids = body.data.map((m) => m.id);
    assert.ok(ids.includes('frontier') && ids.includes('lite'));
    assert.ok(!ids.includes('all-down-2'));
    assert.ok(body.data.every((m) => m.created > 1_600_000_000));
  });
});
