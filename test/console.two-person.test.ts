/**
 * Two-person control beyond issuing suspensions, against a real gateway: lifting a suspension waits for a second
 * operator; an operator's key revocations past the allowance within the window are held (the revoked key then stops
 * working on an OpenAI SDK request); the requester may apply a held change at once in an emergency, with a reason,
 * and a second operator must review it afterwards. Bad input: approving or reviewing one's own request, deciding
 * twice, unknown approval ids, an emergency without a reason or by someone other than the requester. Every step is
 * audited in the operator's name.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { join } from 'node:path';
import OpenAI from 'openai';
import { tempDir } from './support/config.ts';
import { ADMIN_TOKEN, addOperator, auditRecords, call, signIn, type Session } from './support/console.ts';
import { BACKENDS, startHarness, type Harness } from './support/harness.ts';

const SUSPEND = { models: ['lite'], population: {}, effect: 'suspend', authority: 'Test authority', reference: 'Order 7', why: 'test order' };

for (const backend of BACKENDS) describe(`console: two-person control for lifting, key revocations and emergencies (${backend} store)`, () => {
  let h: Harness;
  let alice: Session;
  let bob: Session;
  before(async () => {
    h = await startHarness({
      backend,
      extra: { audit: { path: join(tempDir(), 'audit.jsonl') }, console: { twoPersonControl: { suspend: true, liftSuspension: true, revokeKeysAbove: 2, revokeWindowSeconds: 3600, emergencyApply: true } } },
      env: { GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN },
    });
    await addOperator(h.storeUrl, 'alice', 'operator');
    await addOperator(h.storeUrl, 'bob', 'operator');
    alice = await signIn(h.url, 'alice');
    bob = await signIn(h.url, 'bob');
  });
  after(async () => h?.close());

  test('an emergency: the requester applies a held suspension at once with a reason; a second operator reviews it afterwards', async () => {
    const held = await call(h.url, 'POST', '/directives', { session: alice, body: SUSPEND });
    assert.equal(held.status, 202, JSON.stringify(held.body));
    const id = held.body.approval.id;

    const noReason = await call(h.url, 'POST', `/approvals/${id}/emergency`, { session: alice, body: {} });
    assert.equal(noReason.status, 400);
    assert.match(noReason.body.error.message, /an emergency needs a reason/);
    const blank = await call(h.url, 'POST', `/approvals/${id}/emergency`, { session: alice, body: { reason: '   ' } });
    assert.equal(blank.status, 400);
    const extra = await call(h.url, 'POST', `/approvals/${id}/emergency`, { session: alice, body: { reason: 'x', force: true } });
    assert.equal(extra.status, 400);
    assert.match(extra.body.error.message, /unknown field 'force'/);
    const notMine = await call(h.url, 'POST', `/approvals/${id}/emergency`, { session: bob, body: { reason: 'I say so' } });
    assert.equal(notMine.status, 403);
    assert.equal(notMine.body.error.type, 'not_requester');
    assert.equal((await call(h.url, 'POST', '/approvals/apr-nope/emergency', { session: alice, body: { reason: 'fire' } })).status, 404);
    assert.equal((await call(h.url, 'GET', '/directives?status=active', { token: ADMIN_TOKEN })).body.directives.length, 0, 'nothing applied by refused attempts');

    const applied = await call(h.url, 'POST', `/approvals/${id}/emergency`, { session: alice, body: { reason: 'order in force at noon; approver unreachable' } });
    assert.equal(applied.status, 200, JSON.stringify(applied.body));
    assert.equal(applied.body.approval.status, 'review-required');
    assert.equal(applied.body.approval.emergencyReason, 'order in force at noon; approver unreachable');
    assert.equal(applied.body.approval.resultId, applied.body.directive.id);
    assert.equal(applied.body.directive.issuedBy, 'alice (emergency)');
    assert.equal(applied.body.directive.effect, 'suspend');
    const again = await call(h.url, 'POST', `/approvals/${id}/emergency`, { session: alice, body: { reason: 'again' } });
    assert.equal(again.status, 409, 'applied once only');
    assert.equal((await call(h.url, 'POST', `/approvals/${id}/approve`, { session: bob, body: {} })).status, 409, 'no longer pending');

    const list = await call(h.url, 'GET', '/approvals?status=review-required', { session: bob });
    assert.deepEqual(list.body.approvals.map((a: { id: string }) => a.id), [id], 'on the after-the-fact review list');
    const selfReview = await call(h.url, 'POST', `/approvals/${id}/review`, { session: alice, body: {} });
    assert.equal(selfReview.status, 403);
    assert.equal(selfReview.body.error.type, 'self_review');
    assert.equal((await call(h.url, 'POST', '/approvals/apr-nope/review', { session: bob, body: {} })).status, 404);
    const reviewed = await call(h.url, 'POST', `/approvals/${id}/review`, { session: bob, body: { note: 'order checked: justified' } });
    assert.equal(reviewed.status, 200, JSON.stringify(reviewed.body));
    assert.deepEqual([reviewed.body.approval.status, reviewed.body.approval.reviewedBy, reviewed.body.approval.reviewNote], ['reviewed', 'bob', 'order checked: justified']);
    const twice = await call(h.url, 'POST', `/approvals/${id}/review`, { session: bob, body: {} });
    assert.equal(twice.status, 409);
    assert.equal((await call(h.url, 'GET', '/approvals?status=review-required', { session: bob })).body.approvals.length, 0);

    const recs = await auditRecords(h.url, (r) => r.target === id && ['approval.emergency_applied', 'approval.reviewed', 'approval.emergency_refused', 'approval.self_refused'].includes(r.action), 6);
    const byAction = (a: string) => recs.filter((r) => r.action === a);
    assert.equal(byAction('approval.emergency_applied').length, 1);
    assert.equal(byAction('approval.emergency_applied')[0].actor, 'alice');
    assert.equal(byAction('approval.emergency_applied')[0].details.reason, 'order in force at noon; approver unreachable');
    assert.equal(byAction('approval.reviewed')[0].actor, 'bob');
    assert.ok(byAction('approval.emergency_refused').length >= 4, 'refused emergencies are audited');
    assert.equal(byAction('approval.self_refused')[0].details.step, 'review');
  });

  test('lifting a suspension waits for a second operator; self-approval, a second approval and unknown ids are refused', async () => {
    const active = (await call(h.url, 'GET', '/directives?status=active', { token: ADMIN_TOKEN })).body.directives as { id: string; effect: string }[];
    const suspension = active.find((d) => d.effect === 'suspend')!;
    assert.ok(suspension, 'the suspension from the emergency is in force');
    const noWhy = await call(h.url, 'POST', `/directives/${suspension.id}/lift`, { session: alice, body: {} });
    assert.equal(noWhy.status, 400);
    assert.match(noWhy.body.error.message, /why/);
    const held = await call(h.url, 'POST', `/directives/${suspension.id}/lift`, { session: alice, body: { why: 'the order was withdrawn' } });
    assert.equal(held.status, 202, JSON.stringify(held.body));
    assert.equal(held.body.approval.kind, 'directive.lift');
    assert.deepEqual([held.body.approval.payload.id, held.body.approval.payload.by], [suspension.id, 'alice']);
    assert.equal((await call(h.url, 'GET', `/directives/${suspension.id}`, { token: ADMIN_TOKEN })).body.directive.status, 'active', 'not lifted yet');
    const id = held.body.approval.id;

    const self = await call(h.url, 'POST', `/approvals/${id}/approve`, { session: alice, body: {} });
    assert.equal(self.status, 403);
    assert.equal(self.body.error.type, 'self_approval');
    assert.equal((await call(h.url, 'POST', '/approvals/apr-unknown/approve', { session: bob, body: {} })).status, 404);
    const approved = await call(h.url, 'POST', `/approvals/${id}/approve`, { session: bob, body: { note: 'withdrawal confirmed' } });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.directive.status, 'lifted');
    assert.equal(approved.body.approval.resultId, suspension.id);
    const twice = await call(h.url, 'POST', `/approvals/${id}/approve`, { session: bob, body: {} });
    assert.equal(twice.status, 409);
    assert.match(twice.body.error.message, /already approved \(by bob\)/);
    const history = (await call(h.url, 'GET', `/directives/${suspension.id}`, { token: ADMIN_TOKEN })).body.history as { action: string; by: string }[];
    assert.equal(history.at(-1)!.action, 'lift');
    assert.equal(history.at(-1)!.by, 'alice, approved by bob');

    // Lifting what is not a suspension is not held.
    const route = await call(h.url, 'POST', '/directives', { session: bob, body: { ...SUSPEND, effect: 'require-licence', models: ['frontier'] } });
    assert.equal(route.status, 201, JSON.stringify(route.body));
    const lifted = await call(h.url, 'POST', `/directives/${route.body.directive.id}/lift`, { session: bob, body: { why: 'done' } });
    assert.equal(lifted.status, 200, JSON.stringify(lifted.body));
    assert.equal(lifted.body.directive.status, 'lifted');

    const recs = await auditRecords(h.url, (r) => r.target === id && ['approval.requested', 'approval.approved'].includes(r.action), 2);
    assert.deepEqual(recs.map((r) => [r.action, r.actor, r.details.kind]).sort(), [['approval.approved', 'bob', 'directive.lift'], ['approval.requested', 'alice', 'directive.lift']]);
  });

  test('key revocations past the allowance within the window are held until a second operator approves', async () => {
    const keys: { id: string; secret: string }[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await call(h.url, 'POST', '/keys', { token: ADMIN_TOKEN, body: { accountId: `acct-${i}` } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      keys.push({ id: r.body.key.id, secret: r.body.secret });
    }
    const revoke = (s: Session, id: string, body?: unknown) => call(h.url, 'DELETE', `/keys/${id}`, { session: s, ...(body !== undefined ? { body } : {}) });
    assert.equal((await revoke(alice, keys[0]!.id)).status, 200);
    assert.equal((await revoke(alice, 'key_nope')).status, 404, 'an unknown key is not counted');
    assert.equal((await revoke(alice, keys[0]!.id)).status, 409, 'nor one already revoked');
    assert.equal((await revoke(alice, keys[1]!.id, { reason: 'x', extra: 1 })).status, 400, 'nor a malformed call');
    assert.equal((await revoke(alice, keys[1]!.id, { reason: 'leaked' })).status, 200);

    const held = await revoke(alice, keys[2]!.id, { reason: 'leaked in a paste' });
    assert.equal(held.status, 202, JSON.stringify(held.body));
    assert.equal(held.body.approval.kind, 'keys.revoke');
    assert.deepEqual(held.body.approval.payload, { id: keys[2]!.id, reason: 'leaked in a paste' });
    assert.match(held.body.message, /revoked 2 key\(s\) within 3600 s \(the allowance is 2\)/);
    assert.equal((await call(h.url, 'GET', `/keys/${keys[2]!.id}`, { session: bob })).body.key.status, 'active', 'not revoked yet');
    const openai = new OpenAI({ apiKey: keys[2]!.secret, baseURL: `${h.url}/v1`, maxRetries: 0 });
    assert.ok((await openai.chat.completions.create({ model: 'lite', messages: [{ role: 'user', content: 'hello' }] })).choices[0]);

    // Bob has his own allowance.
    assert.equal((await revoke(bob, keys[3]!.id)).status, 200);

    const self = await call(h.url, 'POST', `/approvals/${held.body.approval.id}/approve`, { session: alice, body: {} });
    assert.equal(self.status, 403);
    const approved = await call(h.url, 'POST', `/approvals/${held.body.approval.id}/approve`, { session: bob, body: {} });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    assert.equal(approved.body.key.status, 'revoked');
    assert.match(approved.body.key.revokedReason, /^leaked in a paste \(alice, approved by bob; two-person approval apr-/);
    await assert.rejects(openai.chat.completions.create({ model: 'lite', messages: [{ role: 'user', content: 'hello' }] }), (e: { status?: number }) => e.status === 401);

    const heldAgain = await revoke(alice, keys[4]!.id);
    assert.equal(heldAgain.status, 202);
    const rejected = await call(h.url, 'POST', `/approvals/${heldAgain.body.approval.id}/reject`, { session: bob, body: { note: 'not this one' } });
    assert.equal(rejected.status, 200);
    assert.equal(rejected.body.approval.status, 'rejected');
    assert.equal((await call(h.url, 'POST', `/approvals/${heldAgain.body.approval.id}/approve`, { session: bob, body: {} })).status, 409);
    assert.equal((await call(h.url, 'GET', `/keys/${keys[4]!.id}`, { session: bob })).body.key.status, 'active');
    const recs = await auditRecords(h.url, (r) => r.target === heldAgain.body.approval.id && ['approval.requested', 'approval.rejected'].includes(r.action), 2);
    assert.deepEqual(recs.map((r) => [r.action, r.actor, r.details.kind]).sort(), [['approval.rejected', 'bob', 'keys.revoke'], ['approval.requested', 'alice', 'keys.revoke']]);
  });
});
