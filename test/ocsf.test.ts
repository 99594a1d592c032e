/**
 * OCSF export: a real gateway's audit log (served requests, a failed authentication, classifier refusals, key
 * creation and revocation through the admin API) exported by the CLI and the admin API, every event validated
 * against the class schemas in src/ocsf/schema.ts; abuse-ring actions mapped to Detection Findings; the validator
 * itself shown to reject events that break the schema.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import OpenAI from 'openai';
import { adminRecord } from '../src/audit/record.ts';
import { run as ocsfCli } from '../src/ocsf/cli.ts';
import { toOcsf } from '../src/ocsf/map.ts';
import { validateOcsf, OCSF_VERSION } from '../src/ocsf/schema.ts';
import { startHarness, type Harness } from './support/harness.ts';
import { tempDir } from './support/config.ts';

const ADMIN_TOKEN = 'ocsf-admin-token';

async function cli(args: string[]): Promise<{ code: number; events: any[]; err: string }> {
  let out = '';
  let err = '';
  const code = await ocsfCli(['ocsf', ...args], { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, events: out.split('\n').filter(Boolean).map((l) => JSON.parse(l)), err };
}

describe('OCSF export of a gateway’s audit log', () => {
  let h: Harness;
  let auditPath: string;
  let servedId = '';
  let refusedId = '';
  let keyId = '';

  before(async () => {
    auditPath = join(tempDir('gatehouse-ocsf-'), 'audit.jsonl');
    // general-tier callers are refused by the classifier on every request (threshold 0); verified ones are served.
    const classify = { enabled: true, tiers: { general: { 'violent-crimes': { action: 'refuse', threshold: 0 } }, verified: {} } };
    h = await startHarness({ backend: 'sqlite', env: { GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN }, extra: { audit: { path: auditPath }, classify } });
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
    const created = (await (await fetch(`${h.url}/admin/v1/keys`, { method: 'POST', headers: admin, body: JSON.stringify({ accountId: 'acct-verified', orgId: 'org-v', tier: 'verified', nationalities: ['US'] }) })).json()) as { key: { id: string }; secret: string };
    keyId = created.key.id;
    const served = await new OpenAI({ apiKey: created.secret, baseURL: `${h.url}/v1`, maxRetries: 0 }).chat.completions.create({ model: 'frontier', messages: [{ role: 'user', content: 'Hello' }] }).withResponse();
    servedId = served.response.headers.get('x-request-id')!;
    const refused = await fetch(`${h.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${h.keys.valid}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'frontier', messages: [{ role: 'user', content: 'Hello' }] }) });
    assert.equal(refused.status, 403);
    refusedId = refused.headers.get('x-request-id')!;
    const unauth = await fetch(`${h.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer gh_not_a_key', 'content-type': 'application/json' }, body: '{}' });
    assert.equal(unauth.status, 401);
    assert.equal((await fetch(`${h.url}/admin/v1/keys/${keyId}?reason=rotated`, { method: 'DELETE', headers: { authorization: admin.authorization } })).status, 200);
    // Key changes reach the log through the audit inbox: wait until both are there.
    for (let i = 0; i < 100; i++) {
      const { events } = await cli(['export', '--file', auditPath, '--class', 'account']);
      if (events.length >= 2) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  after(async () => {
    await h?.close();
  });

  test('every event is valid against its class schema, one class per kind of record', async () => {
    const { code, events, err } = await cli(['export', '--file', auditPath, '--validate']);
    assert.equal(code, 0, err);
    for (const e of events) assert.deepEqual(validateOcsf(e), [], JSON.stringify(e));
    for (const e of events) assert.equal(e.metadata.version, OCSF_VERSION);

    const api = events.filter((e) => e.class_uid === 6003);
    const served = api.find((e) => e.api.request.uid === servedId);
    assert.ok(served, 'the served request is an API Activity');
    assert.equal(served.type_uid, 600301);
    assert.equal(served.status_id, 1);
    assert.equal(served.actor.user.uid, 'acct-verified');
    assert.equal(served.actor.user.credential_uid, keyId);
    assert.equal(served.actor.user.org.uid, 'org-v');
    assert.equal(served.api.operation, 'chat.completions.create');
    assert.deepEqual(served.resources, [{ type: 'model', name: 'frontier' }]);

    const refused = api.find((e) => e.api.request.uid === refusedId);
    assert.equal(refused.status_id, 2);
    assert.equal(refused.status_detail, 'classifier_violent_crimes');
    const finding = events.find((e) => e.class_uid === 2004 && e.finding_info.related_events?.[0]?.uid === refusedId);
    assert.ok(finding, 'the classifier refusal is a Detection Finding');
    assert.equal(finding.type_uid, 200401);
    assert.equal(finding.finding_info.analytic.name, 'violent-crimes');
    assert.equal(finding.metadata.correlation_uid, refusedId);
    assert.equal(typeof finding.confidence_score, 'number');

    const auth = events.filter((e) => e.class_uid === 3002);
    assert.equal(auth.length, 1);
    assert.equal(auth[0].status_id, 2);
    assert.equal(auth[0].status_detail, 'invalid_api_key');
    assert.equal(auth[0].type_uid, 300201);
    assert.equal(api.filter((e) => e.status_code === '401').length, 0, 'a failed authentication is not also an API Activity');

    const account = events.filter((e) => e.class_uid === 3001);
    assert.deepEqual(account.map((e) => [e.activity_id, e.user.credential_uid]), [[1, keyId], [5, keyId]]);
    assert.equal(account[0].user.uid, 'acct-verified');
    assert.equal(account[0].actor.user.name, 'admin-api');
  });

  test('class filter, limit and bad flags (CLI); streamed JSONL (admin API)', async () => {
    const only = await cli(['export', '--file', auditPath, '--class', 'auth,finding']);
    assert.ok(only.events.length >= 2);
    assert.ok(only.events.every((e) => e.class_uid === 3002 || e.class_uid === 2004));
    assert.equal((await cli(['export', '--file', auditPath, '--limit', '1'])).events.length, 1);
    const bad = await cli(['export', '--file', auditPath, '--class', 'network']);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /unknown OCSF class 'network'/);
    const missing = await cli(['export', '--file', join(tempDir(), 'nope.jsonl')]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /no audit log at/);

    const res = await fetch(`${h.url}/admin/v1/ocsf?class=auth`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /application\/x-ndjson/);
    const lines = (await res.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    assert.equal(lines.length, 1);
    assert.equal(lines[0].class_uid, 3002);
    const badQ = await fetch(`${h.url}/admin/v1/ocsf?colour=red`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(badQ.status, 400);
    assert.equal((await fetch(`${h.url}/admin/v1/ocsf`)).status, 401);
  });
});

describe('OCSF mapping of abuse-ring actions and the validator', () => {
  // The record the gateway writes when the ring detector changes an account's action (compose: recordAdmin).
  const ring = (previous: string, next: string) => ({
    ...adminRecord('abuse.action', 'abuse-detector', 'acct-9', { kind: 'admin', action: 'abuse.action', time: 1, accountId: 'acct-9', ringId: next === 'none' ? null : 'ring-3', previous, next, score: 0.91, reasons: ['12 accounts share a payment fingerprint'] }),
    seq: 7,
    time: Date.UTC(2026, 10, 30),
  });

  test('a ring reaching suspend, escalating, and released', () => {
    const [created] = toOcsf(ring('none', 'suspend'));
    assert.deepEqual(validateOcsf(created), []);
    assert.equal(created!.class_uid, 2004);
    assert.equal(created!.activity_id, 1);
    assert.equal(created!.severity_id, 4);
    assert.equal((created!.finding_info as any).uid, 'abuse:acct-9:ring-3');
    assert.equal(created!.confidence_score, 91);
    const [updated] = toOcsf(ring('flag', 'degrade'));
    assert.equal(updated!.activity_id, 2);
    assert.deepEqual(validateOcsf(updated), []);
    const [closed] = toOcsf(ring('suspend', 'none'));
    assert.equal(closed!.activity_id, 3);
    assert.equal(closed!.status_id, 4);
    assert.deepEqual(validateOcsf(closed), []);
    assert.deepEqual(toOcsf({ kind: 'admin', action: 'directive.issued', actor: 'x', seq: 1, time: 1 }), []);
    assert.deepEqual(toOcsf({ kind: 'checkpoint', seq: 2, time: 1 }), []);
  });

  test('the validator rejects what breaks the class schema', () => {
    const [good] = toOcsf(ring('none', 'suspend'));
    const broken = (f: (e: any) => void) => {
      const e = structuredClone(good) as any;
      f(e);
      return validateOcsf(e);
    };
    assert.match(broken((e) => (e.type_uid = 200402)).join(), /type_uid must be class_uid \* 100 \+ activity_id/);
    assert.match(broken((e) => (e.severity_id = 7)).join(), /severity_id: expected one of/);
    assert.match(broken((e) => delete e.finding_info.title).join(), /finding_info\.title/);
    assert.match(broken((e) => (e.metadata.version = '1.1.0')).join(), /metadata\.version/);
    assert.match(broken((e) => (e.time = 'yesterday')).join(), /time/);
    assert.match(broken((e) => (e.class_uid = 4001)).join(), /not one of the classes/);
    const [auth] = toOcsf({ kind: 'request', seq: 3, time: 5, requestId: 'r', status: 401, code: 'missing_api_key', outcome: 'invalid', principal: { keyId: null, accountId: null, orgId: null }, protocol: 'anthropic', modelRequested: 'm' });
    assert.deepEqual(validateOcsf(auth), []);
    const a = structuredClone(auth) as any;
    delete a.user;
    assert.match(validateOcsf(a).join(), /user/);
    const [api] = toOcsf({ kind: 'request', seq: 4, time: 5, requestId: 'r2', status: 200, outcome: 'ok', principal: { keyId: 'k', accountId: 'a', orgId: null }, protocol: 'anthropic', modelRequested: 'm', modelServed: 'm' });
    assert.equal((api as any).api.operation, 'messages.create');
    const b = structuredClone(api) as any;
    delete b.cloud;
    b.api = {};
    const problems = validateOcsf(b).join();
    assert.match(problems, /cloud/);
    assert.match(problems, /api\.operation/);
  });
});
