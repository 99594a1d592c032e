import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { BACKENDS, openTestDb, type TestDb } from '../src/store/testing.ts';
import { ALL_MIGRATIONS } from '../src/server/migrations.ts';
import { ChangeWatcher, bumpRevision } from '../src/store/changes.ts';

const run = promisify(execFile);
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

function nextTopic(watcher: ChangeWatcher, topic: string, timeoutMs: number): Promise<number> {
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no '${topic}' change within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = watcher.on((t) => {
      if (t !== topic) return;
      clearTimeout(timer);
      off();
      resolvePromise(performance.now() - started);
    });
  });
}

for (const backend of BACKENDS) {
  describe(`ChangeWatcher on ${backend}`, () => {
    let t: TestDb;
    before(async () => {
      t = await openTestDb(backend, ALL_MIGRATIONS);
    });
    after(async () => t.cleanup());

    test('bumpRevision counts per topic and is rolled back with its transaction', async () => {
      assert.equal(await bumpRevision(t.db, 'rev-test'), 1);
      assert.equal(await t.db.transaction((tx) => bumpRevision(tx, 'rev-test')), 2);
      await assert.rejects(
        t.db.transaction(async (tx) => {
          await bumpRevision(tx, 'rev-test');
          throw new Error('abort');
        }),
      );
      const rows = await t.db.query<{ rev: number }>('SELECT rev FROM gh_revisions WHERE topic = $1', ['rev-test']);
      assert.equal(rows[0]!.rev, 2);
    });

    test('a change committed through another connection is seen by polling; the baseline is not re-emitted', async () => {
      const other = await t.openAnother();
      const watcher = new ChangeWatcher(other, { intervalMs: 50, listen: false });
      const seen: string[] = [];
      watcher.on((topic) => seen.push(topic));
      await watcher.start();
      try {
        await new Promise((r) => setTimeout(r, 120));
        assert.deepEqual(seen, [], 'existing revisions are the baseline');
        const waiting = nextTopic(watcher, 'polled', 2000);
        await t.db.transaction((tx) => bumpRevision(tx, 'polled'));
        await waiting;
        assert.equal(watcher.revision('polled'), 1);
      } finally {
        await watcher.stop();
      }
    });

    test('a change made by another process is seen', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'gh-changes-'));
      const script = join(dir, 'bump.mts');
      const modules = resolve('src/store');
      writeFileSync(
        script,
        `import { openDb } from ${JSON.stringify(join(modules, 'open.ts'))};
import { bumpRevision } from ${JSON.stringify(join(modules, 'changes.ts'))};
const db = await openDb(process.argv[2]);
await db.transaction((tx) => bumpRevision(tx, 'from-child'));
await db.close();
`,
      );
      const watcher = new ChangeWatcher(t.db, { intervalMs: 50 });
      await watcher.start();
      try {
        const waiting = nextTopic(watcher, 'from-child', 15000);
        await run(process.execPath, ['--import', 'tsx', script, t.url], { timeout: 15000 });
        await waiting;
      } finally {
        await watcher.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    if (backend === 'postgres') {
      test('LISTEN/NOTIFY delivers a change without polling, within 100 ms', async () => {
        const other = await t.openAnother();
        const watcher = new ChangeWatcher(other, { intervalMs: 0 });
        await watcher.start();
        try {
          const latencies: number[] = [];
          for (let i = 0; i < 5; i++) {
            const waiting = nextTopic(watcher, 'notified', 2000);
            await t.db.transaction((tx) => bumpRevision(tx, 'notified'));
            latencies.push(await waiting);
          }
          latencies.sort((a, b) => a - b);
          // Median, so one scheduling hiccup on a loaded 2-core machine doesn't fail the test.
          assert.ok(latencies[2]! < 100, `median NOTIFY latency ${latencies[2]} ms`);
        } finally {
          await watcher.stop();
        }
      });

      test('a NOTIFY from another schema is ignored', async () => {
        const stranger = await openTestDb('postgres', ALL_MIGRATIONS);
        const watcher = new ChangeWatcher(t.db, { intervalMs: 0 });
        const seen: string[] = [];
        watcher.on((topic) => seen.push(topic));
        await watcher.start();
        try {
          await bumpRevision(stranger.db, 'elsewhere');
          await new Promise((r) => setTimeout(r, 150));
          assert.deepEqual(seen, []);
        } finally {
          await watcher.stop();
          await stranger.cleanup();
        }
      });
    }

    test('Redis pub/sub wakes another replica without polling or LISTEN', async () => {
      const channel = `gh_t_${randomBytes(6).toString('hex')}:changes`;
      const other = await t.openAnother();
      const publisher = new ChangeWatcher(t.db, { intervalMs: 0, listen: false, redisUrl: REDIS_URL, redisChannel: channel });
      const subscriber = new ChangeWatcher(other, { intervalMs: 0, listen: false, redisUrl: REDIS_URL, redisChannel: channel });
      await publisher.start();
      await subscriber.start();
      try {
        const waiting = nextTopic(subscriber, 'via-redis', 2000);
        await t.db.transaction((tx) => bumpRevision(tx, 'via-redis'));
        await publisher.publish('via-redis');
        await waiting;
      } finally {
        await publisher.stop();
        await subscriber.stop();
      }
    });
  });
}

test('an unreachable Redis delays start by at most ~2 s and polling still delivers changes', async () => {
  const t = await openTestDb('sqlite', ALL_MIGRATIONS);
  const errors: string[] = [];
  const watcher = new ChangeWatcher(t.db, { intervalMs: 50, redisUrl: 'redis://127.0.0.1:1', onError: (err) => errors.push(err.message) });
  try {
    const started = performance.now();
    await watcher.start();
    assert.ok(performance.now() - started < 4000);
    assert.ok(errors.some((m) => /relying on polling/.test(m)), errors.join('\n'));
    const waiting = nextTopic(watcher, 'still-polled', 2000);
    await bumpRevision(t.db, 'still-polled');
    await waiting;
    await watcher.publish('still-polled'); // must not throw or hang while Redis is down
  } finally {
    await watcher.stop();
    await t.cleanup();
  }
});
