/**
 * Operator identity on the admin API, against a real gateway: operators made with the CLI, sessions (cookie flags,
 * forged and expired sessions), CSRF, roles, two-person control for suspensions (self-approval refused), the
 * directive taking effect on an OpenAI SDK request, and every refusal audited with the operator's name.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import OpenAI from 'openai';
import { openDb } from '../src/store/open.ts';
import { tempDir } from './support/config.ts';
import { ADMIN_TOKEN, addOperator, auditRecords, call, cli, passwordOf, signIn } from './support/console.ts';
import { BACKENDS, startHarness, type Harness } from './support/harness.ts';

const SUSPEND = { models: ['lite'], population: {}, effect: 'suspend', authority: 'Test authority', reference: 'Order 1', why: 'test order', by: 'someone-else' };

for (const backend of BACKENDS) describe(`console: operators, sessions, roles and two-person control on the admin API (${backend} store)`, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      backend,
      extra: { audit: { path: join(tempDir(), 'audit.jsonl') }, console: { twoPersonControl: { suspend: true }, maxDeniedPerMinute: 6, maxFailedLogins: 3 } },
      env: { GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN },
    });
    await addOperator(h.storeUrl, 'alice', 'operator');
    await addOperator(h.storeUrl, 'bob', 'operator');
    await addOperator(h.storeUrl, 'vera', 'viewer');
    await addOperator(h.storeUrl, 'audrey', 'auditor', ['--expires', new Date(Date.now() + 3600_000).toISOString()]);
  });
  after(async () => h?.close());

  test('the operators CLI: list, and clear errors for bad input', async () => {
    const list = await cli(['list', '--json', '--store', h.storeUrl]);
    assert.equal(list.code, 0, list.err);
    const ops = JSON.parse(list.out) as { name: string; role: string }[];
    assert.deepEqual(ops.map((o) => `${o.name}:${o.role}`), ['alice:operator', 'audrey:auditor', 'bob:operator', 'vera:viewer']);
    assert.ok(!list.out.includes('scrypt'), 'password hashes are never listed');
    const badRole = await cli(['add', 'x', '--role', 'root', '--password-env', 'P', '--store', h.storeUrl], { P: 'long enough password' });
    assert.equal(badRole.code, 2);
    assert.match(badRole.err, /role 'root' is not one of viewer, analyst, operator, admin, auditor/);
    const short = await cli(['add', 'x', '--role', 'viewer', '--password-env', 'P', '--store', h.storeUrl], { P: 'short' });
    assert.equal(short.code, 2);
    assert.match(short.err, /at least 12 characters/);
    const dup = await cli(['add', 'alice', '--role', 'viewer', '--password-env', 'P', '--store', h.storeUrl], { P: 'long enough password' });
    assert.equal(dup.code, 1);
    assert.match(dup.err, /already exists/);
    const auditorNoExpiry = await cli(['add', 'aud2', '--role', 'auditor', '--password-env', 'P', '--store', h.storeUrl], { P: 'long enough password' });
    assert.equal(auditorNoExpiry.code, 2);
    assert.match(auditorNoExpiry.err, /time-boxed/);
  });

  test('sign-in sets HttpOnly, SameSite=Strict, Secure cookies; failures are audited and throttled', async () => {
    const s = await signIn(h.url, 'alice');
    const session = s.setCookie.find((c) => c.startsWith('gh_session='))!;
    assert.match(session, /HttpOnly/);
    assert.match(session, /SameSite=Strict/);
    assert.match(session, /Secure/);
    assert.match(s.setCookie.find((c) => c.startsWith('gh_csrf='))!, /SameSite=Strict/);
    const me = await call(h.url, 'GET', '/session', { session: s });
    assert.deepEqual([me.body.name, me.body.role, me.body.via], ['alice', 'operator', 'session']);

    const attempt = (name: string, password: string) => call(h.url, 'POST', '/session', { body: { name, password } });
    const wrong = await attempt('mallory', 'not the password at all');
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error.type, 'invalid_credentials');
    const form = await fetch(`${h.url}/admin/v1/session`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ name: 'alice', password: passwordOf('alice') }) });
    assert.equal(form.status, 415, 'a cross-site form post cannot sign a browser in');
    assert.equal(form.headers.getSetCookie().length, 0);
    const bad = await call(h.url, 'POST', '/session', { body: { name: 'alice' } });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error.message, /\{name, password\}/);
    await attempt('mallory', 'wrong 2');
    await attempt('mallory', 'wrong 3');
    const throttled = await attempt('mallory', 'wrong 4');
    assert.equal(throttled.status, 429);
    assert.equal(throttled.body.error.type, 'too_many_attempts');
    const failed = await auditRecords(h.url, (r) => r.action === 'console.login_failed' && r.target === 'mallory', 3);
    assert.equal(failed.length, 3);
    assert.equal(failed[0].details.reason, 'unknown');
    assert.equal((await auditRecords(h.url, (r) => r.action === 'console.login_throttled')).length, 1);
  });

  test('forged and expired sessions are refused and audited', async () => {
    const forged = await call(h.url, 'GET', '/directives', { session: { cookie: `gh_session=${'A'.repeat(43)}`, csrf: 'x', setCookie: [] } });
    assert.equal(forged.status, 401);
    assert.equal(forged.body.error.type, 'unauthorized');
    assert.match(forged.body.error.message, /sign in again/);
    const none = await call(h.url, 'GET', '/directives');
    assert.equal(none.status, 401);
    assert.match(none.body.error.message, /missing admin token: send Authorization: Bearer <admin token>, or sign in at \/console/);

    const s = await signIn(h.url, 'vera');
    assert.equal((await call(h.url, 'GET', '/directives', { session: s })).status, 200);
    // Age the session past the idle timeout in the store, as time would.
    const db = await openDb(h.storeUrl);
    try {
      await db.query("UPDATE operator_sessions SET last_seen_at = $1 WHERE operator = 'vera'", [Date.now() - 31 * 60_000]);
    } finally {
      await db.close();
    }
    const expired = await call(h.url, 'GET', '/directives', { session: s });
    assert.equal(expired.status, 401);
    assert.equal(expired.body.error.type, 'session_expired');
    assert.match(expired.body.error.message, /idle/);
    const again = await call(h.url, 'GET', '/directives', { session: s });
    assert.equal(again.body.error.type, 'session_expired', 'an ended session stays ended');
    const refused = await auditRecords(h.url, (r) => r.action === 'console.session_refused', 2);
    assert.deepEqual(new Set(refused.map((r) => r.details.reason)), new Set(['unknown', 'idle', 'ended']));
  });

  test('CSRF: a state-changing call without the token is refused and audited', async () => {
    const s = await signIn(h.url, 'alice');
    const noCsrf = await call(h.url, 'POST', '/directives', { session: s, csrf: null, body: SUSPEND });
    assert.equal(noCsrf.status, 403);
    assert.equal(noCsrf.body.error.type, 'csrf_failed');
    const wrongCsrf = await call(h.url, 'POST', '/directives', { session: s, csrf: 'forged-token', body: SUSPEND });
    assert.equal(wrongCsrf.status, 403);
    const recs = await auditRecords(h.url, (r) => r.action === 'console.csrf_failed' && r.actor === 'alice', 2);
    assert.equal(recs.length, 2);
    assert.equal(recs[0].target, '/admin/v1/directives');
  });

  test('roles: a viewer calling an operator action is refused and audited; repeated refusals are throttled', async () => {
    const v = await signIn(h.url, 'vera');
    const denied = await call(h.url, 'POST', '/directives', { session: v, body: SUSPEND });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error.type, 'forbidden');
    assert.match(denied.body.error.message, /the viewer role may not POST \/admin\/v1\/directives/);
    assert.equal((await call(h.url, 'GET', '/usage', { session: v })).status, 200, 'a viewer reads usage');
    assert.equal((await call(h.url, 'GET', '/audit', { session: v })).status, 403, 'a viewer does not read the audit log');
    const rec = await auditRecords(h.url, (r) => r.action === 'admin.denied' && r.actor === 'vera');
    assert.equal(rec[0].details.role, 'viewer');
    let last = 0;
    for (let i = 0; i < 5; i++) last = (await call(h.url, 'DELETE', '/keys/k1', { session: v })).status;
    assert.equal(last, 429, 'past maxDeniedPerMinute the answer is 429');

    const a = await signIn(h.url, 'audrey');
    assert.equal((await call(h.url, 'GET', '/audit?limit=5', { session: a })).status, 200, 'an auditor reads the audit log');
    assert.equal((await call(h.url, 'GET', '/console/audit-verify', { session: a })).body.ok, true);
    assert.equal((await call(h.url, 'GET', '/keys', { session: a })).status, 403, 'an auditor does not read keys');
    assert.equal((await call(h.url, 'GET', '/audit/text/req-1', { session: a })).status, 403, 'nor prompt text');
  });

  test('two-person control: a suspension waits for a second operator; self-approval is refused; then it takes effect', async () => {
    const openai = new OpenAI({ apiKey: h.keys.valid, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const ok = await openai.chat.completions.create({ model: 'lite', messages: [{ role: 'user', content: 'hello' }] });
    assert.ok(ok.choices[0]!.message.content);

    const alice = await signIn(h.url, 'alice');
    const bob = await signIn(h.url, 'bob');
    const held = await call(h.url, 'POST', '/directives', { session: alice, body: SUSPEND });
    assert.equal(held.status, 202, JSON.stringify(held.body));
    const approval = held.body.approval;
    assert.equal(approval.status, 'pending');
    assert.equal(approval.requestedBy, 'alice');
    assert.equal(approval.payload.by, 'alice', 'the body cannot assert another operator');
    assert.equal((await call(h.url, 'GET', '/directives?status=active', { token: ADMIN_TOKEN })).body.directives.length, 0, 'nothing issued yet');

    const badBody = await call(h.url, 'POST', '/directives', { session: alice, body: { ...SUSPEND, authority: '' } });
    assert.equal(badBody.status, 400);
    assert.match(badBody.body.error.message, /authority must not be empty/);
    const unknownModel = await call(h.url, 'POST', '/directives', { session: alice, body: { ...SUSPEND, models: ['no-such-model'] } });
    assert.equal(unknownModel.status, 400, 'a held request is checked against the catalogue when made, not only when approved');
    assert.deepEqual(unknownModel.body.error.issues.map((i: { path: string }) => i.path), ['models[0]']);

    const emergency = await call(h.url, 'POST', `/approvals/${approval.id}/emergency`, { session: alice, body: { reason: 'urgent' } });
    assert.equal(emergency.status, 403, 'emergency application is off unless configured');
    assert.equal(emergency.body.error.type, 'emergency_disabled');
    assert.equal((await auditRecords(h.url, (r) => r.action === 'approval.emergency_refused' && r.target === approval.id))[0].details.why, 'emergencies are not enabled');
    const self = await call(h.url, 'POST', `/approvals/${approval.id}/approve`, { session: alice, body: {} });
    assert.equal(self.status, 403);
    assert.equal(self.body.error.type, 'self_approval');
    assert.match(self.body.error.message, /a second operator must/);
    const selfRec = await auditRecords(h.url, (r) => r.action === 'approval.self_refused');
    assert.equal(selfRec[0].actor, 'alice');
    assert.equal(selfRec[0].target, approval.id);

    const pending = await call(h.url, 'GET', '/approvals?status=pending', { session: bob });
    assert.deepEqual(pending.body.approvals.map((a: { id: string }) => a.id), [approval.id]);
    const approved = await call(h.url, 'POST', `/approvals/${approval.id}/approve`, { session: bob, body: { note: 'checked the order' } });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.approval.status, 'approved');
    assert.equal(approved.body.directive.issuedBy, 'alice, approved by bob');
    const twice = await call(h.url, 'POST', `/approvals/${approval.id}/approve`, { session: bob, body: {} });
    assert.equal(twice.status, 409);
    assert.equal((await call(h.url, 'POST', '/approvals/apr-nope/approve', { session: bob, body: {} })).status, 404);

    // The directive reaches the request path through the store's change feed.
    const deadline = Date.now() + 10_000;
    let refused: any = null;
    while (!refused && Date.now() < deadline) {
      try {
        await openai.chat.completions.create({ model: 'lite', messages: [{ role: 'user', content: 'hello' }] });
        await new Promise((r) => setTimeout(r, 100));
      } catch (err) {
        refused = err;
      }
    }
    assert.ok(refused, 'the suspension takes effect');
    assert.equal(refused.status, 403);
    assert.equal(refused.code, 'directive_suspended');

    const recs = await auditRecords(h.url, (r) => r.action === 'approval.approved' || (r.action === 'admin.post' && r.target === `/admin/v1/approvals/${approval.id}/approve`), 2);
    assert.deepEqual(new Set(recs.map((r) => r.actor)), new Set(['bob']), 'the admin records carry the operator, not admin-api');
    // Non-suspending directives are issued at once, attributed to the signed-in operator.
    const route = await call(h.url, 'POST', '/directives', { session: bob, body: { ...SUSPEND, effect: 'require-licence', models: ['frontier'] } });
    assert.equal(route.status, 201, JSON.stringify(route.body));
    assert.equal(route.body.directive.issuedBy, 'bob');
    // Amending it into a suspension is held the same way, and applied only by a second operator.
    const rid = route.body.directive.id;
    const heldAmend = await call(h.url, 'PATCH', `/directives/${rid}`, { session: bob, body: { effect: 'suspend', why: 'the order now covers everyone' } });
    assert.equal(heldAmend.status, 202, JSON.stringify(heldAmend.body));
    assert.equal(heldAmend.body.approval.kind, 'directive.amend');
    assert.equal((await call(h.url, 'GET', `/directives/${rid}`, { token: ADMIN_TOKEN })).body.directive.effect, 'require-licence', 'not amended yet');
    const badAmend = await call(h.url, 'PATCH', `/directives/${rid}`, { session: bob, body: { effect: 'suspend' } });
    assert.equal(badAmend.status, 400, 'why is required');
    assert.equal((await call(h.url, 'POST', `/approvals/${heldAmend.body.approval.id}/approve`, { session: bob, body: {} })).status, 403, 'not by the requester');
    const amended = await call(h.url, 'POST', `/approvals/${heldAmend.body.approval.id}/approve`, { session: alice, body: {} });
    assert.equal(amended.status, 200, JSON.stringify(amended.body));
    assert.equal(amended.body.directive.id, rid);
    assert.equal(amended.body.directive.effect, 'suspend');
    // The bearer token keeps working, as the admin-role service identity.
    assert.equal((await call(h.url, 'GET', '/session', { token: ADMIN_TOKEN })).body.name, 'admin-api');
  });

  test('disabling an operator ends their sessions; signing out ends the session', async () => {
    const b = await signIn(h.url, 'bob');
    const r = await cli(['disable', 'bob', '--store', h.storeUrl]);
    assert.equal(r.code, 0, r.err);
    const after = await call(h.url, 'GET', '/directives', { session: b });
    assert.equal(after.status, 401);
    const login = await call(h.url, 'POST', '/session', { body: { name: 'bob', password: passwordOf('bob') } });
    assert.equal(login.status, 401);
    const a = await signIn(h.url, 'alice');
    assert.equal((await call(h.url, 'DELETE', '/session', { session: a })).status, 200);
    assert.equal((await call(h.url, 'GET', '/session', { session: a })).status, 401);
  });
});
