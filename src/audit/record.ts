/**
 * Audit record shapes and builders. Prompt and response text never enter a record: only a keyed hash
 * (HMAC-SHA256) so a known text can be matched later without the log disclosing it.
 */
import { createHash, createHmac, hash as oneShotHash } from 'node:crypto';
import type { RequestEvent } from '../core/types.ts';

/**
 * A request's audit record: its `RequestEvent` (every field as it is, so the record follows the event when a field
 * is added), with the arrival `time` as `requestTime`, the principal's ids under `principal`, the decision as one
 * word (`action`) and the keyed hash of the reply.
 */
export interface RequestAuditRecord extends Omit<RequestEvent, 'time' | 'keyId' | 'accountId' | 'orgId'> {
  kind: 'request';
  /** When the request arrived (epoch ms); the log adds its own `time` when the record is appended. */
  requestTime: number;
  principal: { keyId: string | null; accountId: string | null; orgId: string | null };
  /** allow | route | refuse | error — what the gateway decided and did. */
  action: string;
  responseHash?: string;
}

export type AdminAction =
  | 'key.created'
  | 'key.revoked'
  | 'config.reloaded'
  | 'policy.reloaded'
  | 'directive.issued'
  | 'directive.lifted'
  | 'directive.amended'
  | 'licence.granted'
  | 'licence.revoked';

export interface AdminAuditRecord {
  kind: 'admin';
  action: AdminAction | string;
  /** Who did it: admin token id, CLI user, etc. */
  actor: string;
  /** What it was done to: key id, directive id, licence id, config file… */
  target?: string;
  /** Short machine-readable details (never secrets). */
  details?: Record<string, unknown>;
}

/** A record as given to the log; the log adds seq, prevHash, time and hash. */
export type AuditInput = { readonly kind: string; readonly [k: string]: unknown } | RequestAuditRecord | AdminAuditRecord;

/** The decision an event stands for, as one word used in queries (`--action refuse`). */
export function actionOf(event: RequestEvent): string {
  if (event.outcome === 'refused' || event.outcome === 'moderated') return 'refuse';
  if (event.outcome === 'invalid') return 'invalid';
  if (event.outcome === 'upstream_error' || event.outcome === 'stream_error' || event.outcome === 'internal_error') return 'error';
  if (event.modelServed && event.modelServed !== event.modelRequested) return 'route';
  return 'allow';
}

/**
 * Scores a failed classifier stage left unset (NaN) are not scores: they are left out of the record (the canonical
 * form admits only finite numbers), and `failedOpen` or the `classifier_unavailable` code says what happened.
 */
function finiteLabels(labels: Record<string, number> | undefined): Record<string, number> | undefined {
  if (!labels) return undefined;
  for (const v of Object.values(labels)) {
    if (!Number.isFinite(v)) return Object.fromEntries(Object.entries(labels).filter(([, s]) => Number.isFinite(s)));
  }
  return labels;
}

/** Build the audit record for one request decision. `responseHash` may be supplied by the caller (keyed hash of the output). */
export function auditRecordFromEvent(event: RequestEvent, extra: { responseHash?: string } = {}): RequestAuditRecord {
  // Keys in sorted order (undefined members are omitted by JSON): canonicalisation then reuses this object as is.
  return {
    action: actionOf(event),
    code: event.code,
    costUsd: event.costUsd,
    failedOpen: event.failedOpen,
    inputTokens: event.inputTokens,
    kind: 'request',
    labels: finiteLabels(event.labels),
    latencyMs: event.latencyMs,
    modelRequested: event.modelRequested,
    modelServed: event.modelServed,
    netPrefix: event.netPrefix,
    outcome: event.outcome,
    outputTokens: event.outputTokens,
    principal: { accountId: event.accountId, keyId: event.keyId, orgId: event.orgId },
    promptHash: event.promptHash,
    promptShape: event.promptShape,
    promptSketch: event.promptSketch,
    protocol: event.protocol,
    reasoningRequested: event.reasoningRequested,
    ref: event.ref,
    requestId: event.requestId,
    requestTime: event.time,
    responseHash: extra.responseHash,
    skipped: event.skipped,
    status: event.status,
    stream: event.stream,
    traceId: event.traceId,
    usageEstimated: event.usageEstimated,
    userAgent: event.userAgent,
  };
}

export function adminRecord(action: AdminAction | string, actor: string, target?: string, details?: Record<string, unknown>): AdminAuditRecord {
  const rec: AdminAuditRecord = { kind: 'admin', action, actor };
  if (target !== undefined) rec.target = target;
  if (details !== undefined) rec.details = details;
  return rec;
}

/** `env:NAME` reads the key from the environment; anything else is the key itself (UTF-8). */
export function hmacKeyFrom(spec: string): Buffer {
  if (spec.startsWith('env:')) {
    const v = process.env[spec.slice(4)];
    if (!v) throw new Error(`audit.textHashKey: environment variable ${spec.slice(4)} is not set`);
    return Buffer.from(v);
  }
  return Buffer.from(spec);
}

export function keyedTextHash(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text).digest('hex');
}

/** Texts up to this many UTF-8 bytes are hashed in a reused buffer; longer ones get a buffer of their own. */
const SCRATCH_LIMIT = 1 << 20;

/**
 * `keyedTextHash` with the key fixed, for the request path: the same HMAC-SHA256 (RFC 2104) computed as two one-shot
 * SHA-256 hashes over the key's pads, which are prepared once, with the text encoded into a reused buffer. No Hmac
 * object, key object or digest stream per call (about half the cost of `createHmac` for a short prompt).
 */
export function keyedTextHasher(key: Buffer): (text: string) => string {
  if (typeof oneShotHash !== 'function') return (text) => keyedTextHash(key, text);
  const block = Buffer.alloc(64);
  (key.length > 64 ? createHash('sha256').update(key).digest() : key).copy(block);
  const ipad = Buffer.from(block.map((b) => b ^ 0x36));
  const outer = Buffer.alloc(96);
  for (let i = 0; i < 64; i++) outer[i] = block[i]! ^ 0x5c;
  let scratch = Buffer.alloc(64 + 4096);
  ipad.copy(scratch);
  return (text) => {
    const max = 64 + text.length * 3; // UTF-8 never takes more than 3 bytes per UTF-16 unit
    let buf = scratch;
    if (max > buf.length) {
      buf = Buffer.allocUnsafe(max);
      ipad.copy(buf);
      if (max <= SCRATCH_LIMIT) scratch = buf;
    }
    const n = buf.write(text, 64, 'utf8');
    outer.write(oneShotHash('sha256', buf.subarray(0, 64 + n), 'binary'), 64, 'binary');
    return oneShotHash('sha256', outer, 'hex');
  };
}
