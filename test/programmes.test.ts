/**
 * Trusted-access programmes and identity verification on a real gateway: an account applies for a programme with
 * evidence, an operator grants it (scope: expiry and tier) and a model whose policy requires the programme is served
 * through the official `openai` SDK; revoked or expired, it is refused with `programme_required`. A local fake KYC
 * provider signs verification events: a good one lifts the account's level (a kyc-gated model is then served); a
 * bad signature, a stale timestamp, a replayed event and malformed bodies get clear errors. Every step is audited.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import OpenAI from 'openai';
import { tempDir } from './support/config.ts';
import { BACKENDS, startHarness, type Harness } from './support/harness.ts';
import { ADMIN_TOKEN as CONSOLE_ADMIN_TOKEN, addOperator, auditRecords, call, signIn } from './support/console.ts';
import { sign } from '../src/programmes/webhook.ts';
import { enrich } from '../src/programmes/overlay.ts';

const ADMIN_TOKEN = 'programmes-admin';
const KYC_SECRET = 'kyc-shared-secret-for-tests';
const PROGRAMME = 'critical-infrastructure-defenders';

/** The fake KYC provider: signs an event the way the provider does and delivers it. */
async function deliver(url: string, event: unknown, opts: { secret?: string; at?: number; raw?: string; header?: string | null } = {}): Promise<Response> {
  const body = opts.raw ?? JSON.stringify(event);
  const t = Math.floor((opts.at ?? Date.now()) / 1000);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.header !== null) headers['x-kyc-signature'] = opts.header ?? sign(opts.secret ?? KYC_SECRET, t, body);
  return fetch(`${url}/webhooks/kyc`, { method: 'POST', headers, body });
}

async function refusalCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (err instanceof OpenAI.APIError) return `${err.status}:${(err.error as { code?: string } | undefined)?.code ?? err.code}`;
    throw err;
  }
  return 'served';
}

for (const backend of BACKENDS) {
  describe(`programmes and KYC verification (${backend})`, () => {
    let h: Harness;
    let auditPath = '';
    let openai: OpenAI;
    // Operators' webhook receiver: expiring grants are announced there.
    const announced: Record<string, any>[] = [];
    const hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        announced.push(JSON.parse(body) as Record<string, any>);
        res.writeHead(200).end('ok');
      });
    });
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
    const post = (path: string, body: unknown) => fetch(`${h.url}/admin/v1${path}`, { method: 'POST', headers: admin, body: JSON.stringify(body) });
    const ask = (model: string) => openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'hello' }] });
    const auditActions = () => readFileSync(auditPath, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, any>).filter((r) => r.kind === 'admin');
    const waitForAudit = async (action: string, n = 1) => {
      const until = Date.now() + 10_000;
      while (auditActions().filter((r) => r.action === action).length < n) {
        if (Date.now() > until) assert.fail(`no audit record ${action}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    before(async () => {
      await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
      const dir = tempDir('gatehouse-programmes-');
      const policy = join(dir, 'policy.yaml');
      writeFileSync(
        policy,
        `version: 1\ndefault: allow\nrules:\n  - id: lite-defenders\n    models: [lite]\n    action: require\n    require: { programme: ${PROGRAMME} }\n  - id: frontier-verified\n    models: [frontier]\n    action: require\n    require: { kyc: verified-identity }\n`,
      );
      h = await startHarness({
        backend,
        env: { GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN, TEST_KYC_SECRET: KYC_SECRET },
        extra: {
          audit: { path: (auditPath = join(dir, 'audit.jsonl')) },
          policy: { file: policy },
          notifications: { webhooks: [{ name: 'ops', url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`, events: ['programme.expiring'] }] },
          programmes: { names: [PROGRAMME, 'verified-cyber-research'], expiryWarningHours: 24, kycWebhook: { secretEnv: 'TEST_KYC_SECRET', toleranceSeconds: 120 } },
        },
      });
      openai = new OpenAI({ apiKey: h.keys.valid, baseURL: `${h.url}/v1`, maxRetries: 0 });
    });
    after(async () => {
      await h?.close();
      hook.closeAllConnections();
      await new Promise((r) => hook.close(r));
    });

    test('apply → grant → served; revoke → programme_required; every step audited', async () => {
      assert.equal(await refusalCode(ask('lite')), '403:programme_required');
      const applied = await post('/programmes/applications', { programme: PROGRAMME, subject: { kind: 'org', id: 'org-test' }, evidence: { text: 'Regional grid operator SOC', links: ['https://example.org/attestation.pdf'] } });
      assert.equal(applied.status, 201);
      const { application } = (await applied.json()) as { application: { id: string; status: string } };
      assert.equal(application.status, 'applied');
      assert.equal(await refusalCode(ask('lite')), '403:programme_required', 'an application alone grants nothing');

      const granted = await post(`/programmes/applications/${application.id}/grant`, { by: 'reviewer-ana', reason: 'evidence checked', expiresAt: Date.now() + 3_600_000, tier: 'trusted-defender' });
      assert.equal(granted.status, 200);
      assert.equal(((await granted.json()) as any).application.status, 'granted');
      const served = await ask('lite');
      assert.ok(served.choices[0]!.message.content);
      // It ends within programmes.expiryWarningHours (24): announced once to the operators' webhook.
      const until = Date.now() + 10_000;
      while (!announced.some((e) => e.type === 'programme.expiring' && e.details?.application === application.id)) {
        if (Date.now() > until) assert.fail(`no programme.expiring notification: ${JSON.stringify(announced)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual(announced.find((e) => e.details?.application === application.id)!.details.subject, { kind: 'org', id: 'org-test' });

      // Policy explain by key id sees the grant too (the same overlay as the request path).
      const keys = (await (await fetch(`${h.url}/admin/v1/keys?account=acct-test`, { headers: admin })).json()) as any;
      const explained = (await (await post('/policy/explain', { keyId: keys.keys[0].id, model: 'lite' })).json()) as any;
      assert.equal(explained.explanation.verdict.action, 'allow', JSON.stringify(explained));
      assert.ok(explained.explanation.principal.programmes.includes(PROGRAMME));

      // A second grant of the same application is a conflict; a rejection of a granted one too.
      assert.equal((await post(`/programmes/applications/${application.id}/grant`, { by: 'x', expiresAt: Date.now() + 1000_000 })).status, 409);
      assert.equal((await post(`/programmes/applications/${application.id}/reject`, { by: 'x', reason: 'no' })).status, 409);

      const revoked = await post(`/programmes/applications/${application.id}/revoke`, { by: 'reviewer-ana', reason: 'contract ended' });
      assert.equal(revoked.status, 200);
      assert.equal(await refusalCode(ask('lite')), '403:programme_required');

      const list = (await (await fetch(`${h.url}/admin/v1/programmes/applications?status=revoked`, { headers: admin })).json()) as any;
      assert.deepEqual(list.applications.map((a: any) => [a.id, a.decidedBy, a.reason]), [[application.id, 'reviewer-ana', 'contract ended']]);
      await waitForAudit('programme.revoked');
      const trail = auditActions().filter((r) => String(r.action).startsWith('programme.')).map((r) => [r.action, r.target]);
      assert.deepEqual(trail, [['programme.applied', 'org:org-test'], ['programme.granted', 'org:org-test'], ['programme.revoked', 'org:org-test']]);
    });

    test('a grant stops counting at its expiry; a rejected application never counts', async () => {
      const a = ((await (await post('/programmes/applications', { programme: PROGRAMME, subject: { kind: 'account', id: 'acct-test' }, evidence: { text: 'short engagement' } })).json()) as any).application;
      const expiresAt = Date.now() + 1500;
      assert.equal((await post(`/programmes/applications/${a.id}/grant`, { by: 'reviewer-bo', expiresAt })).status, 200);
      assert.equal(await refusalCode(ask('lite')), 'served');
      await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now()) + 50));
      assert.equal(await refusalCode(ask('lite')), '403:programme_required');

      const b = ((await (await post('/programmes/applications', { programme: 'verified-cyber-research', subject: { kind: 'account', id: 'acct-test' }, evidence: { text: 'lab' } })).json()) as any).application;
      const rejected = await post(`/programmes/applications/${b.id}/reject`, { by: 'reviewer-bo', reason: 'no affiliation shown' });
      assert.equal(((await rejected.json()) as any).application.status, 'rejected');
      await waitForAudit('programme.rejected');
    });

    test('bad applications and decisions get clear errors', async () => {
      const cases: [unknown, RegExp][] = [
        [{ programme: 'made-up', subject: { kind: 'account', id: 'a' }, evidence: { text: 'x' } }, /unknown programme 'made-up' \(expected one of critical-infrastructure-defenders, verified-cyber-research\)/],
        [{ programme: PROGRAMME, subject: { kind: 'person', id: 'a' }, evidence: { text: 'x' } }, /subject\.kind: expected 'account' or 'org'/],
        [{ programme: PROGRAMME, subject: { kind: 'account', id: 'a' } }, /evidence: expected \{text, links\?\}/],
        [{ programme: PROGRAMME, subject: { kind: 'account', id: 'a' }, evidence: { text: 'x', links: ['ftp://x'] } }, /evidence\.links\[0\]: expected an http/],
        [{ programme: PROGRAMME, subject: { kind: 'account', id: 'a' }, evidence: { text: 'x' }, extra: 1 }, /unknown field 'extra'/],
      ];
      for (const [body, message] of cases) {
        const r = await post('/programmes/applications', body);
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.match(((await r.json()) as any).error.message, message);
      }
      assert.equal((await post('/programmes/applications/prg_nope/grant', { by: 'x', expiresAt: Date.now() + 10_000 })).status, 404);
      const a = ((await (await post('/programmes/applications', { programme: PROGRAMME, subject: { kind: 'account', id: 'other' }, evidence: { text: 'x' } })).json()) as any).application;
      const past = await post(`/programmes/applications/${a.id}/grant`, { by: 'x', expiresAt: Date.now() - 1 });
      assert.equal(past.status, 400);
      assert.match(((await past.json()) as any).error.message, /expiresAt: expected a future time/);
      const noReason = await post(`/programmes/applications/${a.id}/reject`, { by: 'x' });
      assert.match(((await noReason.json()) as any).error.message, /reason: is required/);
      assert.equal((await fetch(`${h.url}/admin/v1/programmes/applications`)).status, 401, 'admin auth applies');
    });

    test('KYC webhook: a signed event sets the level; bad signature, stale, replayed and malformed events are refused', async () => {
      assert.equal(await refusalCode(ask('frontier')), '403:kyc_required');
      const event = { id: `evt-${backend}-1`, type: 'verification.completed', accountId: 'acct-test', level: 'verified-identity' };

      const forged = await deliver(h.url, event, { secret: 'not-the-secret' });
      assert.equal(forged.status, 401);
      assert.equal(((await forged.json()) as any).error.code, 'bad_signature');
      const stale = await deliver(h.url, event, { at: Date.now() - 10 * 60_000 });
      assert.equal(stale.status, 401);
      assert.match(((await stale.json()) as any).error.message, /replay window is 120 s/);
      const unsigned = await deliver(h.url, event, { header: null });
      assert.equal(((await unsigned.json()) as any).error.code, 'missing_signature');
      const garbled = await deliver(h.url, event, { header: 'v1=zz' });
      assert.equal(((await garbled.json()) as any).error.code, 'malformed_signature');
      assert.equal(await refusalCode(ask('frontier')), '403:kyc_required', 'refused events change nothing');

      const good = await deliver(h.url, event);
      assert.equal(good.status, 200);
      assert.deepEqual(await good.json(), { status: 'applied', event: event.id });
      assert.equal(await refusalCode(ask('frontier')), 'served');
      const level = (await (await fetch(`${h.url}/admin/v1/programmes/verifications/acct-test`, { headers: admin })).json()) as any;
      assert.equal(level.verification.level, 'verified-identity');

      // Redelivered (same id, re-signed now, even with a different level): acknowledged, not re-applied.
      const replay = await deliver(h.url, { ...event, level: 'basic' });
      assert.equal(replay.status, 200);
      assert.equal(((await replay.json()) as any).status, 'duplicate');
      assert.equal(await refusalCode(ask('frontier')), 'served');
      await waitForAudit('kyc.verified');
      assert.equal(auditActions().filter((r) => r.action === 'kyc.verified').length, 1);

      const malformed: [string, string][] = [
        ['{"id": "e2", "accountId": "acct-test", "level": "platinum"}', "'level' must be one of none, basic, verified-identity, verified-organisation"],
        ['{"id": "e3", "level": "basic"}', "'accountId' must be a non-empty string"],
        ['[1,2]', 'must be a JSON object'],
        ['{"id": ', 'not valid JSON'],
      ];
      for (const [raw, message] of malformed) {
        const r = await deliver(h.url, null, { raw });
        assert.equal(r.status, 400, raw);
        assert.ok(((await r.json()) as any).error.message.includes(message), raw);
      }
      const empty = await fetch(`${h.url}/webhooks/kyc`, { method: 'POST' });
      assert.equal(empty.status, 400);
      const huge = await deliver(h.url, null, { raw: JSON.stringify({ id: 'big', accountId: 'a', level: 'basic', pad: 'x'.repeat(70_000) }) });
      assert.equal(huge.status, 413);
    });
  });
}

test('the overlay: a verification never lowers a key’s level; expiry is exclusive', () => {
  const p = { keyId: 'k', accountId: 'a', orgId: 'o', nationalities: [], residence: null, kyc: 'verified-organisation' as const, programmes: ['x'], tier: 'general', staff: false };
  const state = { grants: [{ id: 'prg_1', programme: 'y', subjectKind: 'org' as const, subjectId: 'o', tier: null, expiresAt: 1000 }], kyc: new Map([['a', 'basic' as const]]) };
  assert.deepEqual(enrich(p, state, 999), { ...p, programmes: ['x', 'y'] });
  assert.equal(enrich(p, state, 1000), p);
});

describe('programmes config', () => {
  test('without programmes.kycWebhook the webhook answers 404 and no programme can be applied for', async () => {
    const h = await startHarness({ backend: 'sqlite', env: { GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN } });
    try {
      const r = await deliver(h.url, { id: 'e', accountId: 'acct-test', level: 'basic' });
      assert.equal(r.status, 404);
      assert.equal(((await r.json()) as any).error.code, 'not_configured');
      const a = await fetch(`${h.url}/admin/v1/programmes/applications`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ programme: PROGRAMME, subject: { kind: 'account', id: 'a' }, evidence: { text: 'x' } }) });
      assert.equal(a.status, 400);
      assert.match(((await a.json()) as any).error.message, /no programmes are configured \(programmes\.names\)/);
    } finally {
      await h.close();
    }
  });

  test('a kycWebhook whose secret variable is unset stops the gateway at start, naming it', async () => {
    await assert.rejects(
      startHarness({ backend: 'sqlite', extra: { programmes: { kycWebhook: { secretEnv: 'GATEHOUSE_TEST_UNSET_KYC_SECRET' } } } }),
      /programmes\.kycWebhook\.secretEnv: environment variable GATEHOUSE_TEST_UNSET_KYC_SECRET \(the secret shared with the KYC provider\) is not set/,
    );
  });
});

describe('programmes through operator sessions', () => {
  test('an analyst reads applications but may not decide; an operator grants, and the record names them', async () => {
    const h = await startHarness({
      backend: 'sqlite',
      env: { GATEHOUSE_ADMIN_TOKEN: CONSOLE_ADMIN_TOKEN },
      extra: { audit: { path: join(tempDir('gatehouse-programmes-ops-'), 'audit.jsonl') }, programmes: { names: [PROGRAMME] } },
    });
    try {
      await addOperator(h.storeUrl, 'olga', 'operator');
      await addOperator(h.storeUrl, 'anton', 'analyst');
      const olga = await signIn(h.url, 'olga');
      const anton = await signIn(h.url, 'anton');
      const applied = await call(h.url, 'POST', '/programmes/applications', { session: olga, body: { programme: PROGRAMME, subject: { kind: 'account', id: 'acct-test' }, evidence: { text: 'CERT member' } } });
      assert.equal(applied.status, 201, JSON.stringify(applied.body));
      const id = applied.body.application.id as string;
      assert.equal((await call(h.url, 'GET', '/programmes/applications', { session: anton })).status, 200);
      const denied = await call(h.url, 'POST', `/programmes/applications/${id}/grant`, { session: anton, body: { by: 'anton', expiresAt: Date.now() + 86_400_000 } });
      assert.equal(denied.status, 403);
      const granted = await call(h.url, 'POST', `/programmes/applications/${id}/grant`, { session: olga, body: { by: 'olga', expiresAt: Date.now() + 86_400_000 } });
      assert.equal(granted.status, 200, JSON.stringify(granted.body));
      const [rec] = await auditRecords(h.url, (r) => r.action === 'programme.granted' && r.target === 'account:acct-test');
      assert.equal(rec?.actor, 'olga');
    } finally {
      await h.close();
    }
  });
});
