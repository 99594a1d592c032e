/**
 * The issue's emergency scenario end to end: 3 `gatehouse serve` processes sharing one PostgreSQL store,
 * five principals calling through the OpenAI and Anthropic SDKs, directives issued / amended / lifted through
 * the admin API of different replicas. Every principal's outcome and reason code is asserted on every replica
 * at every step, and each change must be enforced by all 3 replicas within 1 s of the admin call returning.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { KeyRepository } from '../src/identity/keys.ts';
import { ALL_MIGRATIONS } from '../src/server/migrations.ts';
import { openTestDb, type TestDb } from '../src/store/testing.ts';
import { tempDir, writeConfig } from './support/config.ts';
import { serve, type ServeProcess } from './support/process.ts';

const ADMIN = 'admin-token-policy-e2e';
const MODELS = ['frontier', 'frontier-cyber'] as const;
const DEFENDERS = Array.from({ length: 100 }, (_, i) => `grid-defenders-${i}`);
type Name = 'us' | 'dual' | 'ukStaff' | 'cnInUs' | 'defender';
const PRINCIPALS: Record<Name, Record<string, unknown>> = {
  us: { accountId: 'acct-us', nationalities: ['US'], residence: 'US' },
  dual: { accountId: 'acct-dual', nationalities: ['US', 'GB'], residence: 'GB' },
  ukStaff: { accountId: 'acct-uk-staff', orgId: 'provider', nationalities: ['GB'], residence: 'GB', staff: true, tier: 'internal' },
  cnInUs: { accountId: 'acct-cn', nationalities: ['CN'], residence: 'US' },
  defender: { accountId: 'acct-def', orgId: 'grid-defenders-42', nationalities: ['DE'], residence: 'DE', kyc: 'verified-organisation', programmes: ['critical-infrastructure-defenders'] },
};
const NAMES = Object.keys(PRINCIPALS) as Name[];

let store: TestDb;
let replicas: ServeProcess[] = [];
const secrets = {} as Record<Name, string>;

before(async () => {
  store = await openTestDb('postgres', ALL_MIGRATIONS);
  const keys = new KeyRepository(store.db);
  for (const n of NAMES) secrets[n] = (await keys.create(PRINCIPALS[n])).secret;
  const dir = tempDir('gh-policy-e2e-');
  const policyFile = join(dir, 'policy.yaml');
  writeFileSync(policyFile, ['version: 1', 'default: allow', 'rules:', '  - id: alias-to-cyber', '    models: [cyber-alias]', '    action: route', '    to: frontier-cyber', ''].join('\n'));
  const config = (i: number) => writeConfig(dir, {
    server: { host: '127.0.0.1', port: 0, logLevel: 'info' },
    store: { url: store.url },
    providers: { sim: { type: 'simulator', replyTokens: 4 }, 'sim-down': { type: 'simulator', failStatus: 503 } },
    models: [
      { name: 'frontier', provider: 'sim', upstreamModel: 'sim-frontier' },
      { name: 'frontier-cyber', provider: 'sim', upstreamModel: 'sim-cyber' },
      // A model that always fails over to frontier-cyber, and an alias the policy routes to frontier-cyber.
      { name: 'flaky', provider: 'sim-down', upstreamModel: 'x', fallbacks: ['frontier-cyber'] },
      { name: 'cyber-alias', provider: 'sim', upstreamModel: 'x' },
    ],
    policy: { file: policyFile },
    directives: { pollIntervalMs: 250, staleAfterMs: 5000 },
    audit: { path: join(dir, `audit-${i}`, 'audit.jsonl') },
  }, `gatehouse-${i}.yaml`);
  replicas = await Promise.all([0, 1, 2].map((i) => serve(config(i), { GATEHOUSE_ADMIN_TOKEN: ADMIN, DATABASE_URL: '', REDIS_URL: '' })));
});

after(async () => {
  await Promise.all(replicas.map((r) => r.stop('SIGKILL')));
  await store?.cleanup();
});

/** One call through an SDK (OpenAI for some principals, Anthropic for others): 'allow' or 'STATUS:code:ref'. */
async function call(replica: ServeProcess, who: Name, model: string): Promise<string> {
  const useAnthropic = who === 'dual' || who === 'defender';
  try {
    if (useAnthropic) {
      const client = new Anthropic({ apiKey: secrets[who], baseURL: replica.url, maxRetries: 0 });
      await client.messages.create({ model, max_tokens: 16, messages: [{ role: 'user', content: 'hello' }] });
    } else {
      const client = new OpenAI({ apiKey: secrets[who], baseURL: `${replica.url}/v1`, maxRetries: 0 });
      await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hello' }] });
    }
    return 'allow';
  } catch (err) {
    const e = err as { status?: number; error?: { error?: { gatehouse?: Record<string, string> }; gatehouse?: Record<string, string> } };
    const g = (useAnthropic ? e.error?.error?.gatehouse : e.error?.gatehouse) ?? {};
    return `${e.status}:${g.code}:${g.directive ?? g.rule ?? '-'}`;
  }
}

/** Fast probe (raw HTTP): the status code a principal gets for a model on one replica. */
async function probe(replica: ServeProcess, who: Name, model: string): Promise<number> {
  const r = await fetch(`${replica.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secrets[who]}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }] }),
  });
  await r.arrayBuffer();
  return r.status;
}

async function admin(replica: ServeProcess, method: string, path: string, body: unknown): Promise<Record<string, unknown>> {
  const r = await fetch(`${replica.url}/admin/v1${path}`, { method, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await r.json()) as Record<string, unknown>;
  assert.ok(r.status < 300, `${method} ${path} → ${r.status} ${JSON.stringify(json)}`);
  return json;
}

/** Waits until `who` gets `status` for `model` on all replicas; returns the lag in ms; fails beyond 1 s. */
async function propagated(who: Name, model: string, status: number, since: number): Promise<number> {
  const pending = new Set(replicas);
  while (pending.size) {
    for (const r of [...pending]) if ((await probe(r, who, model)) === status) pending.delete(r);
    const lag = Date.now() - since;
    assert.ok(lag <= 1000 || pending.size === 0, `not enforced by ${pending.size} replica(s) after ${lag} ms`);
  }
  return Date.now() - since;
}

async function assertMatrix(step: string, expected: Record<Name, [string, string]>): Promise<void> {
  for (const [i, r] of replicas.entries()) {
    for (const who of NAMES) {
      const got = [await call(r, who, MODELS[0]), await call(r, who, MODELS[1])];
      assert.deepEqual(got, expected[who], `${step}: replica ${i}, ${who}`);
    }
  }
}

const S = (d: string) => `403:directive_suspended:${d}`;
const BY = { by: 'duty-officer', why: 'government order' };
const lags: number[] = [];

test('emergency directive scenario across 3 replicas, through both SDKs', async (t) => {
  await assertMatrix('1 normal access', { us: ['allow', 'allow'], dual: ['allow', 'allow'], ukStaff: ['allow', 'allow'], cnInUs: ['allow', 'allow'], defender: ['allow', 'allow'] });

  // (2) Both models suspended for anyone holding no US nationality, staff included.
  let t0 = Date.now();
  await admin(replicas[0]!, 'POST', '/directives', { id: 'D1', models: [...MODELS], population: { nationality: { noneOf: ['US'] } }, effect: 'suspend', authority: 'US Department of Commerce', reference: 'Emergency order 2026-17', ...BY });
  lags.push(await propagated('ukStaff', 'frontier', 403, t0));
  await assertMatrix('2 suspended for non-US nationals', {
    us: ['allow', 'allow'],
    dual: ['allow', 'allow'],
    ukStaff: [S('D1'), S('D1')],
    cnInUs: [S('D1'), S('D1')],
    defender: [S('D1'), S('D1')],
  });

  // (3) frontier-cyber restored to the ~100 allowlisted defender organisations only: a narrower directive for
  // frontier-cyber first (so there is no window where it is open to everyone), then D1 narrowed to frontier.
  t0 = Date.now();
  await admin(replicas[1]!, 'POST', '/directives', { id: 'D2', models: ['frontier-cyber'], population: { nationality: { noneOf: ['US'] }, org: { notIn: DEFENDERS } }, effect: 'suspend', authority: 'US Department of Commerce', reference: 'Emergency order 2026-17, amendment 1', ...BY });
  await admin(replicas[2]!, 'PATCH', '/directives/D1', { models: ['frontier'], ...BY });
  lags.push(await propagated('defender', 'frontier-cyber', 200, t0));
  await assertMatrix('3 frontier-cyber for allowlisted organisations', {
    us: ['allow', 'allow'],
    dual: ['allow', 'allow'],
    ukStaff: [S('D1'), S('D2')],
    cnInUs: [S('D1'), S('D2')],
    defender: [S('D1'), 'allow'],
  });

  // (4) frontier restored for everyone.
  t0 = Date.now();
  await admin(replicas[0]!, 'POST', '/directives/D1/lift', BY);
  lags.push(await propagated('cnInUs', 'frontier', 200, t0));
  await assertMatrix('4 frontier restored', { us: ['allow', 'allow'], dual: ['allow', 'allow'], ukStaff: ['allow', S('D2')], cnInUs: ['allow', S('D2')], defender: ['allow', 'allow'] });

  // (5) frontier-cyber restored worldwide.
  t0 = Date.now();
  await admin(replicas[1]!, 'POST', '/directives/D2/lift', BY);
  lags.push(await propagated('cnInUs', 'frontier-cyber', 200, t0));
  await assertMatrix('5 frontier-cyber restored worldwide', { us: ['allow', 'allow'], dual: ['allow', 'allow'], ukStaff: ['allow', 'allow'], cnInUs: ['allow', 'allow'], defender: ['allow', 'allow'] });

  const history = (await admin(replicas[2]!, 'GET', '/directives/D1', undefined)) as { history: Array<{ action: string }> };
  assert.deepEqual(history.history.map((h) => h.action), ['issue', 'amend', 'lift']);
  t.diagnostic(`propagation lags (admin call start → enforced by all 3 replicas): ${lags.join(', ')} ms`);
  assert.ok(Math.max(...lags) <= 1000, `propagation lags ${lags.join(', ')} ms`);
});

/** The model that served a request on one replica ('' when refused), with the status. */
async function served(replica: ServeProcess, who: Name, model: string, stream: boolean): Promise<string> {
  const r = await fetch(`${replica.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${secrets[who]}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream, messages: [{ role: 'user', content: 'x' }] }),
  });
  const text = await r.text();
  if (r.status !== 200) {
    const g = (JSON.parse(text) as { error: { gatehouse?: { code?: string; skipped?: Array<{ model: string; code: string }> } } }).error.gatehouse ?? {};
    return `${r.status}:${g.code}${g.skipped ? `:skipped=${g.skipped.map((x) => `${x.model}/${x.code}`).join(',')}` : ''}`;
  }
  return `200:${r.headers.get('x-gatehouse-served-model')}`;
}

test('a directive holds for fallback and route targets on every replica, streaming and not', async () => {
  const t0 = Date.now();
  await admin(replicas[0]!, 'POST', '/directives', { id: 'D3', models: ['frontier-cyber'], population: { nationality: { noneOf: ['US'] } }, effect: 'suspend', authority: 'US Department of Commerce', reference: 'Emergency order 2026-18', ...BY });
  await propagated('cnInUs', 'frontier-cyber', 403, t0);
  for (const [i, r] of replicas.entries()) {
    for (const stream of [false, true]) {
      // Reached as a fallback: served to the US national, never to anyone the directive covers.
      assert.equal(await served(r, 'us', 'flaky', stream), '200:frontier-cyber', `replica ${i} us flaky`);
      assert.equal(await served(r, 'cnInUs', 'flaky', stream), '503:upstream_overloaded:skipped=frontier-cyber/directive_suspended', `replica ${i} cnInUs flaky`);
      assert.equal(await served(r, 'ukStaff', 'flaky', stream), '503:upstream_overloaded:skipped=frontier-cyber/directive_suspended', `replica ${i} ukStaff flaky`);
      // Reached as a policy route target.
      assert.equal(await served(r, 'us', 'cyber-alias', stream), '200:frontier-cyber', `replica ${i} us alias`);
      assert.equal(await served(r, 'cnInUs', 'cyber-alias', stream), '403:directive_suspended', `replica ${i} cnInUs alias`);
    }
    // And through the SDKs (Anthropic for the defender): the refusal of the route target names the directive.
    assert.equal(await call(r, 'defender', 'cyber-alias'), S('D3'));
    assert.equal(await call(r, 'cnInUs', 'cyber-alias'), S('D3'));
  }
  const t1 = Date.now();
  await admin(replicas[2]!, 'POST', '/directives/D3/lift', BY);
  await propagated('cnInUs', 'frontier-cyber', 200, t1);
  for (const [i, r] of replicas.entries()) {
    assert.equal(await served(r, 'cnInUs', 'flaky', false), '200:frontier-cyber', `replica ${i} after lift`);
    assert.equal(await call(r, 'defender', 'flaky'), 'allow');
  }
});
