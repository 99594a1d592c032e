import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { BACKENDS, openTestDb, type TestDb } from '../src/store/testing.ts';
import { ALL_MIGRATIONS } from '../src/server/migrations.ts';
import { KeyRepository } from '../src/identity/keys.ts';
import { KeyRegistry } from '../src/identity/registry.ts';
import { registerKeyAdminRoutes } from '../src/identity/admin-routes.ts';
import { adminAuthHook, bearerToken } from '../src/admin/auth.ts';

const TOKEN = 'admin-token-for-tests-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

describe('adminAuthHook', () => {
  let token: string | undefined = TOKEN;
  const app = Fastify();
  app.addHook('onRequest', adminAuthHook(() => token));
  app.get('/admin/v1/ping', async () => ({ pong: true }));
  after(() => app.close());

  test('accepts the right bearer token only', async () => {
    assert.equal((await app.inject({ url: '/admin/v1/ping', headers: auth })).statusCode, 200);
    assert.equal((await app.inject({ url: '/admin/v1/ping', headers: { authorization: `bearer ${TOKEN}` } })).statusCode, 200);
    const missing = await app.inject({ url: '/admin/v1/ping' });
    assert.equal(missing.statusCode, 401);
    assert.equal(missing.headers['www-authenticate'], 'Bearer realm="gatehouse-admin"');
    assert.deepEqual(missing.json(), { error: { type: 'unauthorized', message: 'missing admin token: send Authorization: Bearer <admin token>' } });
    for (const header of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, TOKEN, `Basic ${TOKEN}`, 'Bearer ']) {
      const r = await app.inject({ url: '/admin/v1/ping', headers: { authorization: header } });
      assert.equal(r.statusCode, 401, header);
      assert.ok(!r.body.includes(TOKEN), 'never echoes the token');
    }
  });

  test('is 404 when no admin token is configured, and follows token rotation', async () => {
    token = undefined;
    const r = await app.inject({ url: '/admin/v1/ping', headers: auth });
    assert.equal(r.statusCode, 404);
    assert.equal(r.json().error.type, 'admin_disabled');
    token = 'rotated';
    assert.equal((await app.inject({ url: '/admin/v1/ping', headers: auth })).statusCode, 401);
    assert.equal((await app.inject({ url: '/admin/v1/ping', headers: { authorization: 'Bearer rotated' } })).statusCode, 200);
    token = TOKEN;
  });

  test('bearerToken parses strictly', () => {
    assert.equal(bearerToken('Bearer abc'), 'abc');
    assert.equal(bearerToken('BEARER  abc '), 'abc');
    assert.equal(bearerToken('Bearer a b'), undefined);
    assert.equal(bearerToken(undefined), undefined);
  });
});

for (const backend of BACKENDS) {
  describe(`key admin routes on ${backend}`, () => {
    let t: TestDb;
    let app: FastifyInstance;
    let repo: KeyRepository;
    before(async () => {
      t = await openTestDb(backend, ALL_MIGRATIONS);
      repo = new KeyRepository(t.db);
      app = Fastify();
      app.addHook('onRequest', adminAuthHook(() => TOKEN));
      registerKeyAdminRoutes(app, { db: t.db, keys: repo });
      await app.ready();
    });
    after(async () => {
      await app.close();
      await t.cleanup();
    });

    test('create returns the secret once; get/list/patch/delete never return it or its hash', async () => {
      const created = await app.inject({
        method: 'POST',
        url: '/admin/v1/keys',
        headers: auth,
        payload: { accountId: 'acct-1', nationalities: ['us'], kyc: 'verified-identity', programmes: ['critical-infrastructure-defenders'] },
      });
      assert.equal(created.statusCode, 201, created.body);
      assert.equal(created.headers['cache-control'], 'no-store');
      const { key, secret } = created.json() as { key: { id: string; nationalities: string[] }; secret: string };
      assert.match(secret, /^gh_/);
      assert.deepEqual(key.nationalities, ['US']);
      const [row] = await t.db.query<{ hash: string }>('SELECT hash FROM identity_keys WHERE id = $1', [key.id]);

      const responses = [
        await app.inject({ url: '/admin/v1/keys', headers: auth }),
        await app.inject({ url: `/admin/v1/keys/${key.id}`, headers: auth }),
        await app.inject({ method: 'PATCH', url: `/admin/v1/keys/${key.id}`, headers: auth, payload: { residence: 'CA', tier: 'verified' } }),
        await app.inject({ method: 'DELETE', url: `/admin/v1/keys/${key.id}`, headers: auth, payload: { reason: 'rotated' } }),
      ];
      for (const r of responses) {
        assert.equal(r.statusCode, 200, r.body);
        assert.ok(!r.body.includes(secret) && !r.body.includes(row!.hash), 'no secret or hash in responses');
      }
      assert.deepEqual((responses[0]!.json() as { keys: Array<{ id: string }> }).keys.map((k) => k.id), [key.id]);
      assert.equal(responses[2]!.json().key.residence, 'CA');
      assert.equal(responses[3]!.json().key.status, 'revoked');
      assert.equal(responses[3]!.json().key.revokedReason, 'rotated');
      const registry = await KeyRegistry.load(repo);
      assert.deepEqual(registry.lookup(secret), { ok: false, reason: 'revoked' });

      const again = await app.inject({ method: 'DELETE', url: `/admin/v1/keys/${key.id}`, headers: auth });
      assert.equal(again.statusCode, 409);
      assert.equal(again.json().error.type, 'conflict');
      const filtered = await app.inject({ url: '/admin/v1/keys?status=active', headers: auth });
      assert.deepEqual(filtered.json(), { keys: [] });
    });

    test('validation errors name the JSON path; bad JSON, unknown ids and bad queries are precise', async () => {
      const bad = await app.inject({ method: 'POST', url: '/admin/v1/keys', headers: auth, payload: { accountId: 'a', nationalities: ['US', 'UK'], kyc: 'gold', extra: true } });
      assert.equal(bad.statusCode, 400);
      const body = bad.json() as { error: { type: string; message: string; issues: Array<{ path: string; message: string }> } };
      assert.equal(body.error.type, 'invalid_request');
      assert.deepEqual(body.error.issues.map((i) => i.path), ['nationalities[1]', 'kyc', '(root)']);
      assert.match(body.error.message, /^nationalities\[1\]: 'UK' is not an officially assigned ISO 3166-1 alpha-2 code: reserved for the United Kingdom; use 'GB'; kyc: /);

      const malformed = await app.inject({ method: 'POST', url: '/admin/v1/keys', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"accountId":' });
      assert.equal(malformed.statusCode, 400);
      assert.equal(malformed.json().error.type, 'invalid_request');
      assert.match(malformed.json().error.message, /JSON/);

      const noBody = await app.inject({ method: 'POST', url: '/admin/v1/keys', headers: auth });
      assert.equal(noBody.statusCode, 400);
      assert.match(noBody.json().error.message, /\(root\): expected a JSON object body/);

      const notFound = await app.inject({ url: '/admin/v1/keys/key_missing', headers: auth });
      assert.equal(notFound.statusCode, 404);
      assert.deepEqual(notFound.json(), { error: { type: 'not_found', message: "no key with id 'key_missing'" } });
      assert.equal((await app.inject({ method: 'PATCH', url: '/admin/v1/keys/key_missing', headers: auth, payload: { tier: 'x' } })).statusCode, 404);

      const emptyPatch = await app.inject({ method: 'PATCH', url: '/admin/v1/keys/key_missing', headers: auth, payload: {} });
      assert.equal(emptyPatch.statusCode, 400);

      const badQuery = await app.inject({ url: '/admin/v1/keys?status=gone&colour=red', headers: auth });
      assert.equal(badQuery.statusCode, 400);
      assert.match(badQuery.json().error.message, /query\.colour: unknown query parameter/);

      const unauthenticated = await app.inject({ method: 'POST', url: '/admin/v1/keys', payload: { accountId: 'sneaky' } });
      assert.equal(unauthenticated.statusCode, 401);
      assert.deepEqual(await repo.list({ accountId: 'sneaky' }), [], 'nothing created without auth');
    });
  });
}

test('routes mount relative to an instance already under /admin/v1', async () => {
  const t = await openTestDb('sqlite', ALL_MIGRATIONS);
  const app = Fastify();
  await app.register(async (admin) => {
    registerKeyAdminRoutes(admin, { keys: new KeyRepository(t.db) });
  }, { prefix: '/admin/v1' });
  try {
    const r = await app.inject({ method: 'POST', url: '/admin/v1/keys', payload: { accountId: 'a' } });
    assert.equal(r.statusCode, 201, r.body);
  } finally {
    await app.close();
    await t.cleanup();
  }
});
