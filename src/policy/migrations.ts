import type { Migration } from '../store/db.ts';

/** policy_licences: the licence ledger. Revocation sets revoked_at; rows are never deleted. */
export const migrations: Migration[] = [
  {
    id: 'policy/0001_licences',
    sql: `
CREATE TABLE policy_licences (
  id TEXT PRIMARY KEY,
  licensee_type TEXT NOT NULL,
  licensee TEXT NOT NULL,
  models TEXT NOT NULL,
  nationalities TEXT NOT NULL,
  destinations TEXT NOT NULL,
  valid_from BIGINT NOT NULL,
  valid_to BIGINT NOT NULL,
  reference TEXT NOT NULL,
  authority TEXT NOT NULL,
  revoked_at BIGINT,
  revoked_reason TEXT,
  revoked_by TEXT,
  granted_at BIGINT NOT NULL,
  granted_by TEXT NOT NULL
);
CREATE INDEX policy_licences_by_licensee ON policy_licences (licensee_type, licensee);
`,
  },
];
