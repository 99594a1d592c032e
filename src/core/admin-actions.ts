/**
 * The audit inbox port: how a capability records an admin action taken outside a gateway process (the CLI, or any
 * tool using the repositories). The mutation inserts an `audit_inbox` row with its own transaction handle, so the
 * action and its record commit together; audit/inbox.ts owns the table and drains it into the audit log. Capabilities
 * import this module, never audit/.
 */
import { hostname, userInfo } from 'node:os';
import { bumpRevision } from '../store/changes.ts';
import type { Db } from '../store/db.ts';

export const INBOX_TOPIC = 'audit_inbox';

export interface AdminAction {
  action: string;
  actor: string;
  target?: string;
  details?: Record<string, unknown>;
}

/** Records an admin action for the audit log; call it with the transaction handle of the mutation itself. */
export async function recordAdminAction(tx: Db, a: AdminAction, now = Date.now()): Promise<void> {
  await tx.query('INSERT INTO audit_inbox (at, action, actor, target, details) VALUES ($1, $2, $3, $4, $5)', [
    now,
    a.action,
    a.actor,
    a.target ?? null,
    a.details ? JSON.stringify(a.details) : null,
  ]);
  await bumpRevision(tx, INBOX_TOPIC);
}

/** Who a command-line action is attributed to: `cli:<os user>@<host>`. */
export function cliActor(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): keep 'unknown'
  }
  return `cli:${user}@${hostname()}`;
}
