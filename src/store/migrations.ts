import type { Migration } from './db.ts';

/** Tables the store itself owns. */
export const migrations: Migration[] = [
  {
    id: 'store/0001_revisions',
    sql: 'CREATE TABLE IF NOT EXISTS gh_revisions (topic TEXT PRIMARY KEY, rev BIGINT NOT NULL)',
  },
];
