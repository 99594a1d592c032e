import type { Migration } from '../store/db.ts';

/**
 * incidents: one row per incident (never deleted). `version` increments on every change: a change is an
 * UPDATE … WHERE version = <the version it was made from>, so of two concurrent changes exactly one wins.
 * Lists (models, principals, request ids…) are JSON text. The partial unique index lets at most one open or
 * investigating incident hold a dedupe key, so triggers on several replicas link to one incident rather than open two.
 * incidents_timeline: one row per change (`version` = the incident's version after it), with who, what and why.
 */
export const migrations: Migration[] = [
  {
    id: 'incidents/0001_incidents',
    sql: `
CREATE TABLE incidents (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  summary TEXT,
  severity TEXT NOT NULL,
  state TEXT NOT NULL,
  version INTEGER NOT NULL,
  trigger_name TEXT NOT NULL,
  dedupe_key TEXT,
  models TEXT NOT NULL,
  principals TEXT NOT NULL,
  request_ids TEXT NOT NULL,
  linked_count INTEGER NOT NULL,
  rings TEXT NOT NULL,
  directives TEXT NOT NULL,
  facts TEXT NOT NULL,
  regimes TEXT NOT NULL,
  aware_at BIGINT NOT NULL,
  opened_at BIGINT NOT NULL,
  opened_by TEXT NOT NULL,
  updated_at BIGINT NOT NULL,
  reported_at BIGINT,
  report_refs TEXT NOT NULL,
  closed_at BIGINT
);
CREATE INDEX incidents_by_state ON incidents (state, opened_at);
CREATE UNIQUE INDEX incidents_one_active_per_key ON incidents (dedupe_key) WHERE dedupe_key IS NOT NULL AND state IN ('open', 'investigating');
CREATE TABLE incidents_timeline (
  incident_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  at BIGINT NOT NULL,
  by_whom TEXT NOT NULL,
  action TEXT NOT NULL,
  from_state TEXT,
  to_state TEXT,
  why TEXT,
  details TEXT,
  PRIMARY KEY (incident_id, version)
);
`,
  },
];
