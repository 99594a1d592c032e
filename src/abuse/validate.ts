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
  // The gateway's audit log carries account metadata as an admin record (see server/compose.ts).
  if (kind === 'admin' && o.action === 'abuse.account') {
    return typeof o.details === 'object' && o.details !== null && !Array.isArray(o.details) ? parseAccount(o.details as Record<string, unknown>) : skip('malformed_field', '$.details: expected the account metadata object');
  }
  if (kind !== undefined && kind !== 'request') {
    // Other audit-log records (admin actions, decisions) are legitimately present in the stream.
    return typeof kind === 'string' ? { kind: 'ignore' } : skip('malformed_field', '$.kind: expected a string');
  }
  const src = kind === 'request' && typeof o.event === 'object' && o.event !== null ? (o.event as Record<string, unknown>) : o;
  return parseRequest(kind === 'request' ? fromAuditShape(src) : src);
}

/**
 * The audit log's request record (src/audit/record.ts) nests the principal and calls the arrival time
 * `requestTime` (its `time` is the append time). Map it onto RequestEvent field names; other shapes pass through.
 */
function fromAuditShape(o: Record<string, unknown>): Record<string, unknown> {
  const p = o.principal;
  if (o.requestTime === undefined || typeof p !== 'object' || p === null) return o;
  const pr = p as Record<string, unknown>;
  return { ...o, time: o.requestTime, accountId: pr.accountId === undefined ? null : pr.accountId, orgId: pr.orgId ?? null, keyId: pr.keyId ?? null };
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
  if (o.promptShape !== undefined && o.promptShape !== null && !isSketch(o.promptShape)) return skip('malformed_field', '$.promptShape: expected 16 lowercase hex chars');
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

/**
 * Bounded set of recently seen request ids with FIFO eviction. Stores a 64-bit hash per id (two FNV-1a
 * variants), not the string: open addressing with linear probing and backward-shift deletion in a
 * power-of-two table of ≥ 2 × capacity slots, plus a FIFO ring of the inserted hashes. Memory ≤ 40 bytes per
 * id of capacity; a false "duplicate" needs a 64-bit collision (≈ capacity² / 2^65).
 */
export class RecentIds {
  private readonly mask: number;
  private readonly lo: Uint32Array;
  private readonly hi: Uint32Array;
  private readonly used: Uint8Array;
  private readonly ringLo: Uint32Array;
  private readonly ringHi: Uint32Array;
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    let m = 1;
    while (m < capacity * 2) m <<= 1;
    this.mask = m - 1;
    this.lo = new Uint32Array(m);
    this.hi = new Uint32Array(m);
    this.used = new Uint8Array(m);
    this.ringLo = new Uint32Array(capacity);
    this.ringHi = new Uint32Array(capacity);
  }

  static bytesFor(capacity: number): number {
    let m = 1;
    while (m < capacity * 2) m <<= 1;
    return m * 9 + capacity * 8;
  }

  /** True when the id was already present; otherwise remembers it. */
  seenOrAdd(id: string): boolean {
    let a = 0x811c9dc5;
    let b = 0x9747b28c;
    for (let i = 0; i < id.length; i++) {
      const c = id.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
    }
    return this.seenOrAddHash(a >>> 0, (b ^ (b >>> 15)) >>> 0);
  }

  private seenOrAddHash(lo: number, hi: number): boolean {
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    while (this.used[i]) {
      if (this.lo[i] === lo && this.hi[i] === hi) return true;
      i = (i + 1) & this.mask;
    }
    if (this.count === this.capacity) this.remove(this.ringLo[this.next], this.ringHi[this.next]);
    else this.count++;
    // The slot found above may have moved if remove() shifted entries; find the first free slot again.
    i = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    while (this.used[i]) i = (i + 1) & this.mask;
    this.used[i] = 1;
    this.lo[i] = lo;
    this.hi[i] = hi;
    this.ringLo[this.next] = lo;
    this.ringHi[this.next] = hi;
    this.next = (this.next + 1) % this.capacity;
    return false;
  }

  private remove(lo: number, hi: number): void {
    const m = this.mask;
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & m;
    while (this.used[i] && !(this.lo[i] === lo && this.hi[i] === hi)) i = (i + 1) & m;
    if (!this.used[i]) return;
    // Backward-shift deletion keeps every probe chain unbroken without tombstones.
    let j = i;
    for (;;) {
      j = (j + 1) & m;
      if (!this.used[j]) break;
      const home = (this.lo[j] ^ Math.imul(this.hi[j], 0x9e3779b1)) & m;
      // Move j into the hole at i unless its home lies cyclically in (i, j].
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        this.lo[i] = this.lo[j];
        this.hi[i] = this.hi[j];
        i = j;
      }
    }
    this.used[i] = 0;
  }

  get size(): number {
    return this.count;
  }

  /** Hashes, oldest first, as base64 of [lo, hi] pairs. */
  toJSON(): string {
    const out = new Uint32Array(this.count * 2);
    const start = this.count === this.capacity ? this.next : 0;
    for (let k = 0; k < this.count; k++) {
      const r = (start + k) % this.capacity;
      out[2 * k] = this.ringLo[r];
      out[2 * k + 1] = this.ringHi[r];
    }
    return Buffer.from(out.buffer).toString('base64');
  }

  static from(capacity: number, encoded: string): RecentIds {
    const r = new RecentIds(capacity);
    const buf = Buffer.from(typeof encoded === 'string' ? encoded : '', 'base64');
    const pairs = new Uint32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + (buf.byteLength & ~7)) as ArrayBuffer);
    for (let k = Math.max(0, pairs.length / 2 - capacity); k < pairs.length / 2; k++) r.seenOrAddHash(pairs[2 * k], pairs[2 * k + 1]);
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
