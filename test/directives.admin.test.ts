import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { configSchema as directivesConfig } from '../src/directives/config.ts';
import { registerDirectiveAdminRoutes } from '../src/directives/admin-routes.ts';
import { AccessControl } from '../src/policy/access-control.ts';
import { registerPolicyAdminRoutes } from '../src/policy/admin-routes.ts';
import { configSchema as policyConfig } from '../src/policy/config.ts';
import { ALL_MIGRATIONS } from '../src/server/migrations.ts';
import { openTestDb } from '../src/store/testing.ts';

const MODELS = ['frontier', 'frontier-cyber'];

async function setup() {
  const t = await openTestDb('sqlite', ALL_MIGRATIONS);
  const access = new AccessControl({ db: t.db, config: { policy: policyConfig.parse(undefined), directives: directivesConfig.parse({ pollIntervalMs: 20 }) }, models: MODELS });
  await access.start();
  const app = Fastify();
  registerDirectiveAdminRoutes(app, { access });
  registerPolicyAdminRoutes(app, { access, principalOf: (id) => (id === 'k-cn' ? { keyId: 'k-cn', accountId: 'a', orgId: null, nationalities: ['CN'], residence: 'US', kyc: 'basic', programmes: [], tier: 'general', staff: false } : undefined) });
  await app.ready();
  return {
    app,
    access,
    close: async () => {
      await app.close();
      await access.close();
      await t.cleanup();
    },
  };
}

test('directives admin API: issue, list, show with history, amend, lift, precise errors', async () => {
  const { app, access, close } = await setup();
  try {
    const issue = await app.inject({ method: 'POST', url: '/admin/v1/directives', payload: { id: 'D1', models: ['frontier'], population: { nationalities: { noneOf: ['US'] } }, effect: 'suspend', authority: 'BIS', reference: 'Order 17', by: 'alice', why: 'order' } });
    assert.equal(issue.statusCode, 201, issue.body);
    assert.equal(issue.json().directive.state, 'in-force');

    const bad = await app.inject({ method: 'POST', url: '/admin/v1/directives', payload: { models: ['frontier', 'nope'], population: { nationality: { anyOf: ['UK'] } }, effect: 'suspend', authority: 'BIS', reference: 'x', by: 'a', why: 'b', colour: 1 } });
    assert.equal(bad.statusCode, 400);
    const paths = bad.json().error.issues.map((i: { path: string }) => i.path);
    assert.deepEqual(paths, ['colour']);
    const bad2 = await app.inject({ method: 'POST', url: '/admin/v1/directives', payload: { models: ['frontier', 'nope'], population: { nationality: { anyOf: ['UK'] } }, effect: 'suspend', authority: 'BIS', reference: 'x', by: 'a', why: 'b' } });
    assert.equal(bad2.statusCode, 400);
    assert.deepEqual(bad2.json().error.issues.map((i: { path: string }) => i.path).sort(), ['models[1]', 'population.nationality.anyOf[0]']);
    assert.match(bad2.json().error.message, /use 'GB'/);
    const nobody = await app.inject({ method: 'POST', url: '/admin/v1/directives', payload: { models: ['frontier'], population: { programme: { anyOf: [] } }, effect: 'suspend', authority: 'BIS', reference: 'x', by: 'a', why: 'b' } });
    assert.match(nobody.json().error.message, /population\.programme\.anyOf: this predicate can match nobody/);

    const amend = await app.inject({ method: 'PATCH', url: '/admin/v1/directives/D1', payload: { models: ['frontier', 'frontier-cyber'], by: 'bob', why: 'widen' } });
    assert.equal(amend.statusCode, 200, amend.body);
    const missing = await app.inject({ method: 'PATCH', url: '/admin/v1/directives/D9', payload: { reference: 'x', by: 'bob', why: 'w' } });
    assert.equal(missing.statusCode, 404);

    await access.refresh();
    const explain = await app.inject({ method: 'POST', url: '/admin/v1/policy/explain', payload: { keyId: 'k-cn', model: 'frontier-cyber' } });
    assert.equal(explain.statusCode, 200, explain.body);
    assert.equal(explain.json().explanation.decidedBy, 'directive D1');
    assert.equal(explain.json().explanation.verdict.code, 'directive_suspended');

    const lift = await app.inject({ method: 'POST', url: '/admin/v1/directives/D1/lift', payload: { by: 'carol', why: 'rescinded' } });
    assert.equal(lift.json().directive.state, 'lifted');
    const again = await app.inject({ method: 'POST', url: '/admin/v1/directives/D1/lift', payload: { by: 'carol', why: 'again' } });
    assert.equal(again.statusCode, 409);
    const show = await app.inject({ method: 'GET', url: '/admin/v1/directives/D1' });
    assert.deepEqual(show.json().history.map((h: { action: string }) => h.action), ['issue', 'amend', 'lift']);
    const list = await app.inject({ method: 'GET', url: '/admin/v1/directives?status=lifted' });
    assert.equal(list.json().directives.length, 1);
    const badQuery = await app.inject({ method: 'GET', url: '/admin/v1/directives?state=x' });
    assert.equal(badQuery.statusCode, 400);
    await access.refresh();
    const after = await app.inject({ method: 'POST', url: '/admin/v1/policy/explain', payload: { principal: { nationalities: ['CN'] }, model: 'frontier-cyber' } });
    assert.equal(after.json().explanation.verdict.action, 'allow');
  } finally {
    await close();
  }
});

test('licences admin API: grant, list, get, revoke, errors', async () => {
  const { app, close } = await setup();
  try {
    const grant = await app.inject({ method: 'POST', url: '/admin/v1/licences', payload: { id: 'L1', licensee: { org: 'labco' }, models: ['frontier'], nationalities: ['group:ear-d1'], validFrom: '2026-01-01T00:00:00Z', validTo: '2030-01-01T00:00:00Z', reference: 'D-1', authority: 'BIS', by: 'ops' } });
    assert.equal(grant.statusCode, 201, grant.body);
    const dup = await app.inject({ method: 'POST', url: '/admin/v1/licences', payload: { id: 'L1', licensee: { org: 'labco' }, models: ['frontier'], nationalities: ['CN'], validFrom: 0, validTo: 5, reference: 'D-1', authority: 'BIS', by: 'ops' } });
    assert.equal(dup.statusCode, 400);
    const bad = await app.inject({ method: 'POST', url: '/admin/v1/licences', payload: { licensee: { org: 'labco' }, models: ['frontier'], nationalities: ['group:nope'], validFrom: 10, validTo: 5, reference: 'D-1', authority: 'BIS', by: 'ops' } });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().error.message, /validTo/);
    assert.equal((await app.inject({ method: 'GET', url: '/admin/v1/licences?org=labco' })).json().licences.length, 1);
    assert.equal((await app.inject({ method: 'GET', url: '/admin/v1/licences/L1' })).json().licence.reference, 'D-1');
    assert.equal((await app.inject({ method: 'GET', url: '/admin/v1/licences/L2' })).statusCode, 404);
    const noWhy = await app.inject({ method: 'DELETE', url: '/admin/v1/licences/L1', payload: { by: 'ops' } });
    assert.equal(noWhy.statusCode, 400);
    assert.match(noWhy.json().error.message, /why: is required/);
    const revoke = await app.inject({ method: 'DELETE', url: '/admin/v1/licences/L1', payload: { by: 'ops', why: 'withdrawn' } });
    assert.equal(revoke.statusCode, 200);
    assert.ok(revoke.json().licence.revokedAt > 0);
    const explainBad = await app.inject({ method: 'POST', url: '/admin/v1/policy/explain', payload: { model: 'frontier' } });
    assert.equal(explainBad.statusCode, 400);
    assert.match(explainBad.json().error.message, /exactly one of keyId, principal/);
  } finally {
    await close();
  }
});
