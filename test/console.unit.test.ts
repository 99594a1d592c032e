/**
 * The console's parts on a real store: password hashing, session timeouts (idle, absolute, disabled and expired
 * operators), approvals (self-approval, a race between two approvers, expiry), the role table, and the admin hook
 * on a gateway with no admin token (sessions work; everything else answers as before).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Fastify from 'fastify';
import { ApprovalError, ApprovalRepository } from '../src/console/approvals.ts';
import { callerOf, operatorAuthHook } from '../src/console/auth.ts';
import { hashPassword, OperatorRepository, verifyPassword } from '../src/console/operators.ts';
import { roleFromClaims } from '../src/console/oidc.ts';
import { permits } from '../src/console/roles.ts';
import { SessionStore } from '../src/console/sessions.ts';
import { ALL_MIGRATIONS } from '../src/server/migrations.ts';
import { openTestDb } from '../src/store/testing.ts';

test('scrypt hashes carry their parameters, are salted, and verify only the right password', async () => {
  const a = await hashPassword('correct horse battery');
  const b = await hashPassword('correct horse battery');
  assert.match(a, /^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  assert.notEqual(a, b, 'salted');
  assert.equal(await verifyPassword('correct horse battery', a), true);
  assert.equal(await verifyPassword('correct horse batterY', a), false);
  assert.equal(await verifyPassword('x', 'plain-text-password'), false, 'a malformed stored hash never verifies');
});

test('sessions end when idle, at the absolute limit, when the operator is disabled or expires', async () => {
  const t = await openTestDb('sqlite', ALL_MIGRATIONS);
  try {
    let now = 1_000_000;
    const clock = () => now;
    const ops = new OperatorRepository(t.db, clock);
    const sessions = new SessionStore(t.db, { idleMs: 60_000, absoluteMs: 300_000 }, clock);
    const alice = await ops.add({ name: 'alice', role: 'operator', password: 'a long password 1', by: 'test' });
    const tmp = await ops.add({ name: 'tmp', role: 'auditor', password: 'a long password 2', expiresAt: now + 100_000, by: 'test' });

    const s1 = await sessions.create(alice);
    for (let i = 0; i < 5; i++) {
      now += 50_000; // active, just inside the idle timeout each time
      assert.equal((await sessions.lookup(s1.token)).ok, true, `active at +${i}`);
    }
    now += 50_000; // 300 s after sign-in
    assert.deepEqual(await sessions.lookup(s1.token), { ok: false, reason: 'absolute' });

    const s2 = await sessions.create(alice);
    now += 61_000;
    assert.deepEqual(await sessions.lookup(s2.token), { ok: false, reason: 'idle' });
    assert.deepEqual(await sessions.lookup(s2.token), { ok: false, reason: 'ended' });

    now = 1_000_000;
    const s3 = await sessions.create(tmp);
    now += 100_000;
    assert.deepEqual(await sessions.lookup(s3.token), { ok: false, reason: 'operator-expired' });
    assert.deepEqual(await ops.authenticate('tmp', 'a long password 2'), { ok: false, reason: 'expired' });

    const s4 = await sessions.create(alice);
    await ops.disable('alice');
    assert.deepEqual(await sessions.lookup(s4.token), { ok: false, reason: 'ended' });
    assert.deepEqual(await ops.authenticate('alice', 'a long password 1'), { ok: false, reason: 'disabled' });
    assert.deepEqual(await sessions.lookup('not-a-token'), { ok: false, reason: 'unknown' });
    assert.deepEqual(await ops.authenticate('nobody', 'whatever'), { ok: false, reason: 'unknown' });
  } finally {
    await t.cleanup();
  }
});

test('approvals: self-approval refused, one of two concurrent approvers wins, unapproved requests expire', async () => {
  const t = await openTestDb('sqlite', ALL_MIGRATIONS);
  try {
    let now = 5_000;
    const repo = new ApprovalRepository(t.db, 10_000, () => now);
    const a = await repo.request('directive.issue', { models: ['m'] }, 'alice');
    await assert.rejects(repo.decide(a.id, 'alice', 'approved', null), (e: ApprovalError) => e.status === 403 && e.type === 'self_approval');
    const results = await Promise.allSettled([repo.decide(a.id, 'bob', 'approved', null), repo.decide(a.id, 'carol', 'approved', null)]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, 'exactly one approval wins');
    const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.equal((lost.reason as ApprovalError).status, 409);
    const b = await repo.request('directive.issue', { models: ['m'] }, 'alice');
    now += 10_000;
    assert.equal((await repo.get(b.id))!.status, 'expired');
    await assert.rejects(repo.decide(b.id, 'bob', 'approved', null), (e: ApprovalError) => e.status === 409 && /expired/.test(e.message));
    assert.deepEqual((await repo.list('pending')).length, 0);
  } finally {
    await t.cleanup();
  }
});

test('approvals: an emergency is the requester\'s alone and awaits review by another; revocations are counted per operator in the window', async () => {
  const t = await openTestDb('sqlite', ALL_MIGRATIONS);
  try {
    let now = 5_000;
    const repo = new ApprovalRepository(t.db, 60_000, () => now);
    const a = await repo.request('directive.lift', { id: 'd1', by: 'alice', why: 'w' }, 'alice');
    await assert.rejects(repo.emergency(a.id, 'bob', 'fire'), (e: ApprovalError) => e.status === 403 && e.type === 'not_requester');
    await assert.rejects(repo.review(a.id, 'bob', null), (e: ApprovalError) => e.status === 409 && /pending/.test(e.message));
    const applied = await repo.emergency(a.id, 'alice', 'fire');
    assert.deepEqual([applied.status, applied.decidedBy, applied.emergencyReason], ['review-required', 'alice', 'fire']);
    await assert.rejects(repo.decide(a.id, 'bob', 'approved', null), (e: ApprovalError) => e.status === 409);
    await assert.rejects(repo.review(a.id, 'alice', null), (e: ApprovalError) => e.status === 403 && e.type === 'self_review');
    const results = await Promise.allSettled([repo.review(a.id, 'bob', 'ok'), repo.review(a.id, 'carol', 'ok')]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, 'exactly one review wins');
    assert.equal((await repo.get(a.id))!.status, 'reviewed');
    await assert.rejects(repo.review('apr-none', 'bob', null), (e: ApprovalError) => e.status === 404);

    const r1 = await repo.reserveRevocation('alice', 'k1', 1000);
    const r2 = await repo.reserveRevocation('alice', 'k2', 1000);
    assert.deepEqual([r1.before, r2.before], [0, 1]);
    assert.equal((await repo.reserveRevocation('bob', 'k3', 1000)).before, 0, 'each operator has their own count');
    await repo.releaseRevocation(r2.id);
    const r3 = await repo.reserveRevocation('alice', 'k2', 1000);
    assert.equal(r3.before, 1, 'a released reservation does not count');
    now += 1000;
    assert.equal((await repo.reserveRevocation('alice', 'k4', 1000)).before, 0, 'revocations older than the window do not count');
  } finally {
    await t.cleanup();
  }
});

test('roles: what each may call', () => {
  const cases: [string, string, string, boolean][] = [
    ['viewer', 'GET', '/usage', true],
    ['viewer', 'POST', '/directives', false],
    ['viewer', 'GET', '/audit', false],
    ['analyst', 'GET', '/audit', true],
    ['analyst', 'POST', '/replay', true],
    ['analyst', 'POST', '/directives', false],
    ['analyst', 'GET', '/audit/text/r1', false],
    ['operator', 'POST', '/directives', true],
    ['operator', 'POST', '/approvals/a1/approve', true],
    ['operator', 'POST', '/approvals/a1/emergency', true],
    ['operator', 'POST', '/approvals/a1/review', true],
    ['analyst', 'POST', '/approvals/a1/review', false],
    ['operator', 'GET', '/audit/text/r1', false],
    ['admin', 'GET', '/audit/text/r1', true],
    ['auditor', 'GET', '/audit', true],
    ['auditor', 'GET', '/keys', false],
    ['auditor', 'GET', '/usage', false],
    ['auditor', 'POST', '/approvals/a1/approve', false],
    ['analyst', 'GET', '/console/models', true],
    ['viewer', 'GET', '/console/models', false],
  ];
  for (const [role, method, path, expected] of cases) assert.equal(permits(role as never, method, path), expected, `${role} ${method} ${path}`);
});

test('with no admin token configured, sessions still work and everything else answers 404 as before', async () => {
  const t = await openTestDb('sqlite', ALL_MIGRATIONS);
  const app = Fastify();
  try {
    const ops = new OperatorRepository(t.db);
    const sessions = new SessionStore(t.db, { idleMs: 60_000, absoluteMs: 600_000 });
    const s = await sessions.create(await ops.add({ name: 'vera', role: 'viewer', password: 'a long password 3', by: 'test' }));
    const records: string[] = [];
    app.addHook('onRequest', operatorAuthHook({ adminToken: () => undefined, sessions, recordAdmin: (action) => void records.push(action), maxDeniedPerMinute: 10 }));
    app.get('/admin/v1/usage', async (request) => ({ who: callerOf(request)!.name }));
    const none = await app.inject({ url: '/admin/v1/usage' });
    assert.equal(none.statusCode, 404);
    assert.equal(none.json().error.type, 'admin_disabled');
    assert.equal((await app.inject({ url: '/admin/v1/usage', headers: { authorization: 'Bearer x' } })).statusCode, 404);
    const ok = await app.inject({ url: '/admin/v1/usage', headers: { cookie: `other=1; gh_session=${s.token}` } });
    assert.deepEqual(ok.json(), { who: 'vera' });
    assert.deepEqual(records, []);
  } finally {
    await app.close();
    await t.cleanup();
  }
});

test('single sign-on role mapping: string or list claims, the most privileged match, auditor only alone', () => {
  const map = { ops: 'operator', dash: 'viewer', admins: 'admin', audit: 'auditor', analysts: 'analyst' } as const;
  assert.deepEqual(roleFromClaims({ groups: ['x', 'dash', 'ops'] }, 'groups', map), { ok: true, role: 'operator', matched: ['dash', 'ops'] });
  assert.deepEqual(roleFromClaims({ groups: 'analysts' }, 'groups', map), { ok: true, role: 'analyst', matched: ['analysts'] });
  assert.deepEqual(roleFromClaims({ roles: ['admins', 'dash'] }, 'roles', map), { ok: true, role: 'admin', matched: ['admins', 'dash'] });
  assert.deepEqual(roleFromClaims({ groups: ['audit'] }, 'groups', map), { ok: true, role: 'auditor', matched: ['audit'] });
  assert.deepEqual(roleFromClaims({ groups: ['audit', 'dash'] }, 'groups', map), { ok: false, reason: 'conflicting-roles', values: ['audit', 'dash'] });
  assert.deepEqual(roleFromClaims({ groups: ['other', 7] }, 'groups', map), { ok: false, reason: 'no-role', values: ['other'] });
  assert.deepEqual(roleFromClaims({}, 'groups', map), { ok: false, reason: 'no-claim', values: [] });
  // Inherited object properties are not claim values that map.
  assert.deepEqual(roleFromClaims({ groups: ['constructor', 'toString'] }, 'groups', map), { ok: false, reason: 'no-role', values: ['constructor', 'toString'] });
});
