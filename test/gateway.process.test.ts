/**
 * The gateway as a real process: secrets never leak into any output, SIGHUP reloads without dropping
 * in-flight requests, a bad config is rejected while the old one keeps serving, and `config check` names
 * the file, line and path of each problem.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { stringify } from 'yaml';
import { KeyRepository } from '../src/identity/keys.ts';
import { startSimulatorServer, type RunningSimulator } from '../src/providers/simulator/server.ts';
import { ALL_MIGRATIONS } from '../src/server/migrations.ts';
import { openTestDb, type TestDb } from '../src/store/testing.ts';
import { standardConfig, tempDir } from './support/config.ts';
import { serve, waitFor, type ServeProcess } from './support/process.ts';

const run = promisify(execFile);
const PROVIDER_CANARY = 'sk-CANARY-provider-7f3a9c1e5b2d';
const UNKNOWN_CALLER_CANARY = 'gh_CANARYunknownCallerKey0000000000000000000';

describe('gateway process', () => {
  let sim: RunningSimulator;
  let store: TestDb;
  let dir: string;
  let configPath: string;
  let key: string;
  let gw: ServeProcess;
  let config: Record<string, any>;

  before(async () => {
    sim = await startSimulatorServer({ behaviours: { 'reset-upstream': { resetConnection: true }, 'paced-upstream': { tokensPerSecond: 40, replyTokens: 60 } } });
    store = await openTestDb('sqlite', ALL_MIGRATIONS);
    key = (await new KeyRepository(store.db).create({ accountId: 'acct-proc', nationalities: ['US'] })).secret;
    dir = tempDir();
    configPath = join(dir, 'gatehouse.yaml');
    config = standardConfig({ simUrl: sim.url, storeUrl: store.url });
    writeFileSync(configPath, stringify(config));
    gw = await serve(configPath, { TEST_UPSTREAM_KEY: PROVIDER_CANARY, GATEHOUSE_ADMIN_TOKEN: 'admin-token-for-tests' });
  });
  after(async () => {
    await gw?.stop('SIGKILL');
    await sim.close();
    await store.cleanup();
  });

  test('provider and caller keys never appear in logs, metrics or error messages', async () => {
    const client = new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0 });
    const bodies: string[] = [];
    await client.chat.completions.create({ model: 'via-openai', messages: [{ role: 'user', content: 'hi' }] });
    await client.chat.completions.create({ model: 'via-anthropic', messages: [{ role: 'user', content: 'hi' }], stream: true }).then(async (s) => {
      for await (const _ of s);
    });
    await client.chat.completions.create({ model: 'reset-only', messages: [{ role: 'user', content: 'hi' }] }).catch((e: Error) => bodies.push(JSON.stringify(e)));
    await client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'hi' }] }).catch((e: Error) => bodies.push(JSON.stringify(e)));
    for (const k of [UNKNOWN_CALLER_CANARY, key]) {
      const r = await fetch(`${gw.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': k, 'content-type': 'application/json' }, body: '{"broken json' });
      bodies.push(await r.text());
    }
    const r = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${UNKNOWN_CALLER_CANARY}`, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(r.status, 401);
    bodies.push(await r.text());
    bodies.push(await (await fetch(`${gw.url}/metrics`)).text());
    bodies.push(await (await fetch(`${gw.url}/readyz`)).text());
    await new Promise((res) => setTimeout(res, 300)); // let the async logger flush
    const everything = gw.output() + bodies.join('\n');
    assert.ok(gw.output().includes('"msg":"request"'), 'requests were logged');
    for (const secret of [PROVIDER_CANARY, UNKNOWN_CALLER_CANARY, key, key.slice(3, 20)]) {
      assert.ok(!everything.includes(secret), `secret leaked: ${secret.slice(0, 12)}…`);
    }
  });

  test('SIGHUP reloads the config without dropping an in-flight stream', async () => {
    const client = new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'paced', stream: true, messages: [{ role: 'user', content: 'long' }] });
    const consumed = (async () => {
      let n = 0;
      for await (const c of stream) n += c.choices[0]?.delta?.content ? 1 : 0;
      return n;
    })();
    config.models.push({ name: 'added-by-reload', provider: 'sim', upstreamModel: 'new-model' });
    writeFileSync(configPath, stringify(config));
    gw.proc.kill('SIGHUP');
    await waitFor(() => gw.output().includes('config reloaded'));
    assert.equal(await consumed, 60, 'the in-flight stream completed');
    const r = await client.chat.completions.create({ model: 'added-by-reload', messages: [{ role: 'user', content: 'x' }] });
    assert.match(r.choices[0]!.message.content!, /new-model/);
  });

  test('a bad config on SIGHUP is rejected and the old one keeps serving', async () => {
    writeFileSync(configPath, stringify({ ...config, models: [{ name: 'x', provider: 'no-such-provider', upstreamModel: 'y' }] }));
    gw.proc.kill('SIGHUP');
    await waitFor(() => gw.output().includes('config reload rejected'));
    assert.match(gw.output(), /models\[0\]\.provider: expected one of the configured providers/);
    const client = new OpenAI({ apiKey: key, baseURL: `${gw.url}/v1`, maxRetries: 0 });
    const r = await client.chat.completions.create({ model: 'added-by-reload', messages: [{ role: 'user', content: 'x' }] });
    assert.ok(r.choices[0]!.message.content);
    writeFileSync(configPath, stringify(config));
  });

  test('health, readiness and admin auth', async () => {
    assert.equal((await fetch(`${gw.url}/healthz`)).status, 200);
    const ready = (await (await fetch(`${gw.url}/readyz`)).json()) as { status: string; checks: Record<string, { ok: boolean }> };
    assert.equal(ready.status, 'ready');
    assert.ok(ready.checks.store!.ok);
    assert.equal((await fetch(`${gw.url}/admin/v1/keys`)).status, 401);
    assert.equal((await fetch(`${gw.url}/admin/v1/keys`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
    const list = await fetch(`${gw.url}/admin/v1/keys`, { headers: { authorization: 'Bearer admin-token-for-tests' } });
    assert.equal(list.status, 200);
    assert.ok(!(await list.text()).includes(key), 'admin listing never contains secrets');
    // Every capability's admin routes are mounted once, under /admin/v1, behind the same token.
    for (const path of ['/admin/v1/usage', '/admin/v1/directives', '/admin/v1/licences', '/admin/v1/policy/status']) {
      assert.equal((await fetch(`${gw.url}${path}`)).status, 401, path);
      assert.equal((await fetch(`${gw.url}${path}`, { headers: { authorization: 'Bearer admin-token-for-tests' } })).status, 200, path);
    }
  });

  test('config check reports file, line and path for each problem', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'server:\n  port: "eighty"\n  colour: blue\nproviders:\n  sim: { type: simulator }\nmodels:\n  - name: a\n    provider: sim\n    upstreamModel: m\n');
    const badRefs = join(dir, 'bad-refs.yaml');
    writeFileSync(badRefs, 'providers:\n  sim: { type: simulator }\nmodels:\n  - name: a\n    provider: sim\n    upstreamModel: m\n    fallbacks: [ghost]\n  - name: b\n    provider: nosuch\n    upstreamModel: m\n');
    const err = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'config', 'check', bad]).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    assert.ok(err, 'config check must fail');
    assert.equal(err.code, 1);
    assert.match(err.stderr, new RegExp(`${bad.replace(/[.]/g, '\\.')}:2:\\d+: server\\.port: expected number, found "eighty"`));
    assert.match(err.stderr, /:3:3: server: unknown key 'colour'/);
    const refs = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'config', 'check', badRefs]).then(
      () => null,
      (e: { code: number; stderr: string }) => e,
    );
    assert.ok(refs);
    assert.match(refs.stderr, /bad-refs\.yaml:7:\d+: models\[0\]\.fallbacks\[0\]: expected a configured model name, found 'ghost'/);
    assert.match(refs.stderr, /bad-refs\.yaml:9:\d+: models\[1\]\.provider: expected one of the configured providers \(sim\), found 'nosuch'/);
    const ok = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'config', 'check', 'config/demo.yaml']);
    assert.match(ok.stdout, /OK/);
  });
});
