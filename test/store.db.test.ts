import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS, openTestDb, type TestDb } from '../src/store/testing.ts';
import { rewritePlaceholders } from '../src/store/sql-rewrite.ts';

test('rewritePlaceholders turns $n into ?n outside literals and comments', () => {
  assert.deepEqual(rewritePlaceholders("SELECT $1, '$2', \"a$3\", $10 -- $4\n /* $5 */ FROM t WHERE x = $2"), {
    sql: "SELECT ?1, '$2', \"a$3\", ?10 -- $4\n /* $5 */ FROM t WHERE x = ?2",
    maxIndex: 10,
  });
  assert.equal(rewritePlaceholders("SELECT 'it''s $1', $1").sql, "SELECT 'it''s $1', ?1");
});

for (const backend of BACKENDS) {
  describe(`Db on ${backend}`, () => {
    let t: TestDb;
    before(async () => {
      t = await openTestDb(backend);
      await t.db.exec('CREATE TABLE t_items (id TEXT PRIMARY KEY, n BIGINT, flag INTEGER, doc TEXT, x DOUBLE PRECISION)');
    });
    after(async () => t.cleanup());

    test('round-trips values with $n placeholders, booleans as 0/1, BIGINT as number', async () => {
      const big = 1_763_900_000_123;
      await t.db.query('INSERT INTO t_items (id, n, flag, doc, x) VALUES ($1, $2, $3, $4, $5)', ['a', big, true, '{"k":1}', 0.25]);
      await t.db.query('INSERT INTO t_items (id, n, flag, doc, x) VALUES ($1, $2, $3, $4, $5)', ['b', 2, false, null, undefined]);
      const rows = await t.db.query('SELECT id, n, flag, doc, x FROM t_items WHERE n >= $1 OR id = $2 ORDER BY id', [big, 'b']);
      assert.deepEqual(rows, [
        { id: 'a', n: big, flag: 1, doc: '{"k":1}', x: 0.25 },
        { id: 'b', n: 2, flag: 0, doc: null, x: null },
      ]);
      const [count] = await t.db.query<{ c: number }>('SELECT COUNT(*) AS c FROM t_items');
      assert.equal(count!.c, 2);
    });

    test('a transaction that throws leaves nothing behind; a nested one rolls back alone', async () => {
      await assert.rejects(
        t.db.transaction(async (tx) => {
          await tx.query('INSERT INTO t_items (id, n) VALUES ($1, $2)', ['rolled-back', 1]);
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal((await t.db.query('SELECT id FROM t_items WHERE id = $1', ['rolled-back'])).length, 0);

      await t.db.transaction(async (tx) => {
        await tx.query('INSERT INTO t_items (id, n) VALUES ($1, $2)', ['outer', 1]);
        await assert.rejects(
          tx.transaction(async (inner) => {
            await inner.query('INSERT INTO t_items (id, n) VALUES ($1, $2)', ['inner', 1]);
            throw new Error('inner boom');
          }),
          /inner boom/,
        );
      });
      const ids = (await t.db.query<{ id: string }>("SELECT id FROM t_items WHERE id IN ('outer', 'inner')")).map((r) => r.id);
      assert.deepEqual(ids, ['outer']);
    });

    test('statements outside a transaction do not see or join its uncommitted writes', async () => {
      let release!: () => void;
      const paused = new Promise<void>((r) => (release = r));
      const txDone = t.db.transaction(async (tx) => {
        await tx.query('INSERT INTO t_items (id, n) VALUES ($1, $2)', ['pending', 1]);
        await paused;
        throw new Error('abort');
      });
      await new Promise((r) => setTimeout(r, 20));
      const outside = t.db.query('SELECT id FROM t_items WHERE id = $1', ['pending']);
      release();
      await assert.rejects(txDone, /abort/);
      assert.deepEqual(await outside, []);
    });

    test('a SQL error is reported, not swallowed', async () => {
      await assert.rejects(t.db.query('SELECT nope FROM t_items'), /nope/);
      await assert.rejects(t.db.query('INSERT INTO t_items (id) VALUES ($1)', ['a']), /unique|UNIQUE/);
    });
  });
}
