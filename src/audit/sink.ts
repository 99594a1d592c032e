/** Adapters from the AuditLog to the gateway's contracts in src/core/gates.ts. */
import type { DurableSink, ReadinessCheck } from '../core/gates.ts';
import type { RequestEvent } from '../core/types.ts';
import type { AuditLog } from './log.ts';
import { adminRecord, auditRecordFromEvent, type AdminAction } from './record.ts';

/** The durability point: `append(event)` resolves once the request's audit record is fsync'd. */
export function auditDurableSink(log: AuditLog): DurableSink {
  return {
    get healthy() {
      return log.healthy;
    },
    append: (event: RequestEvent) => log.append(auditRecordFromEvent(event)),
  };
}

/** /readyz line: not ready while the log cannot be written. */
export function auditReadiness(log: AuditLog): ReadinessCheck {
  return {
    name: 'audit',
    check: () => (log.healthy ? { ok: true, detail: `seq ${log.durableHead.seq}` } : { ok: false, detail: `audit log unwritable: ${log.lastError ?? 'unknown error'}` }),
  };
}

/**
 * For admin paths (key created/revoked, config reloaded, directive issued/lifted, licence granted/revoked):
 * `await auditAdmin('key.revoked', 'admin-token', keyId, {reason})` resolves once the record is durable.
 */
export type AuditAdmin = (action: AdminAction | string, actor: string, target?: string, details?: Record<string, unknown>) => Promise<void>;

export function adminAuditor(log: AuditLog): AuditAdmin {
  return (action, actor, target, details) => log.append(adminRecord(action, actor, target, details));
}
