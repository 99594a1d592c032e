import type { Migration } from '../store/db.ts';

/**
 * programme_applications: one row per application for a trusted-access programme, through its review (granted,
 * rejected) and revocation. kyc_verifications: the verification level an external KYC provider reported for an
 * account; kyc_events: provider event ids already applied (a redelivered event is acknowledged, not re-applied).
 */
export const migrations: Migration[] = [
  {
    id: 'programmes/0001_programmes',
    sql: `
CREATE TABLE programme_applications (
  id TEXT PRIMARY KEY,
  programme TEXT NOT NULL,
  subject_kind TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  evidence TEXT NOT NULL,
  status TEXT NOT NULL,
  tier TEXT,
  expires_at BIGINT,
  decided_by TEXT,
  decided_at BIGINT,
  reason TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX programme_applications_subject ON programme_applications (subject_kind, subject_id);
CREATE TABLE kyc_verifications (
  account_id TEXT PRIMARY KEY,
  level TEXT NOT NULL,
  event_id TEXT NOT NULL,
  provider_time BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE kyc_events (
  event_id TEXT PRIMARY KEY,
  received_at BIGINT NOT NULL
);
`,
  },
];
