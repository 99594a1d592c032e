import type { Migration } from '../store/db.ts';

/**
 * screening_results: one row per (subject, list, entry) that matched, with the score, the explanation and the
 * review status (`pending` until someone confirms or clears it). A `hit` that is `pending` or `confirmed` blocks the
 * subject for governed models; `cleared` (a false positive) does not, and stays cleared on later runs.
 * `version` makes concurrent reviews compare-and-set. screening_lists: the version (content hash) of each list
 * last screened against, so a run can re-screen only when a list was updated.
 */
export const migrations: Migration[] = [
  {
    id: 'screening/0001_results',
    sql: `
CREATE TABLE screening_results (
  id TEXT PRIMARY KEY,
  subject_kind TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  subject_name TEXT NOT NULL,
  list TEXT NOT NULL,
  entry_id TEXT NOT NULL,
  entry_name TEXT NOT NULL,
  matched_name TEXT NOT NULL,
  score DOUBLE PRECISION NOT NULL,
  decision TEXT NOT NULL,
  status TEXT NOT NULL,
  explanation TEXT NOT NULL,
  list_version TEXT NOT NULL,
  screened_at BIGINT NOT NULL,
  reviewed_at BIGINT,
  reviewed_by TEXT,
  review_note TEXT,
  incident_id TEXT,
  version INTEGER NOT NULL
);
CREATE UNIQUE INDEX screening_one_per_match ON screening_results (subject_kind, subject_id, list, entry_id);
CREATE INDEX screening_by_status ON screening_results (status, decision);
CREATE TABLE screening_lists (
  list TEXT PRIMARY KEY,
  version TEXT NOT NULL,
  entries INTEGER NOT NULL,
  screened_at BIGINT NOT NULL
);
`,
  },
];
