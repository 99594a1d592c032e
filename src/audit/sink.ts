/** Adapters from the AuditLog (and the optional TextVault) to the gateway's contracts in src/core/gates.ts. */
import { conversationText, promptText } from '../core/canonical.ts';
import type { DurableSink, ReadinessCheck, RequestText } from '../core/gates.ts';
import type { RequestEvent } from '../core/types.ts';
import type { AuditLog } from './log.ts';
import { adminRecord, auditRecordFromEvent, type AdminAction } from './record.ts';
import type { TextVault } from './retention.ts';

const done = () => {};

/**
 * The durability point: `append(event, text)` resolves once the request's audit record is fsync'd and, with
 * retention on, its encrypted text too. With a textHashKey the record carries `responseHash`, the keyed hash of
 * what the model produced. A request no model served has no response hash.
 */
export function auditDurableSink(log: AuditLog, vault: TextVault | null = null): DurableSink {
  return {
    get healthy() {
      return log.healthy && (vault === null || vault.healthy);
    },
    wantsText: log.hashesText || vault !== null,
    append(event: RequestEvent, text?: RequestText) {
      const responseHash = text && event.modelServed !== null ? log.hashText(text.response) : null;
      const record = log.appendRequest(auditRecordFromEvent(event, responseHash ? { responseHash } : {}));
      if (!vault || !text) return record;
      const conversation = conversationText(text.request);
      const retained = vault.store(event.requestId, { prompt: promptText(conversation), conversation, response: text.response }, event.time);
      return Promise.all([record, retained]).then(done);
    },
  };
}

/** /readyz line: not ready while the log (or the retained-text store) cannot be written. */
export function auditReadiness(log: AuditLog, vault: TextVault | null = null): ReadinessCheck {
  return {
    name: 'audit',
    check: () => {
      if (!log.healthy) return { ok: false, detail: `audit log unwritable: ${log.lastError ?? 'unknown error'}` };
      if (vault && !vault.healthy) return { ok: false, detail: `retained text unwritable: ${vault.lastError ?? 'unknown error'}` };
      return { ok: true, detail: `seq ${log.durableHead.seq}` };
    },
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

/**
 * Fire-and-forget admin records for the gateway's own paths (reloads, abuse actions, retention purges): the caller
 * does not wait; a failed append is handed to `onError`. Without a log (`audit:` off) it records nothing.
 */
export type AdminRecorder = (action: AdminAction | string, actor: string, target?: string, details?: Record<string, unknown>) => void;

export function adminRecorder(log: AuditLog | null, onError: (err: Error, action: string) => void): AdminRecorder {
  return (action, actor, target, details) => {
    if (!log) return;
    log.append(adminRecord(action, actor, target, details)).catch((err: Error) => onError(err, action));
  };
}
