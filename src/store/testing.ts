/**
 * Test helpers for any capability: open an isolated store on either backend.
 *   const t = await openTestDb('postgres');  … t.db, t.url (usable by a child process) …  await t.cleanup();
 * SQLite: a fresh file in a temp directory. PostgreSQL: a fresh random schema in TEST_DATABASE_URL
 * (default postgres://127.0.0.1:5432/test), dropped by cleanup().
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Db, Dialect, Migration } from './db.ts';
import { openDb } from './open.ts';
import { withDefaultUser } from './postgres.ts';
import { migrate } from './migrate.ts';

export const TEST_PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://127.0.0.1:5432/test';
export const BACKENDS: readonly Dialect[] = ['sqlite', 'postgres'];

export interface TestDb {
  db: Db;
  /** A store URL that opens the same database (and schema) from another connection or process. */
  url: string;
  /** Opens another, independent connection to the same store. */
  openAnother(): Promise<Db>;
  cleanup(): Promise<void>;
}

export async function openTestDb(backend: Dialect, migrations?: readonly Migration[]): Promise<TestDb> {
  const opened: Db[] = [];
  let url: string;
  let dropStore: () => Promise<void>;
  if (backend === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'gh-test-'));
    url = `sqlite:${join(dir, 'test.db')}`;
    dropStore = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const schema = `gh_t_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: withDefaultUser(TEST_PG_URL) });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA ${schema}`);
    } finally {
      await admin.end();
    }
    url = `${TEST_PG_URL}?schema=${schema}`;
    dropStore = async () => {
      const c = new pg.Client({ connectionString: withDefaultUser(TEST_PG_URL) });
      await c.connect();
      try {
        await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await c.end();
      }
    };
  }
  const openAnother = async () => {
    const db = await openDb(url);
    opened.push(db);
    return db;
  };
  const db = await openAnother();
  if (migrations) await migrate(db, migrations);
  return {
    db,
    url,
    openAnother,
    cleanup: async () => {
      for (const d of opened) await d.close().catch(() => {});
      await dropStore();
    },
  };
}
