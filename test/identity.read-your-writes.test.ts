/**
 * Key changes are read-your-writes across processes: a key created, updated or revoked with the real CLI process
 * works (or stops working) on the very next request to a running gateway, on SQLite and PostgreSQL. The gateway
 * polls the store only every 2 s here, so nothing but the CLI's wait for the gateway's confirmation can make the
 * next request see the change. A gateway that cannot confirm in time is named, with exit code 3.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { openDb } from '../src/store/open.ts';
import { startHarness, BACKENDS, type Harness } from './support/harness.ts';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function gatehouse(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: { ...process.env, DATABASE_URL: '' }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

for (const backend of BACKENDS) {
  describe(`keys changed with the CLI reach a running gateway on the very next request (${backend})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({ backend, storePollIntervalMs: 2000 });
    });
    after(() => h.close());

    const ask = (secret: string) =>
      new OpenAI({ apiKey: secret, baseURL: `${h.url}/v1`, maxRetries: 0 }).chat.completions.create({ model: 'frontier', messages: [{ role: 'user', content: 'hi' }] });

    test('create → served on the very next request; revoke → refused on the very next request', async () => {
      const created = await gatehouse(['keys', 'create', '--store', h.storeUrl, '--account', 'ryw-acct', '--nationality', 'US', '--json']);
      assert.equal(created.code, 0, created.stderr);
      const { secret, key } = JSON.parse(created.stdout) as { secret: string; key: { id: string } };
      const r = await ask(secret);
      assert.ok(r.choices[0]!.message.content, 'the new key is served on the very next request');

      const revoked = await gatehouse(['keys', 'revoke', key.id, '--store', h.storeUrl]);
      assert.equal(revoked.code, 0, revoked.stderr);
      await assert.rejects(ask(secret), (err: unknown) => {
        assert.ok(err instanceof OpenAI.AuthenticationError, String(err));
        assert.equal(err.code, 'key_revoked');
        return true;
      });
      assert.match(revoked.stdout, /Applied by every running gateway \(1\)/);
    });

    test('a running gateway that does not confirm in time is named, exit code 3; the change is still stored', async () => {
      // A gateway that is alive (seen just now) but stuck at an old revision, e.g. cut off from its store.
      const db = await openDb(h.storeUrl);
      try {
        await db.query('INSERT INTO identity_replicas (replica_id, rev, seen_at, started_at) VALUES ($1, 0, $2, $2)', ['stuck-host:4242:abcdef', Date.now()]);
        const created = await gatehouse(['keys', 'create', '--store', h.storeUrl, '--account', 'ryw-stuck', '--wait-ms', '3000', '--json']);
        assert.equal(created.code, 3, created.stderr);
        const { secret } = JSON.parse(created.stdout) as { secret: string };
        assert.match(created.stderr, /1 running gateway\(s\) had not applied it after 3000 ms/);
        assert.match(created.stderr, /stuck-host:4242:abcdef \(at revision 0/);
        assert.equal(created.stderr.split('\n').filter((l) => l.startsWith('  ')).length, 1, 'only the stuck gateway is named');
        // The real gateway confirmed, so it serves the key already.
        const r = await ask(secret);
        assert.ok(r.choices[0]!.message.content);
      } finally {
        await db.query('DELETE FROM identity_replicas WHERE replica_id = $1', ['stuck-host:4242:abcdef']);
        await db.close();
      }
    });

    test('a gateway not seen for over 30 s (stopped without its clean shutdown) is not waited for', async () => {
      const db = await openDb(h.storeUrl);
      try {
        await db.query('INSERT INTO identity_replicas (replica_id, rev, seen_at, started_at) VALUES ($1, 0, $2, $2)', ['gone-host:1:000000', Date.now() - 60_000]);
        const created = await gatehouse(['keys', 'create', '--store', h.storeUrl, '--account', 'ryw-gone']);
        assert.equal(created.code, 0, created.stderr);
        assert.match(created.stdout, /Applied by every running gateway \(1\)/);
      } finally {
        await db.query('DELETE FROM identity_replicas WHERE replica_id = $1', ['gone-host:1:000000']);
        await db.close();
      }
    });
  });
}
