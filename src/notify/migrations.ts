import type { Migration } from '../store/db.ts';

/**
 * notify_sent: one row per announced happening that names itself (`NotificationEvent.dedupeKey`). A replica
 * delivers an event only if its insert of the key wins, so a change every replica observes (a directive amended,
 * an incident overdue) is announced once. Rows older than 30 days are purged.
 */
export const migrations: Migration[] = [
  {
    id: 'notify/0001_sent',
    sql: 'CREATE TABLE notify_sent (dedupe_key TEXT PRIMARY KEY, at BIGINT NOT NULL)',
  },
];
