import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BACKENDS, openTestDb, type TestDb } from '../src/store/testing.ts';
import { KeyRepository } from '../src/identity/keys.ts';
import { KeyRegistry } from '../src/identity/registry.ts';
import { run } from '../src/identity/cli.ts';
import { ChangeWatcher } from '../src/store/changes.ts';

/** Runs the CLI module in-process (same code path as the binary, minus process start-up): for the many error cases. */
async function inProcess(args: string[]): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const code = await run(args, { out: (s) => (stdout += s), err: (s) => (stderr += s), env: { DATABASE_URL: '' } });
  return { code, stdout, stderr };
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function gatehouse(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      { env: { ...process.env, DATABASE_URL: '', ...env }, timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

for (const backend of BACKENDS) {
  describe(`gatehouse keys CLI on ${backend}`, () => {
    let t: TestDb;
    before(async () => {
      t = await openTestDb(backend); // the CLI migrates the store itself
    });
    after(async () => t.cleanup());

    test('create prints the secret once; list/show never print a secret or a hash; revoke takes effect', async () => {
      const created = await gatehouse([
        'keys', 'create', '--store', t.url, '--account', 'acme', '--org', 'acme-org', '--nationality', 'US', '--nationality', 'gb',
        '--residence', 'US', '--kyc', 'verified-identity', '--programme', 'critical-infrastructure-defenders', '--tier', 'trusted-defender',
        '--staff', '--label', 'ops laptop', '--json',
      ]);
      assert.equal(created.code, 0, created.stderr);
      const { secret, key } = JSON.parse(created.stdout) as { secret: string; key: { id: string; prefix: string; nationalities: string[] } };
      assert.match(secret, /^gh_[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(key.nationalities, ['US', 'GB']);
      const hash = createHash('sha256').update(secret).digest('hex');

      const human = await gatehouse(['keys', 'create', '--store', t.url, '--account', 'beta']);
      assert.equal(human.code, 0, human.stderr);
      const humanSecret = /\b(gh_[A-Za-z0-9_-]{43})\b/.exec(human.stdout)?.[1];
      assert.ok(humanSecret, human.stdout);
      assert.equal(human.stdout.split(humanSecret).length - 1, 1, 'secret printed exactly once');

      const rows = await t.db.query<{ hash: string }>('SELECT hash FROM identity_keys');
      const allHashes = rows.map((r) => r.hash);
      for (const args of [['keys', 'list'], ['keys', 'show', key.id, '--json']]) {
        const r = await gatehouse([...args, '--store', t.url]);
        assert.equal(r.code, 0, r.stderr);
        const out = r.stdout + r.stderr;
        for (const s of [secret, humanSecret, hash, ...allHashes]) assert.ok(!out.includes(s), `${args.join(' ')} leaked ${s.slice(0, 6)}…`);
        assert.ok(out.includes(key.prefix), `${args.join(' ')} shows the prefix`);
      }

      // A running "gateway" (this process) follows the store; the CLI (another process) revokes.
      const registry = await KeyRegistry.load(new KeyRepository(t.db));
      const watcher = new ChangeWatcher(t.db, { intervalMs: 100 });
      registry.follow(watcher);
      await watcher.start();
      try {
        assert.ok(registry.lookup(secret).ok);
        const revoked = await gatehouse(['keys', 'revoke', key.id, '--reason', 'rotated', '--store', t.url]);
        assert.equal(revoked.code, 0, revoked.stderr);
        assert.match(revoked.stdout, new RegExp(`Revoked key ${key.id}`));
        const deadline = Date.now() + 3000;
        while (registry.lookup(secret).ok && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
        assert.deepEqual(registry.lookup(secret), { ok: false, reason: 'revoked' });
        assert.ok(registry.lookup(humanSecret).ok);
      } finally {
        await watcher.stop();
      }

      for (const args of [['keys', 'list', '--json'], ['keys', 'show', key.id]]) {
        const r = await inProcess([...args, '--store', t.url]);
        assert.equal(r.code, 0, r.stderr);
        for (const s of [secret, humanSecret, hash, ...allHashes]) assert.ok(!(r.stdout + r.stderr).includes(s), `${args.join(' ')} leaked`);
      }

      const again = await inProcess(['keys', 'revoke', key.id, '--store', t.url]);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /already revoked at/);
      const listed = await inProcess(['keys', 'list', '--status', 'revoked', '--json', '--store', t.url]);
      assert.deepEqual((JSON.parse(listed.stdout) as Array<{ id: string }>).map((k) => k.id), [key.id]);
    });

    test('bad input gets exit code 2 and a precise message; a missing key exit code 1', async () => {
      const bad = await (backend === 'sqlite' ? gatehouse : inProcess)(['keys', 'create', '--store', t.url, '--account', 'a', '--nationality', 'UK', '--kyc', 'gold']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--nationality #1: 'UK' is not an officially assigned ISO 3166-1 alpha-2 code: reserved for the United Kingdom; use 'GB'/);
      assert.match(bad.stderr, /--kyc: expected one of 'none', 'basic', 'verified-identity', 'verified-organisation', got "gold"/);
      assert.equal(bad.stdout, '');

      const noAccount = await inProcess(['keys', 'create', '--store', t.url]);
      assert.equal(noAccount.code, 2);
      assert.match(noAccount.stderr, /--account is required/);

      const unknownFlag = await inProcess(['keys', 'list', '--store', t.url, '--colour']);
      assert.equal(unknownFlag.code, 2);
      assert.match(unknownFlag.stderr, /Unknown option '--colour'/);

      const noId = await inProcess(['keys', 'revoke', '--store', t.url]);
      assert.equal(noId.code, 2);
      assert.match(noId.stderr, /expected a KEYID/);

      const missing = await inProcess(['keys', 'revoke', 'key_doesnotexist', '--store', t.url]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /no key with id 'key_doesnotexist'/);

      const sub = await inProcess(['keys', 'frobnicate']);
      assert.equal(sub.code, 2);
      assert.match(sub.stderr, /unknown subcommand 'frobnicate'/);
    });
  });
}

test('the store comes from DATABASE_URL, else store.url in --config', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-cli-'));
  try {
    const viaEnv = `sqlite:${join(dir, 'env.db')}`;
    const r1 = await gatehouse(['keys', 'create', '--account', 'from-env'], { DATABASE_URL: viaEnv });
    assert.equal(r1.code, 0, r1.stderr);
    const config = join(dir, 'gatehouse.yaml');
    writeFileSync(config, `store:\n  url: ${viaEnv}\n`);
    const r2 = await gatehouse(['keys', 'list', '--json', '--config', config]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.deepEqual((JSON.parse(r2.stdout) as Array<{ accountId: string }>).map((k) => k.accountId), ['from-env']);
    const r3 = await inProcess(['keys', 'list', '--store', 'mysql://u:pw@h/db']);
    assert.equal(r3.code, 1);
    assert.match(r3.stderr, /unsupported store URL/);
    assert.ok(!r3.stderr.includes(':pw@'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
