import type { Migration } from '../store/db.ts';

/**
 * directives: one row per emergency order (never deleted; lifting sets status). `version` increments on every
 * change so concurrent amendments are detected (optimistic concurrency) rather than silently overwritten.
 * directives_history: one row per issue/amend/lift (`version` = the directive's version after it) with who, when, why and the record before and after.
 */
export const migrations: Migration[] = [
  {
    id: 'directives/0001_directives',
    sql: `
CREATE TABLE directives (
  id TEXT PRIMARY KEY,
  models TEXT NOT NULL,
  population TEXT NOT NULL,
  effect TEXT NOT NULL,
  effective_at BIGINT NOT NULL,
  expires_at BIGINT,
  authority TEXT NOT NULL,
  reference TEXT NOT NULL,
  status TEXT NOT NULL,
  issued_at BIGINT NOT NULL,
  issued_by TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  lifted_at BIGINT,
  version INTEGER NOT NULL
);
CREATE TABLE directives_history (
  id TEXT PRIMARY KEY,
  directive_id TEXT NOT NULL,
  action TEXT NOT NULL,
  version INTEGER NOT NULL,
  at BIGINT NOT NULL,
  by_whom TEXT NOT NULL,
  why TEXT NOT NULL,
  before_json TEXT,
  after_json TEXT NOT NULL
);
CREATE INDEX directives_history_by_directive ON directives_history (directive_id, version);
`,
  },
];
