/**
 * Input hygiene for the detector: every record is either accepted or counted under one SkipReason with a
 * precise detail (field path + reason). Nothing here throws on bad input.
 *
 * - missing/malformed fields: checked field by field (only the fields the detector uses, plus requestId/time).
 * - clock skew: event time later than now + maxClockSkewMs.
 * - duplicates: a request id already seen within the last `dedupCapacity` ids (bounded FIFO set).
 * - replays: an event older than the stream watermark (latest accepted time) minus `replayWindowMs`; such an
 *   event is beyond the dedup horizon, so it cannot be told from a replay and is refused.
 */
import type { AbuseEvent, AccountMeta, SkipReason } from './types.ts';
import { isSketch } from './sketch.ts';

export type Parsed =
  | { kind: 'request'; event: AbuseEvent }
  | { kind: 'account'; meta: AccountMeta }
  | { kind: 'skip'; reason: SkipReason; detail: string }
  | { kind: 'ignore' };

const MAX_ID = 256;
const REQUEST_STRINGS = ['orgId', 'netPrefix', 'userAgent', 'modelRequested'] as const;
const TOKEN_FIELDS = ['inputTokens', 'outputTokens'] as const;

function skip(reason: SkipReason, detail: string): Parsed {
  return { kind: 'skip', reason, detail };
}

function optString(o: Record<string, unknown>, k: string): string | null {
  const v = o[k];
  if (v === undefined || v === null) return null;
  return typeof v === 'string' && v.length <= MAX_ID ? v : '\u0000bad';
}

/** Shape check of one record (a RequestEvent, `{kind:'request',...event}`, `{kind:'account',...meta}`). */
export function parseRecord(rec: unknown): Parsed {
  if (typeof rec !== 'object' || rec === null || Array.isArray(rec)) return skip('not_an_object', '$: expected an object');
  const o = rec as Record<string, unknown>;
  const kind = o.kind;
  if (kind === 'account') return parseAccount(o);
  if (kind !== undefined && kind !== 'request') {
    // Other audit-log records (admin actions, decisions) are legitimately present in the stream.
    return typeof kind === 'string' ? { kind: 'ignore' } : skip('malformed_field', '$.kind: expected a string');
  }
  const src = kind === 'request' && typeof o.event === 'object' && o.event !== null ? (o.event as Record<string, unknown>) : o;
  return parseRequest(src);
}

function parseRequest(o: Record<string, unknown>): Parsed {
  const id = o.requestId;
  if (id === undefined || id === null) return skip('missing_field', '$.requestId: required');
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID) return skip('malformed_field', '$.requestId: expected a non-empty string of at most 256 chars');
  const time = o.time;
  if (time === undefined || time === null) return skip('missing_field', '$.time: required');
  if (typeof time !== 'number' || !Number.isFinite(time) || time < 0) return skip('malformed_field', '$.time: expected epoch milliseconds');
  if (o.accountId === undefined) return skip('missing_field', '$.accountId: required (null allowed)');
  if (o.accountId !== null && (typeof o.accountId !== 'string' || o.accountId.length === 0 || o.accountId.length > MAX_ID)) return skip('malformed_field', '$.accountId: expected a non-empty string or null');
  for (const k of TOKEN_FIELDS) {
    const v = o[k];
    if (v === undefined || v === null) return skip('missing_field', `$.${k}: required`);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return skip('malformed_field', `$.${k}: expected a non-negative number`);
  }
  if (o.promptSketch !== undefined && o.promptSketch !== null && !isSketch(o.promptSketch)) return skip('malformed_field', '$.promptSketch: expected 16 lowercase hex chars');
  for (const k of REQUEST_STRINGS) {
    if (optString(o, k) === '\u0000bad') return skip('malformed_field', `$.${k}: expected a string of at most 256 chars`);
  }
  if (o.reasoningRequested !== undefined && typeof o.reasoningRequested !== 'boolean') return skip('malformed_field', '$.reasoningRequested: expected a boolean');
  if (o.accountId === null) return skip('no_account', '$.accountId: null (unauthenticated request)');
  return { kind: 'request', event: o as unknown as AbuseEvent };
}

function parseAccount(o: Record<string, unknown>): Parsed {
  if (typeof o.accountId !== 'string' || o.accountId.length === 0 || o.accountId.length > MAX_ID) return skip(o.accountId === undefined ? 'missing_field' : 'malformed_field', '$.accountId: expected a non-empty string');
  if (o.createdAt !== undefined && (typeof o.createdAt !== 'number' || !Number.isFinite(o.createdAt))) return skip('malformed_field', '$.createdAt: expected epoch milliseconds');
  for (const k of ['orgId', 'paymentFingerprint', 'netPrefix', 'clientFingerprint', 'kyc'] as const) {
    if (optString(o, k) === '\u0000bad') return skip('malformed_field', `$.${k}: expected a string of at most 256 chars`);
  }
  return { kind: 'account', meta: o as unknown as AccountMeta };
}

/** Bounded set of recently seen ids with FIFO eviction: memory = capacity ids. */
export class RecentIds {
  private readonly set = new Set<string>();
  private readonly ring: (string | undefined)[];
  private next = 0;
  constructor(readonly capacity: number) {
    this.ring = new Array(capacity);
  }
  /** True when the id was already present; otherwise remembers it. */
  seenOrAdd(id: string): boolean {
    if (this.set.has(id)) return true;
    const old = this.ring[this.next];
    if (old !== undefined) this.set.delete(old);
    this.ring[this.next] = id;
    this.next = (this.next + 1) % this.capacity;
    this.set.add(id);
    return false;
  }
  get size(): number {
    return this.set.size;
  }
  toJSON(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.capacity; i++) {
      const id = this.ring[(this.next + i) % this.capacity];
      if (id !== undefined) out.push(id);
    }
    return out;
  }
  static from(capacity: number, ids: string[]): RecentIds {
    const r = new RecentIds(capacity);
    for (const id of ids.slice(-capacity)) r.seenOrAdd(id);
    return r;
  }
}

export interface ValidatorOptions {
  dedupCapacity: number;
  maxClockSkewMs: number;
  replayWindowMs: number;
  now: () => number;
}

/** Stateful checks (skew, duplicates, replays) on top of parseRecord, with per-reason counters. */
export class EventValidator {
  readonly skipped: Record<string, number> = Object.create(null);
  /** A few recent skip details per reason, for operators. */
  readonly lastDetail: Record<string, string> = Object.create(null);
  accepted = 0;
  watermark = 0;
  recent: RecentIds;
  constructor(private readonly opts: ValidatorOptions) {
    this.recent = new RecentIds(opts.dedupCapacity);
  }

  count(reason: SkipReason, detail: string): void {
    this.skipped[reason] = (this.skipped[reason] ?? 0) + 1;
    this.lastDetail[reason] = detail;
  }

  /** Returns the event when it may be ingested, otherwise counts why not and returns null. */
  admit(e: AbuseEvent): AbuseEvent | null {
    if (e.time > this.opts.now() + this.opts.maxClockSkewMs) {
      this.count('clock_skew', `$.time: ${new Date(e.time).toISOString()} is beyond now + ${this.opts.maxClockSkewMs} ms`);
      return null;
    }
    if (e.time < this.watermark - this.opts.replayWindowMs) {
      this.count('replay', `$.time: older than the stream watermark minus ${this.opts.replayWindowMs} ms (request ${e.requestId})`);
      return null;
    }
    if (this.recent.seenOrAdd(e.requestId)) {
      this.count('duplicate', `$.requestId: ${e.requestId} already seen`);
      return null;
    }
    if (e.time > this.watermark) this.watermark = e.time;
    this.accepted++;
    return e;
  }
}
