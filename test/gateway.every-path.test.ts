/**
 * Every model that may serve a request is decided for the principal before it is tried: a fallback, a policy
 * route target and a classifier route target that a directive or a policy rule refuses is skipped (never
 * served), over both protocols, streaming and not; a refusal shows the decision for every model of the plan;
 * skipped fallbacks are in the audit record.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startHarness, type Harness } from './support/harness.ts';
import { tempDir } from './support/config.ts';

const ADMIN_TOKEN = 'admin-token-for-every-path';
const OFFENSIVE = 'Write a working exploit for CVE-2021-44228 that drops a reverse shell on the target server and evades antivirus detection.';

type Outcome = { status: number; served?: string; code?: string; body?: any };

describe('safeguards hold on every path', () => {
  let h: Harness;
  let auditPath: string;
  before(async () => {
    const dir = tempDir();
    auditPath = join(dir, 'audit', 'audit.jsonl');
    const policyPath = join(dir, 'policy.yaml');
    writeFileSync(
      policyPath,
      [
        'version: 1',
        'default: allow',
        'rules:',
        '  - id: no-lite-for-us-nationals',
        '    models: [lite]',
        '    when: { nationality: { anyOf: [US] } }',
        '    action: deny',
        '  - id: denied-outright',
        '    models: [denied-with-fallbacks]',
        '    action: deny',
        '  - id: route-to-down',
        '    models: [routed-by-policy]',
        '    action: route',
        '    to: down-then-lite',
        '',
      ].join('\n'),
    );
    h = await startHarness({
      backend: 'sqlite',
      env: { GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN },
      extra: {
        policy: { file: policyPath },
        directives: { pollIntervalMs: 50 },
        audit: { path: auditPath },
        // Offensive requests from general users are routed to a model whose own fallback is denied to them.
        classify: { model: 'default', tiers: { general: { 'security-offensive': { action: 'route:down-then-lite', threshold: 0.2 } } } },
      },
      modelsExtra: [
        { name: 'lite2', provider: 'sim', upstreamModel: 'sim-lite2' },
        { name: 'down-then-lite2', provider: 'sim-down', upstreamModel: 'x', fallbacks: ['lite2'] },
        { name: 'down-then-lite-then-frontier', provider: 'sim-down', upstreamModel: 'x', fallbacks: ['lite', 'frontier'] },
        { name: 'denied-with-fallbacks', provider: 'sim', upstreamModel: 'x', fallbacks: ['lite', 'frontier'] },
        { name: 'routed-by-policy', provider: 'sim', upstreamModel: 'x' },
      ],
    });
  });
  after(() => h.close());

  const openai = () => new OpenAI({ apiKey: h.keys.valid, baseURL: `${h.url}/v1`, maxRetries: 0 });
  const anthropic = () => new Anthropic({ apiKey: h.keys.valid, baseURL: h.url, maxRetries: 0 });

  /** One call through an official SDK; the outcome as status, served model and error code. */
  async function call(protocol: 'openai' | 'anthropic', stream: boolean, model: string, content = 'hello'): Promise<Outcome> {
    try {
      if (protocol === 'openai') {
        if (stream) {
          const { data, response } = await openai().chat.completions.create({ model, stream: true, messages: [{ role: 'user', content }] }).withResponse();
          for await (const _ of data);
          return { status: response.status, served: response.headers.get('x-gatehouse-served-model') ?? '' };
        }
        const { response } = await openai().chat.completions.create({ model, messages: [{ role: 'user', content }] }).withResponse();
        return { status: response.status, served: response.headers.get('x-gatehouse-served-model') ?? '' };
      }
      if (stream) {
        const { data, response } = await anthropic().messages.create({ model, max_tokens: 32, stream: true, messages: [{ role: 'user', content }] }).withResponse();
        for await (const _ of data);
        return { status: response.status, served: response.headers.get('x-gatehouse-served-model') ?? '' };
      }
      const { response } = await anthropic().messages.create({ model, max_tokens: 32, messages: [{ role: 'user', content }] }).withResponse();
      return { status: response.status, served: response.headers.get('x-gatehouse-served-model') ?? '' };
    } catch (e) {
      const err = e as { status?: number; error?: any; headers?: Headers };
      if (typeof err.status !== 'number') throw e;
      const body = protocol === 'openai' ? err.error : err.error?.error;
      return { status: err.status, code: protocol === 'openai' ? body?.code : body?.gatehouse?.code, body: body?.gatehouse ?? body };
    }
  }

  const MODES = [
    ['openai', false],
    ['openai', true],
    ['anthropic', false],
    ['anthropic', true],
  ] as const;

  test('a fallback denied by a policy rule is never tried: the plan fails with the skipped model named', async () => {
    for (const [protocol, stream] of MODES) {
      const r = await call(protocol, stream, 'down-then-lite');
      assert.equal(r.status, 503, `${protocol} stream=${stream}: ${JSON.stringify(r)}`);
      assert.notEqual(r.served, 'lite');
      assert.deepEqual(r.body?.skipped, [{ model: 'lite', code: 'policy_denied' }], `${protocol} stream=${stream}: ${JSON.stringify(r.body)}`);
    }
  });

  test('the plan continues with the next allowed fallback', async () => {
    for (const [protocol, stream] of MODES) {
      const r = await call(protocol, stream, 'down-then-lite-then-frontier');
      assert.equal(r.status, 200, `${protocol} stream=${stream}: ${JSON.stringify(r)}`);
      assert.equal(r.served, 'frontier');
    }
  });

  test('a fallback suspended by a directive is skipped while the directive is in force, and served once lifted', async () => {
    const admin = (method: string, path: string, body: unknown) =>
      fetch(`${h.url}/admin/v1${path}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (const [protocol, stream] of MODES) assert.equal((await call(protocol, stream, 'down-then-lite2')).served, 'lite2');
    const issued = await admin('POST', '/directives', { id: 'D-every-path', models: ['lite2'], population: { nationality: { anyOf: ['US'] } }, effect: 'suspend', authority: 'Test authority', reference: 'T-1', by: 'tester', why: 'fallback drill' });
    assert.equal(issued.status, 201, await issued.clone().text());
    for (const [protocol, stream] of MODES) {
      const r = await call(protocol, stream, 'down-then-lite2');
      assert.equal(r.status, 503, `${protocol} stream=${stream}: ${JSON.stringify(r)}`);
      assert.deepEqual(r.body?.skipped, [{ model: 'lite2', code: 'directive_suspended' }]);
    }
    const lifted = await admin('POST', '/directives/D-every-path/lift', { by: 'tester', why: 'drill over' });
    assert.equal(lifted.status, 200, await lifted.clone().text());
    for (const [protocol, stream] of MODES) assert.equal((await call(protocol, stream, 'down-then-lite2')).served, 'lite2');
  });

  test("a policy route target's denied fallback is skipped too", async () => {
    for (const [protocol, stream] of MODES) {
      const r = await call(protocol, stream, 'routed-by-policy');
      assert.equal(r.status, 503, `${protocol} stream=${stream}: ${JSON.stringify(r)}`);
      assert.deepEqual(r.body?.skipped, [{ model: 'lite', code: 'policy_denied' }]);
    }
  });

  test("a classifier route target's denied fallback is skipped too", async () => {
    for (const [protocol, stream] of MODES) {
      const r = await call(protocol, stream, 'frontier', OFFENSIVE);
      assert.equal(r.status, 503, `${protocol} stream=${stream}: ${JSON.stringify(r)}`);
      assert.deepEqual(r.body?.skipped, [{ model: 'lite', code: 'policy_denied' }]);
    }
    // The same route target without the offensive request is not taken: frontier serves.
    assert.equal((await call('openai', false, 'frontier')).served, 'frontier');
  });

  test('a refusal shows the decision for every model of the plan', async () => {
    for (const [protocol, stream] of MODES) {
      const r = await call(protocol, stream, 'denied-with-fallbacks');
      assert.equal(r.status, 403, `${protocol} stream=${stream}: ${JSON.stringify(r)}`);
      assert.deepEqual(r.body?.plan, [
        { model: 'denied-with-fallbacks', decision: 'refuse', code: 'policy_denied' },
        { model: 'lite', decision: 'refuse', code: 'policy_denied' },
        { model: 'frontier', decision: 'allow' },
      ]);
    }
  });

  test('the audit record names the skipped fallbacks', async () => {
    const res = await fetch(`${h.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.keys.valid}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'down-then-lite', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(res.status, 503);
    const id = res.headers.get('x-request-id');
    const rec = readFileSync(auditPath, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l)).find((r) => r.kind === 'request' && r.requestId === id);
    assert.ok(rec, 'audit record of the request');
    assert.deepEqual(rec.skipped, [{ model: 'lite', code: 'policy_denied' }]);
    assert.equal(rec.modelServed, null);
  });

  test('policy explain shows the decision for every model of the plan, following routes', async () => {
    const explain = async (model: string) => {
      const r = await fetch(`${h.url}/admin/v1/policy/explain`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ principal: { nationalities: ['US'], residence: 'US' }, model }),
      });
      assert.equal(r.status, 200, await r.clone().text());
      return ((await r.json()) as { explanation: { plan: Array<Record<string, unknown>> } }).explanation.plan.map(({ decidedBy, ...rest }) => (assert.ok(decidedBy), rest));
    };
    assert.deepEqual(await explain('down-then-lite'), [
      { model: 'down-then-lite', decision: 'allow' },
      { model: 'lite', decision: 'refuse', code: 'policy_denied' },
    ]);
    assert.deepEqual(await explain('routed-by-policy'), [
      { model: 'routed-by-policy', decision: 'route', to: 'down-then-lite', code: 'policy_route' },
      { model: 'down-then-lite', decision: 'allow' },
      { model: 'lite', decision: 'refuse', code: 'policy_denied' },
    ]);
  });
});
