import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { configSchema } from '../src/identity/config.ts';
import { configKeyEntries, IdentityConfigError } from '../src/identity/bootstrap.ts';
import { startIdentity } from '../src/identity/index.ts';
import { openTestDb } from '../src/store/testing.ts';
import { ALL_MIGRATIONS } from '../src/server/migrations.ts';
import { ChangeWatcher } from '../src/store/changes.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

test('identity config: absent section is valid; each key needs exactly one secret source', () => {
  assert.deepEqual(configSchema.parse(undefined), { keys: [] });
  const bad = configSchema.safeParse({ keys: [{ accountId: 'a', secret: 'x'.repeat(20), secretEnv: 'K' }, { accountId: 'b' }, { accountId: 'c', secretHash: 'ABC' }] });
  assert.ok(!bad.success);
  const messages = bad.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  assert.ok(messages.includes('keys.0: expected exactly one of secretHash, secretEnv or secret; got secretEnv, secret'), messages.join('\n'));
  assert.ok(messages.includes('keys.1: expected exactly one of secretHash, secretEnv or secret; got none'), messages.join('\n'));
  assert.ok(messages.some((m) => m.startsWith('keys.2.secretHash: secretHash must be 64 lower-case hex')), messages.join('\n'));
});

test('config keys resolve from a hash, an env var or a literal; a missing env var is a precise error', () => {
  const config = configSchema.parse({
    keys: [
      { accountId: 'by-hash', secretHash: sha('gh_hashed_secret_value'), nationalities: ['fr'] },
      { accountId: 'by-env', secretEnv: 'DEMO_KEY', id: 'demo' },
      { accountId: 'literal', secret: 'gh_literal_secret_value' },
    ],
  });
  const entries = configKeyEntries(config, { DEMO_KEY: 'gh_env_secret_value' });
  assert.deepEqual(entries.map((e) => [e.hash, e.principal.keyId, e.principal.accountId]), [
    [sha('gh_hashed_secret_value'), `cfg_${sha('gh_hashed_secret_value').slice(0, 12)}`, 'by-hash'],
    [sha('gh_env_secret_value'), 'demo', 'by-env'],
    [sha('gh_literal_secret_value'), `cfg_${sha('gh_literal_secret_value').slice(0, 12)}`, 'literal'],
  ]);
  assert.deepEqual(entries[0]!.principal.nationalities, ['FR']);
  assert.throws(() => configKeyEntries(config, {}), (err: Error) => err instanceof IdentityConfigError && err.message === 'identity.keys[1].secretEnv: environment variable DEMO_KEY is not set or empty');
  const dup = configSchema.parse({ keys: [{ accountId: 'a', secret: 'gh_same_secret_value' }, { accountId: 'b', secret: 'gh_same_secret_value' }] });
  assert.throws(() => configKeyEntries(dup), /identity\.keys\[1\]: same secret as identity\.keys\[0\]/);
});

test('startIdentity serves store and config keys, reloads config keys, and follows store changes', async () => {
  const t = await openTestDb('sqlite', ALL_MIGRATIONS);
  const watcher = new ChangeWatcher(t.db, { intervalMs: 50 });
  try {
    const identity = await startIdentity({ db: t.db, watcher, config: configSchema.parse({ keys: [{ accountId: 'cfg', secret: 'gh_config_secret_1' }] }), env: {} });
    await watcher.start();
    assert.deepEqual(identity.readiness.check(), { ok: true });
    const { secret } = await identity.repository.create({ accountId: 'stored' });
    const r = identity.registry.lookup(`Bearer ${secret}`);
    assert.ok(r.ok && r.principal.accountId === 'stored', 'local create is visible at once (publish on commit)');
    assert.ok(identity.registry.lookup('gh_config_secret_1').ok);
    identity.applyConfig(configSchema.parse({ keys: [{ accountId: 'cfg2', secret: 'gh_config_secret_2' }] }));
    assert.deepEqual(identity.registry.lookup('gh_config_secret_1'), { ok: false, reason: 'unknown' });
    assert.ok(identity.registry.lookup('gh_config_secret_2').ok);
    assert.throws(() => identity.applyConfig(configSchema.parse({ keys: [{ accountId: 'x', secretEnv: 'NOPE' }] }), {}), /NOPE is not set/);
    assert.ok(identity.registry.lookup('gh_config_secret_2').ok, 'a rejected config leaves the old keys serving');
    identity.stop();
  } finally {
    await watcher.stop();
    await t.cleanup();
  }
});
