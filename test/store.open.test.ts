import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDb, resolveStoreUrl, redactUrl, DEFAULT_STORE_URL } from '../src/store/open.ts';
import { TEST_PG_URL } from '../src/store/testing.ts';

test('resolveStoreUrl: flag > DATABASE_URL > store.url in config (relative to the config file) > default', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-open-'));
  try {
    const withStore = join(dir, 'a.yaml');
    writeFileSync(withStore, 'store:\n  url: sqlite:from-config.db\n');
    const without = join(dir, 'b.yaml');
    writeFileSync(without, 'server:\n  port: 1\n');
    const env = { DATABASE_URL: 'postgres://env/db' };
    assert.equal(resolveStoreUrl({ flag: 'sqlite:flag.db', configPath: withStore, env }), 'sqlite:flag.db');
    assert.equal(resolveStoreUrl({ configPath: withStore, env }), 'postgres://env/db');
    // A relative sqlite path in a config file (and the default, for a file without one) means beside that file,
    // whichever directory the command runs from — the same database `serve` opens.
    assert.equal(resolveStoreUrl({ configPath: withStore, env: {} }), `sqlite:${join(dir, 'from-config.db')}`);
    assert.equal(resolveStoreUrl({ configPath: without, env: {} }), `sqlite:${join(dir, DEFAULT_STORE_URL.slice('sqlite:'.length))}`);
    writeFileSync(withStore, 'store:\n  url: postgres://db.example/x\n');
    assert.equal(resolveStoreUrl({ configPath: withStore, env: {} }), 'postgres://db.example/x');
    assert.equal(resolveStoreUrl({ env: {} }), 'sqlite:data/gatehouse.db');
    assert.throws(() => resolveStoreUrl({ configPath: join(dir, 'missing.yaml'), env: {} }), /cannot read config file .*missing\.yaml: ENOENT/);
    const badUrl = join(dir, 'c.yaml');
    writeFileSync(badUrl, 'store:\n  url: 42\n');
    assert.throws(() => resolveStoreUrl({ configPath: badUrl, env: {} }), /c\.yaml: store\.url: expected a non-empty string/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('openDb creates the parent directory of a SQLite file and uses WAL', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-open-'));
  try {
    const db = await openDb(`sqlite:${join(dir, 'nested', 'deeper', 'x.db')}`);
    const rows = await db.query<{ journal_mode: string }>('PRAGMA journal_mode');
    assert.equal(rows[0]!.journal_mode, 'wal');
    await db.close();
    assert.ok(existsSync(join(dir, 'nested', 'deeper', 'x.db')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('openDb rejects unknown schemes and bad schema names, and never echoes a password', async () => {
  await assert.rejects(openDb('mysql://u:secretpw@h/db'), (err: Error) => {
    assert.match(err.message, /unsupported store URL 'mysql:\/\/u:\*\*\*@h\/db'/);
    assert.doesNotMatch(err.message, /secretpw/);
    return true;
  });
  await assert.rejects(openDb('sqlite:'), /expected sqlite:PATH or sqlite::memory:/);
  await assert.rejects(openDb(`${TEST_PG_URL}?schema=bad;drop`), /invalid PostgreSQL schema name 'bad;drop'/);
  await assert.rejects(openDb('postgres://u:secretpw@127.0.0.1:1/db'), (err: Error) => {
    assert.match(err.message, /cannot connect to PostgreSQL at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/db/);
    assert.doesNotMatch(err.message, /secretpw/);
    return true;
  });
  assert.equal(redactUrl('postgresql://me:pw@host:5432/x'), 'postgresql://me:***@host:5432/x');
});

test('sqlite::memory: opens a private database', async () => {
  const a = await openDb('sqlite::memory:');
  const b = await openDb('sqlite::memory:');
  await a.exec('CREATE TABLE only_in_a (x INTEGER)');
  await assert.rejects(b.query('SELECT x FROM only_in_a'), /no such table/);
  await a.close();
  await b.close();
});
