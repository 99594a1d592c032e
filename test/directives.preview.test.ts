/**
 * A directive's blast radius before it is issued, amended or lifted (`POST /admin/v1/replay/preview`): a real
 * gateway records traffic from several keys (two accounts in two organisations, one account without one) through
 * the OpenAI SDK, plus a request recorded 25 hours ago; the preview must name exactly the keys, accounts and
 * organisations a draft would refuse, its share of the last 24 hours' requests and the request ids — then the same
 * for an amendment and a lift of the issued directive. Also: bad drafts, no audit log (409), and roles (an analyst
 * may preview; a viewer may not).
 */
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { ADMIN_TOKEN, addOperator, call, signIn } from './support/console.ts';
import { tempDir } from './support/config.ts';
import { startHarness, type Harness } from './support/harness.ts';

const CN = { nationalities: ['CN'], residence: 'CN', kyc: 'basic' };

describe('directive blast-radius preview over recorded traffic', () => {
  let h: Harness;
  let auditPath: string;
  const keyOf: Record<string, string> = {};
  const ids: Record<string, string[]> = {};

  async function send(key: string, name: string, model: string): Promise<void> {
    const client = new OpenAI({ apiKey: key, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const r = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'What is the capital of France?' }] }).withResponse();
    (ids[`${name}/${model}`] ??= []).push(r.response.headers.get('x-request-id')!);
  }

  const preview = (body: unknown) => call(h.url, 'POST', '/replay/preview', { token: ADMIN_TOKEN, body });

  before(async () => {
    auditPath = join(tempDir('gatehouse-preview-'), 'audit.jsonl');
    h = await startHarness({ backend: 'sqlite', env: { GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN }, extra: { audit: { path: auditPath } } });
    const make = async (name: string, body: Record<string, unknown>) => {
      const r = await call(h.url, 'POST', '/keys', { token: ADMIN_TOKEN, body });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      keyOf[name] = r.body.key.id;
      return r.body.secret as string;
    };
    const k1 = await make('k1', { accountId: 'acct-a', orgId: 'org-x', ...CN });
    const k2 = await make('k2', { accountId: 'acct-a', orgId: 'org-x', ...CN });
    const k3 = await make('k3', { accountId: 'acct-b', orgId: 'org-y', ...CN });
    const k4 = await make('k4', { accountId: 'acct-c', ...CN });
    await send(k1, 'k1', 'frontier');
    await send(k1, 'k1', 'frontier');
    await send(k2, 'k2', 'frontier');
    await send(k3, 'k3', 'frontier');
    await send(k3, 'k3', 'lite');
    await send(k4, 'k4', 'lite');
    await send(h.keys.valid, 'us', 'frontier');
    await send(h.keys.valid, 'us', 'frontier');
    // A request recorded 25 hours ago (a copy of k1's first, moved back in time): outside the 24-hour window.
    const first = readFileSync(auditPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((r) => r.requestId === ids['k1/frontier']![0]);
    assert.ok(first, 'the request is in the audit log');
    const old = Date.now() - 25 * 3_600_000;
    appendFileSync(auditPath, JSON.stringify({ ...first, requestId: 'old-request', requestTime: old, time: old }) + '\n');
  });
  after(async () => {
    await h?.close();
  });

  const suspendCn = { models: ['frontier'], population: { nationality: { anyOf: ['CN'] } }, effect: 'suspend', authority: 'BIS', reference: 'Order 9', by: 'alice', why: 'preview test' };

  test('issuing: exactly the keys, accounts and organisations it would refuse, its share and the request ids', async () => {
    const r = await preview({ directive: suspendCn, examples: 10 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const p = r.body;
    assert.equal(p.window.hours, 24);
    assert.equal(p.window.to - p.window.from, 24 * 3_600_000);
    assert.equal(p.requests, 8, 'the 8 requests of the last 24 hours, not the one 25 hours old');
    assert.equal(p.refused.count, 4);
    assert.equal(p.refused.share, 0.5);
    assert.deepEqual([...p.refused.examples].sort(), [...ids['k1/frontier']!, ...ids['k2/frontier']!, ...ids['k3/frontier']!].sort());
    assert.deepEqual(p.refused.byReason, { directive_suspended: 4 });
    assert.deepEqual(p.refused.byOrg, { 'org-x': 3, 'org-y': 1 });
    assert.deepEqual({ keys: p.refused.keys, accounts: p.refused.accounts, orgs: p.refused.orgs }, { keys: 3, accounts: 2, orgs: 2 });
    assert.deepEqual(p.affected, {
      keys: 3,
      accounts: 2,
      orgs: 2,
      keyIds: [keyOf.k1, keyOf.k2, keyOf.k3].sort(),
      accountIds: ['acct-a', 'acct-b'],
      orgIds: ['org-x', 'org-y'],
    });
    assert.equal(p.rerouted.count, 0);
    assert.equal(p.served.count, 0);

    // A narrower window: a few milliseconds hold none of the traffic.
    const none = await preview({ directive: suspendCn, hours: 1e-6 });
    assert.equal(none.status, 200);
    assert.equal(none.body.requests, 0);
    assert.equal(none.body.refused.share, 0);

    // A route: rerouted, not refused.
    const route = await preview({ directive: { ...suspendCn, effect: 'route:lite' } });
    assert.equal(route.body.rerouted.count, 4);
    assert.equal(route.body.rerouted.share, 0.5);
    assert.equal(route.body.refused.count, 0);
    assert.equal(route.body.affected.keys, 3);
  });

  test('amending and lifting an issued directive', async () => {
    const issued = await call(h.url, 'POST', '/directives', { token: ADMIN_TOKEN, body: { ...suspendCn, id: 'D-CN' } });
    assert.equal(issued.status, 201, JSON.stringify(issued.body));
    // The gateway's view of directives follows the store within a poll; until then the id is not active.
    let lift: Awaited<ReturnType<typeof preview>>;
    const deadline = Date.now() + 10_000;
    do {
      lift = await preview({ lift: 'D-CN' });
      if (lift.status !== 200) await new Promise((r) => setTimeout(r, 100));
    } while (lift.status !== 200 && Date.now() < deadline);
    assert.equal(lift.status, 200, JSON.stringify(lift.body));
    assert.equal(lift.body.served.count, 4, 'lifting serves again what the directive refuses');
    assert.equal(lift.body.served.share, 0.5);
    assert.equal(lift.body.refused.count, 0);
    assert.deepEqual(lift.body.affected.accountIds, ['acct-a', 'acct-b']);

    // Amending it to cover lite too: only the change is the blast radius (k3's and k4's lite requests; k4 has no organisation).
    const amend = await preview({ directive: { ...suspendCn, id: 'D-CN', models: ['frontier', 'lite'] } });
    assert.equal(amend.status, 200, JSON.stringify(amend.body));
    assert.equal(amend.body.refused.count, 2);
    assert.equal(amend.body.refused.share, 0.25);
    assert.deepEqual([...amend.body.refused.examples].sort(), [...ids['k3/lite']!, ...ids['k4/lite']!].sort());
    assert.deepEqual(amend.body.affected, { keys: 2, accounts: 2, orgs: 1, keyIds: [keyOf.k3, keyOf.k4].sort(), accountIds: ['acct-b', 'acct-c'], orgIds: ['org-y'] });
  });

  test('bad drafts are 400 with the field named', async () => {
    const bad = await preview({ directive: { ...suspendCn, effect: 'explode' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.type, 'invalid_request');
    assert.match(JSON.stringify(bad.body.error), /effect/);
    const empty = await preview({});
    assert.equal(empty.status, 400);
    assert.match(empty.body.error.message, /needs `directive`/);
    const unknown = await preview({ directive: suspendCn, window: 3 });
    assert.equal(unknown.status, 400);
    assert.match(JSON.stringify(unknown.body.error), /window/);
    const lift = await preview({ lift: 'D-NOPE' });
    assert.equal(lift.status, 400);
    assert.match(lift.body.error.message, /no active directive 'D-NOPE'/);
    const hours = await preview({ directive: suspendCn, hours: 0 });
    assert.equal(hours.status, 400);
  });

  test('an analyst may preview; a viewer may not', async () => {
    await addOperator(h.storeUrl, 'ana', 'analyst');
    await addOperator(h.storeUrl, 'vic', 'viewer');
    const ana = await call(h.url, 'POST', '/replay/preview', { session: await signIn(h.url, 'ana'), body: { directive: suspendCn } });
    assert.equal(ana.status, 200, JSON.stringify(ana.body));
    assert.equal(typeof ana.body.refused.count, 'number');
    const vic = await call(h.url, 'POST', '/replay/preview', { session: await signIn(h.url, 'vic'), body: { directive: suspendCn } });
    assert.equal(vic.status, 403);
    assert.equal(vic.body.error.type, 'forbidden');
  });
});

describe('directive preview without an audit log', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ backend: 'sqlite', env: { GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN } });
  });
  after(async () => {
    await h?.close();
  });
  test('409 no_recorded_traffic', async () => {
    const r = await call(h.url, 'POST', '/replay/preview', { token: ADMIN_TOKEN, body: { directive: { models: ['frontier'], effect: 'suspend', authority: 'a', reference: 'r' } } });
    assert.equal(r.status, 409);
    assert.equal(r.body.error.type, 'no_recorded_traffic');
    assert.match(r.body.error.message, /audit log is off/);
  });
});
