import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { BACKENDS, openTestDb, type TestDb } from '../src/store/testing.ts';
import { ALL_MIGRATIONS } from '../src/server/migrations.ts';
import { ChangeWatcher } from '../src/store/changes.ts';
import { KeyRepository, KeyNotFoundError, KeyStateError } from '../src/identity/keys.ts';
import { KeyRegistry } from '../src/identity/registry.ts';
import { KeyValidationError } from '../src/identity/attributes.ts';

async function eventually(check: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > timeoutMs) assert.fail(`${what} not seen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return performance.now() - started;
}

for (const backend of BACKENDS) {
  describe(`identity keys on ${backend}`, () => {
    let t: TestDb;
    let repo: KeyRepository;
    before(async () => {
      t = await openTestDb(backend, ALL_MIGRATIONS);
      repo = new KeyRepository(t.db);
    });
    after(async () => t.cleanup());

    test('create returns the secret once; the store holds only its SHA-256 and an 8-character prefix', async () => {
      const { key, secret } = await repo.create({ accountId: 'acct-a', orgId: 'org-1', nationalities: ['us', 'GB'], residence: 'US', kyc: 'verified-identity', programmes: ['critical-infrastructure-defenders'], tier: 'trusted-defender', staff: true, label: 'ci', accountCreatedAt: 1_700_000_000_000, paymentFingerprint: 'fp-1' });
      assert.match(secret, /^gh_[A-Za-z0-9_-]{43}$/);
      assert.equal(key.prefix, secret.slice(0, 8));
      assert.match(key.id, /^key_[A-Za-z0-9_-]{16}$/);
      assert.equal(key.status, 'active');
      assert.deepEqual(key.nationalities, ['US', 'GB']);
      assert.ok(!JSON.stringify(key).includes(secret));

      const rows = await t.db.query<Record<string, unknown>>('SELECT * FROM identity_keys WHERE id = $1', [key.id]);
      const stored = JSON.stringify(rows);
      assert.ok(!stored.includes(secret), 'the secret must never be stored');
      assert.equal(rows[0]!.hash, createHash('sha256').update(secret).digest('hex'));

      assert.deepEqual(await repo.get(key.id), key);
      const listed = await repo.list();
      assert.ok(!JSON.stringify(listed).includes(rows[0]!.hash as string), 'listings never contain hashes');
    });

    test('lookup maps the key to its principal, by bare key, Bearer header or x-api-key value', async () => {
      const { key, secret } = await repo.create({ accountId: 'acct-b', nationalities: ['DE'], kyc: 'basic', accountCreatedAt: 5 });
      const registry = await KeyRegistry.load(repo);
      for (const presented of [secret, `Bearer ${secret}`, `bearer  ${secret} `]) {
        const r = registry.lookup(presented);
        assert.ok(r.ok, presented);
        assert.deepEqual(r.principal, {
          keyId: key.id,
          accountId: 'acct-b',
          orgId: null,
          nationalities: ['DE'],
          residence: null,
          kyc: 'basic',
          programmes: [],
          tier: 'general',
          staff: false,
          accountCreatedAt: 5,
        });
        assert.ok(Object.isFrozen(r.principal) && Object.isFrozen(r.principal.nationalities));
      }
      assert.deepEqual(registry.lookup(undefined), { ok: false, reason: 'missing' });
      assert.deepEqual(registry.lookup(''), { ok: false, reason: 'missing' });
      assert.deepEqual(registry.lookup('Bearer   '), { ok: false, reason: 'missing' });
      assert.deepEqual(registry.lookup(secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A')), { ok: false, reason: 'unknown' });
      assert.deepEqual(registry.lookup('x'.repeat(100_000)), { ok: false, reason: 'unknown' });
    });

    test('revoke, then update/revoke again are refused precisely; validation errors carry paths', async () => {
      const { key, secret } = await repo.create({ accountId: 'acct-c' });
      const revoked = await repo.revoke(key.id, 'leaked in a paste');
      assert.equal(revoked.status, 'revoked');
      assert.equal(revoked.revokedReason, 'leaked in a paste');
      assert.equal(typeof revoked.revokedAt, 'number');
      await assert.rejects(repo.revoke(key.id), (err: Error) => err instanceof KeyStateError && /already revoked at \d{4}-/.test(err.message));
      await assert.rejects(repo.update(key.id, { tier: 'verified' }), KeyStateError);
      await assert.rejects(repo.revoke('key_nope'), KeyNotFoundError);
      await assert.rejects(repo.update('key_nope', { tier: 'verified' }), KeyNotFoundError);
      await assert.rejects(repo.create({ accountId: 'x', residence: 'ZZ' }), (err: Error) => err instanceof KeyValidationError && err.issues[0]!.path === 'residence');
      const registry = await KeyRegistry.load(repo);
      assert.deepEqual(registry.lookup(secret), { ok: false, reason: 'revoked' });
      assert.deepEqual((await repo.list({ status: 'revoked' })).map((k) => k.id), [key.id]);
      assert.ok((await repo.list({ accountId: 'acct-c' })).every((k) => k.accountId === 'acct-c'));
    });

    test('update changes attributes and null clears them', async () => {
      const { key, secret } = await repo.create({ accountId: 'acct-d', orgId: 'o', residence: 'FR' });
      const updated = await repo.update(key.id, { residence: null, orgId: null, kyc: 'verified-organisation', programmes: ['p1'], staff: true });
      assert.equal(updated.residence, null);
      assert.equal(updated.orgId, null);
      assert.equal(updated.kyc, 'verified-organisation');
      assert.deepEqual(updated.programmes, ['p1']);
      assert.equal(updated.staff, true);
      assert.ok(updated.updatedAt >= key.updatedAt);
      const registry = await KeyRegistry.load(repo);
      const r = registry.lookup(secret);
      assert.ok(r.ok && r.principal.kyc === 'verified-organisation' && r.principal.staff === true && r.principal.residence === null);
    });

    test('a revocation through one connection reaches a registry on another connection via ChangeWatcher', async () => {
      const { key, secret } = await repo.create({ accountId: 'acct-e' });
      const otherDb = await t.openAnother();
      const otherRepo = new KeyRepository(otherDb);
      const loads: Array<{ keys: number; full: boolean }> = [];
      const registry = await KeyRegistry.load(otherRepo, { onLoad: ({ keys, full }) => loads.push({ keys, full }) });
      assert.equal(loads[0]!.full, true);
      // Polling slow enough that on PostgreSQL a fast result proves LISTEN/NOTIFY did the work.
      const watcher = new ChangeWatcher(otherDb, { intervalMs: backend === 'postgres' ? 5000 : 100 });
      registry.follow(watcher);
      await watcher.start();
      try {
        assert.ok(registry.lookup(secret).ok);
        await repo.revoke(key.id);
        const ms = await eventually(() => !registry.lookup(secret).ok, 3000, 'revocation');
        assert.deepEqual(registry.lookup(secret), { ok: false, reason: 'revoked' });
        if (backend === 'postgres') assert.ok(ms < 1000, `NOTIFY path took ${ms} ms`);
        assert.deepEqual(loads.slice(1), [{ keys: 1, full: false }], 'only the revoked key is reloaded');

        const created = await repo.create({ accountId: 'acct-f' });
        await eventually(() => registry.lookup(created.secret).ok, 3000, 'new key');
      } finally {
        await watcher.stop();
      }
    });

    test('onChange fires after commit so the local registry reloads without waiting for a poll', async () => {
      const otherDb = await t.openAnother();
      const watcher = new ChangeWatcher(otherDb, { intervalMs: 0, listen: false });
      const localRepo = new KeyRepository(t.db, { onChange: (topic) => watcher.publish(topic) });
      const registry = await KeyRegistry.load(new KeyRepository(otherDb));
      registry.follow(watcher);
      await watcher.start();
      try {
        const { secret } = await localRepo.create({ accountId: 'acct-g' });
        await eventually(() => registry.lookup(secret).ok, 2000, 'new key via publish');
      } finally {
        await watcher.stop();
      }
    });
  });
}
