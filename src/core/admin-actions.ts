/**
 * The audit inbox port: how a capability records an admin action taken outside a gateway process (the CLI, or any
 * tool using the repositories). The mutation inserts an `audit_inbox` row with its own transaction handle, so the
 * action and its record commit together; audit/inbox.ts owns the table and drains it into the audit log. Capabilities
 * import this module, never audit/.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { hostname, userInfo } from 'node:os';
import { bumpRevision } from '../store/changes.ts';
import type { Db } from '../store/db.ts';

export const INBOX_TOPIC = 'audit_inbox';

/** The generic actor a gateway's repositories are given for changes made through its admin API. */
export const ADMIN_SERVICE_ACTOR = 'admin-api';

/** Who made the admin request being handled: the signed-in operator, a token's operator or service, or the shared token. */
export interface AdminCaller {
  actor: string;
  /** `session`, `shared-token` or a store token's id. */
  credential?: string;
}

const adminCaller = new AsyncLocalStorage<AdminCaller>();

/**
 * Runs `fn` (an admin request's handler) as `caller`: an action recorded meanwhile names the caller instead of the
 * generic `admin-api`, and carries `caller` and `credential` in its details whatever actor its capability gave.
 */
export function runAsAdminCaller<T>(caller: AdminCaller, fn: () => T): T {
  return adminCaller.run(caller, fn);
}

export interface AdminAction {
  action: string;
  actor: string;
  target?: string;
  details?: Record<string, unknown>;
}

/** Records an admin action for the audit log; call it with the transaction handle of the mutation itself. */
export async function recordAdminAction(tx: Db, a: AdminAction, now = Date.now()): Promise<void> {
  const caller = adminCaller.getStore();
  const actor = caller && a.actor === ADMIN_SERVICE_ACTOR ? caller.actor : a.actor;
  const details = caller ? { ...a.details, caller: caller.actor, ...(caller.credential ? { credential: caller.credential } : {}) } : a.details;
  await tx.query('INSERT INTO audit_inbox (at, action, actor, target, details) VALUES ($1, $2, $3, $4, $5)', [
    now,
    a.action,
    actor,
    a.target ?? null,
    details ? JSON.stringify(details) : null,
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
