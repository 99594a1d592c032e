/**
 * Ring review on the admin API, against a real gateway and store: a ring made through the gateway (accounts sharing
 * a card and a prompt template, driven with the openai SDK) is listed with its level; a viewer may not decide, an
 * unknown ring or a bad decision is a 4xx; an analyst's dismissal is stored as a label, audited in the analyst's
 * name, lifts the members' degradation (and holds over a new analysis); deciding twice is a 409. The decision rules
 * themselves (approve lifts caps, downgrade steps down) are checked on the pure functions.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { applyReviews, type AccountAction } from '../src/abuse/gate.ts';
import { reviewAction } from '../src/abuse/reviews.ts';
import { tempDir } from './support/config.ts';
import { ADMIN_TOKEN, addOperator, auditRecords, call, signIn } from './support/console.ts';
import { BACKENDS, startHarness, type Harness } from './support/harness.ts';
import { RING_CONFIG, RING_SIZE, makeRing, served } from './support/abuse.ts';

describe('abuse: review decisions (pure)', () => {
  test('approve keeps the ring level, downgrade steps below it, dismiss clears; bad combinations are refused', () => {
    assert.equal(reviewAction('degrade', 'approve'), 'degrade');
    assert.equal(reviewAction('degrade', 'downgrade'), 'require-kyc');
    assert.equal(reviewAction('suspend', 'downgrade', 'flag'), 'flag');
    assert.equal(reviewAction('degrade', 'dismiss'), 'none');
    assert.match(reviewAction('degrade', 'downgrade', 'suspend'), /not below/);
    assert.match(reviewAction('flag', 'downgrade'), /nothing to downgrade/);
    assert.match(reviewAction('degrade', 'downgrade', 'none'), /dismiss/);
    assert.match(reviewAction('degrade', 'approve', 'flag'), /only a downgrade/);
  });
  test('a review holds over the detected actions for the members it names', () => {
    const detected = new Map<string, AccountAction>([
      ['a', { action: 'flag', ringId: 'ring-a', score: 0.7, reasons: ['weakly linked: capped at flag'] }],
      ['b', { action: 'degrade', ringId: 'ring-a', score: 0.7, reasons: [] }],
      ['c', { action: 'degrade', ringId: 'ring-c', score: 0.6, reasons: [] }],
    ]);
    const out = applyReviews(detected, [
      { ringId: 'ring-a', action: 'degrade', members: ['a', 'b'], reason: 'approved' },
      { ringId: 'ring-c', action: 'none', members: ['c'], reason: 'dismissed' },
    ]);
    assert.equal(out.get('a')?.action, 'degrade', 'approval lifts the cap');
    assert.equal(out.get('b')?.action, 'degrade');
    assert.equal(out.has('c'), false, 'dismissal clears');
    assert.equal(detected.get('c')?.action, 'degrade', 'the detected actions are not changed');
  });
});

for (const backend of BACKENDS) describe(`abuse: ring review queue on the admin API (${backend} store)`, () => {
  let h: Harness;
  let secrets: string[];
  before(async () => {
    h = await startHarness({ backend, env: { GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN }, extra: { audit: { path: join(tempDir(), 'audit.jsonl') }, abuse: RING_CONFIG } });
    await addOperator(h.storeUrl, 'ana', 'analyst');
    await addOperator(h.storeUrl, 'vera', 'viewer');
    secrets = await makeRing(h);
  });
  after(async () => h?.close());

  test('list → refusals → dismiss → audit record and label → the members are served again; a second decision is 409', async () => {
    const ana = await signIn(h.url, 'ana');
    const list = await call(h.url, 'GET', '/abuse/rings', { session: ana });
    assert.equal(list.status, 200);
    assert.equal(list.body.count, 1, JSON.stringify(list.body));
    const ring = list.body.rings[0];
    assert.deepEqual([...ring.members].sort(), Array.from({ length: RING_SIZE }, (_, i) => `harvest-${i}`));
    assert.equal(ring.level, 'degrade');
    assert.equal(ring.decision, null);
    assert.ok(ring.evidence.some((e: { signal: string }) => e.signal === 'shared_payment'));
    assert.ok(Array.isArray(ring.timeline));
    assert.equal(await served(h, secrets[0]!, 'Think step by step: one more task.'), 'lite');

    const vera = await signIn(h.url, 'vera');
    const denied = await call(h.url, 'POST', `/abuse/rings/${ring.id}/review`, { session: vera, body: { decision: 'dismiss' } });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error.type, 'forbidden');
    const deniedRec = await auditRecords(h.url, (r) => r.action === 'admin.denied' && r.actor === 'vera');
    assert.equal(deniedRec.length, 1);

    const unknown = await call(h.url, 'POST', '/abuse/rings/ring-nobody/review', { session: ana, body: { decision: 'dismiss' } });
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.error.message, /no ring 'ring-nobody'/);
    const badDecision = await call(h.url, 'POST', `/abuse/rings/${ring.id}/review`, { session: ana, body: { decision: 'ban' } });
    assert.equal(badDecision.status, 400);
    assert.match(badDecision.body.error.message, /\$\.decision: expected one of approve, downgrade, dismiss/);
    const upward = await call(h.url, 'POST', `/abuse/rings/${ring.id}/review`, { session: ana, body: { decision: 'downgrade', action: 'suspend' } });
    assert.equal(upward.status, 400);
    assert.match(upward.body.error.message, /not below the ring's action 'degrade'/);
    const noCsrf = await call(h.url, 'POST', `/abuse/rings/${ring.id}/review`, { session: ana, csrf: null, body: { decision: 'dismiss' } });
    assert.equal(noCsrf.status, 403);
    assert.equal((await call(h.url, 'GET', '/abuse/reviews', { session: ana })).body.count, 0, 'refused calls store nothing');

    const ok = await call(h.url, 'POST', `/abuse/rings/${ring.id}/review`, { session: ana, body: { decision: 'dismiss', note: 'one customer load-testing' } });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.deepEqual([ok.body.review.decision, ok.body.review.label, ok.body.review.action, ok.body.review.decidedBy], ['dismiss', 'not-ring', 'none', 'ana']);

    const rec = await auditRecords(h.url, (r) => r.action === 'abuse.ring_reviewed' && r.target === ring.id);
    assert.equal(rec.length, 1);
    assert.equal(rec[0].actor, 'ana');
    assert.equal(rec[0].details.decision, 'dismiss');
    assert.equal(rec[0].details.label, 'not-ring');
    assert.deepEqual([...rec[0].details.members].sort(), [...ring.members].sort());

    const labels = await call(h.url, 'GET', '/abuse/reviews', { session: ana });
    assert.equal(labels.body.count, 1);
    assert.deepEqual([labels.body.reviews[0].ringId, labels.body.reviews[0].label, labels.body.reviews[0].note], [ring.id, 'not-ring', 'one customer load-testing']);
    assert.deepEqual(labels.body.reviews[0].signals, ring.evidence.map((e: { signal: string }) => e.signal));
    const shown = await call(h.url, 'GET', `/abuse/rings/${ring.id}`, { session: ana });
    assert.equal(shown.body.ring.decision.decision, 'dismiss');

    assert.equal(await served(h, secrets[0]!, 'Think step by step: one more task.'), 'frontier', 'dismissed: served normally');
    await h.abuse!.analyseNow();
    assert.equal(h.abuse!.rings().length, 1, 'the detector still finds the ring');
    assert.equal(await served(h, secrets[1]!, 'Think step by step: another task.'), 'frontier', 'the dismissal holds over a new analysis');
    const lifted = await auditRecords(h.url, (r) => r.action === 'abuse.action' && r.details?.next === 'none', RING_SIZE);
    assert.equal(lifted.length, RING_SIZE);
    assert.match(lifted[0].details.reasons[0], new RegExp(`ring ${ring.id} reviewed by ana: dismiss → none`));

    const twice = await call(h.url, 'POST', `/abuse/rings/${ring.id}/review`, { token: ADMIN_TOKEN, body: { decision: 'approve' } });
    assert.equal(twice.status, 409);
    assert.equal(twice.body.error.type, 'already_reviewed');
    assert.match(twice.body.error.message, /dismiss by ana/);
  });
});
