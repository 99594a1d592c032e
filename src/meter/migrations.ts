import type { Migration } from '../store/db.ts';

/**
 * One row per (UTC day, key, account, org, model). Missing ids are stored as '' (not NULL) so the primary key
 * works on both backends and upserts merge.
 */
export const migrations: Migration[] = [
  {
    id: 'meter/0001_usage_daily',
    sql: `CREATE TABLE meter_usage_daily (
  day TEXT NOT NULL,
  key_id TEXT NOT NULL,
  account_id TEXT NOT NULL,
  org_id TEXT NOT NULL,
  model TEXT NOT NULL,
  requests BIGINT NOT NULL,
  refused BIGINT NOT NULL,
  estimated BIGINT NOT NULL,
  input_tokens BIGINT NOT NULL,
  output_tokens BIGINT NOT NULL,
  cost_usd DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (day, key_id, account_id, org_id, model)
);
CREATE INDEX meter_usage_daily_account ON meter_usage_daily (account_id, day);
CREATE INDEX meter_usage_daily_org ON meter_usage_daily (org_id, day)`,
  },
];
