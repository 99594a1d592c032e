import type { Migration } from '../store/db.ts';

/**
 * operators: local operator accounts (scrypt password hash with its parameters, role, optional expiry for
 * time-boxed access such as an external auditor's). Never deleted: disabling keeps the name attributable.
 * operator_sessions: one row per sign-in; the cookie carries a random token whose SHA-256 is the row id, so a
 * read of the table does not yield usable sessions. csrf is the double-submit token the browser echoes in a header.
 * approvals: two-person control requests (a directive waiting for a second operator), with who asked, who decided.
 */
export const migrations: Migration[] = [
  {
    id: 'console/0001_operators',
    sql: `
CREATE TABLE operators (
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  disabled INTEGER NOT NULL,
  expires_at BIGINT,
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE operator_sessions (
  id TEXT PRIMARY KEY,
  operator TEXT NOT NULL,
  csrf TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  ended_at BIGINT
);
CREATE INDEX operator_sessions_by_operator ON operator_sessions (operator);
CREATE TABLE approvals (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  requested_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  decided_by TEXT,
  decided_at BIGINT,
  decision_note TEXT,
  result_id TEXT
);
CREATE INDEX approvals_by_status ON approvals (status, requested_at);
`,
  },
  {
    // Single sign-on: an operator row made at an OpenID Connect sign-in carries its provider subject (issuer and
    // sub), so a local account and a provider account never merge. oidc_logins holds each sign-in begun and not yet
    // finished (state, nonce and PKCE verifier), keyed by the SHA-256 of the browser's login cookie; single use.
    id: 'console/0002_oidc',
    sql: `
ALTER TABLE operators ADD COLUMN source TEXT NOT NULL DEFAULT 'local';
ALTER TABLE operators ADD COLUMN subject TEXT;
CREATE TABLE oidc_logins (
  id TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  nonce TEXT NOT NULL,
  verifier TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  used_at BIGINT
);
CREATE INDEX oidc_logins_by_created ON oidc_logins (created_at);
`,
  },
  {
    // Admin bearer tokens per operator or service: the SHA-256 of the secret (never the secret), scopes as a JSON
    // list, an expiry always; revoked rows stay so the records that name them keep their meaning.
    id: 'console/0003_admin_tokens',
    sql: `
CREATE TABLE admin_tokens (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  operator TEXT,
  service TEXT,
  role TEXT,
  scopes TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  revoked_at BIGINT,
  revoked_by TEXT,
  last_used_at BIGINT
);
CREATE INDEX admin_tokens_by_operator ON admin_tokens (operator);
`,
  },
  {
    // An operator's mark on a classifier refusal (right or wrong), one per request id; re-marking replaces it.
    id: 'console/0004_classifier_marks',
    sql: `
CREATE TABLE classifier_marks (
  request_id TEXT PRIMARY KEY,
  mark TEXT NOT NULL,
  label TEXT NOT NULL,
  code TEXT,
  scores TEXT NOT NULL,
  model TEXT,
  request_time BIGINT,
  note TEXT,
  marked_by TEXT NOT NULL,
  marked_at BIGINT NOT NULL
);
`,
  },
  {
    // Two-person control beyond suspensions: a change applied at once in an emergency (status `review-required`,
    // the reason in emergency_reason) is acknowledged afterwards by a second operator (reviewed_by, reviewed_at,
    // review_note; status `reviewed`). key_revocations counts each operator's key revocations within the window
    // (a row is reserved before the revocation and removed when it fails).
    id: 'console/0005_two_person_more',
    sql: `
ALTER TABLE approvals ADD COLUMN emergency_reason TEXT;
ALTER TABLE approvals ADD COLUMN reviewed_by TEXT;
ALTER TABLE approvals ADD COLUMN reviewed_at BIGINT;
ALTER TABLE approvals ADD COLUMN review_note TEXT;
CREATE TABLE key_revocations (
  id TEXT PRIMARY KEY,
  operator TEXT NOT NULL,
  key_id TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE INDEX key_revocations_by_operator ON key_revocations (operator, at);
`,
  },
];
