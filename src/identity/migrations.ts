import type { Migration } from '../store/db.ts';

/**
 * identity_keys: one row per API key. The secret itself is never stored: `hash` is its SHA-256 (hex) and
 * `prefix` its first 8 characters, enough to recognise a key in a listing but useless to an attacker.
 */
export const migrations: Migration[] = [
  {
    id: 'identity/0001_keys',
    sql: `
CREATE TABLE identity_keys (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  prefix TEXT NOT NULL,
  account_id TEXT NOT NULL,
  org_id TEXT,
  nationalities TEXT NOT NULL,
  residence TEXT,
  kyc TEXT NOT NULL,
  programmes TEXT NOT NULL,
  tier TEXT NOT NULL,
  staff INTEGER NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  revoked_at BIGINT,
  revoked_reason TEXT,
  label TEXT,
  account_created_at BIGINT,
  payment_fingerprint TEXT
);
CREATE INDEX identity_keys_account ON identity_keys (account_id);
`,
  },
  {
    // The 'identity' revision at which the row last changed. Revisions are handed out under the gh_revisions
    // row lock, so they follow commit order: a registry can load just `rev > last seen` instead of every key.
    id: 'identity/0002_key_rev',
    sql: `
ALTER TABLE identity_keys ADD COLUMN rev BIGINT NOT NULL DEFAULT 0;
CREATE INDEX identity_keys_rev ON identity_keys (rev);
`,
  },
  {
    // Running gateways and the identity revision each has applied (src/identity/replicas.ts): a key change made
    // elsewhere (the CLI) waits until every live gateway has applied it, so the very next request sees it.
    id: 'identity/0003_replicas',
    sql: `
CREATE TABLE identity_replicas (
  replica_id TEXT PRIMARY KEY,
  rev BIGINT NOT NULL,
  seen_at BIGINT NOT NULL,
  started_at BIGINT NOT NULL
);
`,
  },
];
