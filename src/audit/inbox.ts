/**
 * The audit inbox: admin actions taken outside a gateway process (the `gatehouse` CLI writing to the store, or
 * any tool using the repositories) reach the audit log through the store. The mutation inserts an inbox row in its
 * own transaction — so the action and its record commit together — and a running gateway claims the rows, appends
 * them to its audit log as `admin` records (`details.source: 'inbox'`, the original time in `details.at`) and
 * deletes them once durable. Until some gateway runs, rows wait in the store.
 *
 * Delivery is at least once: a gateway that dies between its append and the delete leaves the rows claimed; after
 * `reclaimAfterMs` another drain takes them again, so an action can appear twice, never zero times.
 */
import type { ChangeWatcher } from '../store/changes.ts';
import type { Db, Migration } from '../store/db.ts';
import type { AuditLog } from './log.ts';
import { adminRecord } from './record.ts';

import { INBOX_TOPIC } from '../core/admin-actions.ts';

// The write side (recordAdminAction, cliActor) is the port in core/admin-actions.ts; re-exported for callers of audit/.
export { cliActor, INBOX_TOPIC, recordAdminAction, type AdminAction } from '../core/admin-actions.ts';

const inboxTable = (idColumn: string) => `CREATE TABLE audit_inbox (
  id ${idColumn},
  at BIGINT NOT NULL,
  action TEXT NOT NULL,
  actor TEXT NOT NULL,
  target TEXT,
  details TEXT,
  claimed_by TEXT,
  claimed_at BIGINT
)`;

export const migrations: Migration[] = [
  { id: 'audit/0001_inbox', sql: { sqlite: inboxTable('INTEGER PRIMARY KEY AUTOINCREMENT'), postgres: inboxTable('BIGSERIAL PRIMARY KEY') } },
];

interface InboxRow {
  id: number | string;
  at: number | string;
  action: string;
  actor: string;
  target: string | null;
  details: string | null;
}

export interface InboxDrainOptions {
  /** Names this process in claims. */
  replicaId: string;
  /** Poll even without change notifications. Default 1000 ms. */
  intervalMs?: number;
  /** Claims older than this are taken over (their gateway died before deleting). Default 60 s. */
  reclaimAfterMs?: number;
  batch?: number;
  onError?: (err: Error) => void;
}

/** Moves inbox rows into the audit log. One per gateway process; replicas sharing a store split the rows by claim. */
export class AuditInboxDrain {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private again = false;
  private readonly unsubscribe: (() => void) | null;

  constructor(
    private readonly db: Db,
    private readonly log: AuditLog,
    watcher: ChangeWatcher | null,
    private readonly opts: InboxDrainOptions,
  ) {
    this.unsubscribe = watcher ? watcher.on((topic) => topic === INBOX_TOPIC && void this.drain()) : null;
  }

  start(): void {
    void this.drain();
    this.timer = setInterval(() => void this.drain(), this.opts.intervalMs ?? 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.unsubscribe?.();
    while (this.running) await this.running;
  }

  /** Drains until the inbox is empty; concurrent calls share one run. Resolves with the records appended. */
  drain(): Promise<number> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      let total = 0;
      try {
        do {
          this.again = false;
          for (;;) {
            const n = await this.drainBatch();
            total += n;
            if (n < (this.opts.batch ?? 100)) break;
          }
        } while (this.again);
      } catch (err) {
        this.opts.onError?.(err as Error);
      } finally {
        this.running = null;
      }
      return total;
    })();
    return this.running;
  }

  private async drainBatch(): Promise<number> {
    if (!this.log.healthy) return 0; // the rows wait; nothing is lost
    const now = Date.now();
    const limit = this.opts.batch ?? 100;
    const rows = await this.db.query<InboxRow>(
      `UPDATE audit_inbox SET claimed_by = $1, claimed_at = $2
        WHERE id IN (SELECT id FROM audit_inbox WHERE claimed_by IS NULL OR claimed_at < $3 ORDER BY id LIMIT ${Number(limit)})
        RETURNING id, at, action, actor, target, details`,
      [this.opts.replicaId, now, now - (this.opts.reclaimAfterMs ?? 60_000)],
    );
    if (rows.length === 0) return 0;
    rows.sort((a, b) => Number(a.id) - Number(b.id));
    // Appended in order, then deleted: once every append is durable the rows are no longer needed.
    await Promise.all(
      rows.map((r) => {
        const details = { ...(r.details ? (JSON.parse(r.details) as Record<string, unknown>) : {}), source: 'inbox', at: Number(r.at) };
        return this.log.append(adminRecord(r.action, r.actor, r.target ?? undefined, details));
      }),
    );
    await this.db.query(`DELETE FROM audit_inbox WHERE id IN (${rows.map((_, i) => `$${i + 1}`).join(', ')})`, rows.map((r) => r.id));
    return rows.length;
  }
}
