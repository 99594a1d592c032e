import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS, openTestDb, type TestDb } from '../src/store/testing.ts';
import { migrate } from '../src/store/migrate.ts';
import { ALL_MIGRATIONS } from '../src/server/migrations.ts';
import type { Migration } from '../src/store/db.ts';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const demo: Migration[] = [
  { id: 'demo/0001_a', sql: 'CREATE TABLE demo_a (id TEXT PRIMARY KEY); CREATE INDEX demo_a_id ON demo_a (id)' },
  {
    id: 'demo/0002_b',
    sql: { sqlite: 'CREATE TABLE demo_b (id TEXT PRIMARY KEY, v TEXT)', postgres: 'CREATE TABLE demo_b (id TEXT PRIMARY KEY, v TEXT)' },
  },
];

for (const backend of BACKENDS) {
  describe(`migrate on ${backend}`, () => {
    let t: TestDb;
    before(async () => {
      t = await openTestDb(backend);
    });
    after(async () => t.cleanup());

    test('applies pending migrations in order once; a second run is a no-op', async () => {
      const first = await migrate(t.db, demo);
      assert.deepEqual(first.applied, ['demo/0001_a', 'demo/0002_b']);
      const second = await migrate(t.db, demo);
      assert.deepEqual(second, { applied: [], alreadyApplied: 2 });
      const rows = await t.db.query<{ id: string; applied_at: number }>('SELECT id, applied_at FROM gh_schema_migrations ORDER BY id');
      assert.deepEqual(rows.map((r) => r.id), ['demo/0001_a', 'demo/0002_b']);
      assert.equal(typeof rows[0]!.applied_at, 'number');
    });

    test('a failing migration rolls back everything pending in that run', async () => {
      const bad: Migration[] = [
        ...demo,
        { id: 'demo/0003_c', sql: 'CREATE TABLE demo_c (id TEXT PRIMARY KEY)' },
        { id: 'demo/0004_broken', sql: 'CREATE TABLE demo_a (id TEXT)' },
      ];
      await assert.rejects(migrate(t.db, bad), /migration demo\/0004_broken failed/);
      const ids = (await t.db.query<{ id: string }>('SELECT id FROM gh_schema_migrations ORDER BY id')).map((r) => r.id);
      assert.deepEqual(ids, ['demo/0001_a', 'demo/0002_b']);
      await assert.rejects(t.db.query('SELECT id FROM demo_c'), /demo_c/);
    });

    test('duplicate ids are refused before anything runs', async () => {
      await assert.rejects(migrate(t.db, [demo[0]!, demo[0]!]), /duplicate migration id 'demo\/0001_a'/);
    });

    test('three replicas migrating at once apply each migration exactly once', async () => {
      const others = await Promise.all([t.openAnother(), t.openAnother(), t.openAnother()]);
      const results = await Promise.all(others.map((db) => migrate(db, ALL_MIGRATIONS)));
      const appliedCounts = results.map((r) => r.applied.length).sort();
      assert.deepEqual(appliedCounts, [0, 0, ALL_MIGRATIONS.length]);
      const rows = await t.db.query<{ c: number }>('SELECT COUNT(*) AS c FROM gh_schema_migrations');
      assert.equal(rows[0]!.c, demo.length + ALL_MIGRATIONS.length);
    });
  });
}

test('three processes migrating one SQLite file at once apply each migration exactly once', async () => {
  const t = await openTestDb('sqlite');
  const dir = mkdtempSync(join(tmpdir(), 'gh-migrate-'));
  try {
    const script = join(dir, 'migrate.mts');
    const store = resolve('src/store');
    writeFileSync(
      script,
      `import { openDb } from ${JSON.stringify(join(store, 'open.ts'))};
import { migrate } from ${JSON.stringify(join(store, 'migrate.ts'))};
import { ALL_MIGRATIONS } from ${JSON.stringify(resolve('src/server/migrations.ts'))};
const db = await openDb(process.argv[2]);
const r = await migrate(db, ALL_MIGRATIONS);
await db.close();
process.stdout.write(String(r.applied.length));
`,
    );
    const outs = await Promise.all([1, 2, 3].map(() => run(process.execPath, ['--import', 'tsx', script, t.url], { timeout: 30_000 })));
    const counts = outs.map((o) => Number(o.stdout)).sort((a, b) => a - b);
    assert.deepEqual(counts, [0, 0, ALL_MIGRATIONS.length]);
    const rows = await t.db.query<{ c: number }>('SELECT COUNT(*) AS c FROM gh_schema_migrations');
    assert.equal(rows[0]!.c, ALL_MIGRATIONS.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await t.cleanup();
  }
});
