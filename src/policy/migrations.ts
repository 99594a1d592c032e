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
  {
    /**
     * policy_licence_exports: the exports each licence covers (recipient, model, destination, validity), recorded
     * and revoked like licences; rows are never deleted.
     */
    id: 'policy/0002_licence_exports',
    sql: `
CREATE TABLE policy_licence_exports (
  id TEXT PRIMARY KEY,
  licence_id TEXT NOT NULL,
  recipient TEXT NOT NULL,
  model TEXT NOT NULL,
  destination TEXT NOT NULL,
  valid_from BIGINT NOT NULL,
  valid_to BIGINT NOT NULL,
  recorded_at BIGINT NOT NULL,
  recorded_by TEXT NOT NULL,
  revoked_at BIGINT,
  revoked_by TEXT,
  revoked_reason TEXT
);
CREATE INDEX policy_licence_exports_by_licence ON policy_licence_exports (licence_id);
`,
  },
];
