/**
 * Canonical JSON: object keys sorted by UTF-16 code unit order, no whitespace, `undefined` members omitted
 * (as JSON.stringify does). Two equal records always give the same bytes, so a hash over them is stable.
 * Non-finite numbers are refused: JSON.stringify would silently turn them into `null` and the hash would
 * then vouch for a value the record never held.
 *
 * Fast path: build a copy whose keys are inserted in sorted order and let the native JSON.stringify write it
 * (~6x faster than concatenating by hand). Engines put integer-like keys ("7", "42") first in numeric order
 * whatever the insertion order, so objects with such keys take the slow, explicit path.
 */
import type { RequestAuditRecord } from './record.ts';

const INTEGER_LIKE = /^(0|[1-9]\d*)$/;

class NeedsSlowPath extends Error {}

function isIntegerLike(k: string): boolean {
  const c0 = k.charCodeAt(0);
  return c0 >= 48 && c0 <= 57 && INTEGER_LIKE.test(k);
}

/** A deep copy with keys in sorted order, or the value itself when it already is (no allocation). */
function sortedCopy(value: unknown): unknown {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: non-finite number ${value}`);
    return value;
  }
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'bigint' || typeof value === 'symbol') throw new TypeError(`canonicalJson: cannot encode ${typeof value}`);
    return value;
  }
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const c = sortedCopy(value[i]);
      if (c !== value[i] && !out) out = value.slice(0, i);
      if (out) out.push(c);
    }
    return out ?? value;
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') throw new NeedsSlowPath();
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  let sorted = true;
  for (let i = 0; i < keys.length; i++) {
    if (isIntegerLike(keys[i])) throw new NeedsSlowPath();
    if (i > 0 && keys[i - 1] > keys[i]) sorted = false;
  }
  if (sorted) {
    // Already in order: reuse the object unless a nested value needs a copy. Primitives are checked inline
    // (this loop runs for every field of every audit record).
    let i = 0;
    for (; i < keys.length; i++) {
      const v = obj[keys[i]];
      if (typeof v === 'object') {
        if (v !== null && sortedCopy(v) !== v) break;
      } else if (typeof v === 'number') {
        if (!Number.isFinite(v)) throw new TypeError(`canonicalJson: non-finite number ${v}`);
      } else if (typeof v === 'bigint' || typeof v === 'symbol') throw new TypeError(`canonicalJson: cannot encode ${typeof v}`);
    }
    if (i === keys.length) return value;
  }
  keys.sort();
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = sortedCopy(obj[k]);
  return out;
}

/**
 * Canonical JSON of `record` with `extras` merged in (extras win), without building the merged object twice:
 * the audit log uses it to add seq/prevHash/time to a caller's record.
 */
export function canonicalJsonWith(record: object, extras: Record<string, unknown>, extraKeysSorted = Object.keys(extras).sort()): string {
  const rec = record as Record<string, unknown>;
  // Merge by position: when `record` is already sorted the result is too and is not copied again.
  const merged: Record<string, unknown> = {};
  const n = extraKeysSorted.length;
  let j = 0;
  for (const k of Object.keys(rec)) {
    while (j < n && extraKeysSorted[j] < k) merged[extraKeysSorted[j]] = extras[extraKeysSorted[j++]];
    if (Object.hasOwn(extras, k)) continue;
    merged[k] = rec[k];
  }
  while (j < n) merged[extraKeysSorted[j]] = extras[extraKeysSorted[j++]];
  return canonicalJson(merged);
}

const CHAIN_KEYS = ['prevHash', 'seq', 'time'];

/**
 * The members of a request record, as `canonicalRequestJson` writes them. Listed so that the type check fails when
 * `RequestAuditRecord` gains a member: a member this serialiser did not write would be missing from the log.
 * (`test/audit.fast-paths.test.ts` checks the serialiser writes every member the record builder sets.)
 */
export const REQUEST_RECORD_MEMBERS = [
  'action', 'code', 'costUsd', 'failedOpen', 'inputTokens', 'kind', 'labels', 'latencyMs', 'modelRequested', 'modelServed', 'netPrefix',
  'outcome', 'outputTokens', 'principal', 'promptHash', 'promptShape', 'promptSketch', 'protocol', 'reasoningRequested', 'ref', 'requestId',
  'requestTime', 'responseHash', 'skipped', 'status', 'stream', 'traceId', 'usageEstimated', 'userAgent',
] as const satisfies readonly (keyof RequestAuditRecord)[];
type Unlisted = Exclude<keyof RequestAuditRecord, (typeof REQUEST_RECORD_MEMBERS)[number]>;
/** Fails to compile (`true` is not `never`) when a member of RequestAuditRecord is not listed above. */
const everyMemberListed: [Unlisted] extends [never] ? true : never = true;
void everyMemberListed;

function finite(n: number): void {
  if (!Number.isFinite(n)) throw new TypeError(`canonicalJson: non-finite number ${n}`);
}

/**
 * Canonical JSON of a request record (the fixed shape `auditRecordFromEvent` builds) with the chain fields merged
 * in: the same bytes as `canonicalJsonWith(record, chain)`, but the top level is one object literal whose keys are
 * written in sorted order here, so neither a merged copy nor a sort nor a walk of its 31 members is needed; only the
 * nested values (principal, labels, ref, skipped, failedOpen) go through the generic sorted copy. Only the members of
 * `RequestAuditRecord` (`REQUEST_RECORD_MEMBERS`) are written.
 */
export function canonicalRequestJson(r: RequestAuditRecord, chain: { seq: number; prevHash: string; time: number }): string {
  try {
    finite(r.costUsd);
    finite(r.inputTokens);
    finite(r.latencyMs);
    finite(r.outputTokens);
    finite(r.requestTime);
    finite(r.status);
    finite(chain.seq);
    finite(chain.time);
    return JSON.stringify({
      action: r.action,
      code: r.code,
      costUsd: r.costUsd,
      failedOpen: sortedCopy(r.failedOpen),
      inputTokens: r.inputTokens,
      kind: r.kind,
      labels: sortedCopy(r.labels),
      latencyMs: r.latencyMs,
      modelRequested: r.modelRequested,
      modelServed: r.modelServed,
      netPrefix: r.netPrefix,
      outcome: r.outcome,
      outputTokens: r.outputTokens,
      prevHash: chain.prevHash,
      principal: sortedCopy(r.principal),
      promptHash: r.promptHash,
      promptShape: r.promptShape,
      promptSketch: r.promptSketch,
      protocol: r.protocol,
      reasoningRequested: r.reasoningRequested,
      ref: sortedCopy(r.ref),
      requestId: r.requestId,
      requestTime: r.requestTime,
      responseHash: r.responseHash,
      seq: chain.seq,
      skipped: sortedCopy(r.skipped),
      status: r.status,
      stream: r.stream,
      time: chain.time,
      traceId: r.traceId,
      usageEstimated: r.usageEstimated,
      userAgent: r.userAgent,
    });
  } catch (e) {
    if (e instanceof NeedsSlowPath) return canonicalJsonWith(r, chain, CHAIN_KEYS);
    throw e;
  }
}

export function canonicalJson(value: unknown): string {
  try {
    return JSON.stringify(sortedCopy(value));
  } catch (e) {
    if (e instanceof NeedsSlowPath) return slowCanonicalJson(value);
    throw e;
  }
}

function slowCanonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: non-finite number ${value}`);
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          const v = value[i];
          out += v === undefined || typeof v === 'function' ? 'null' : slowCanonicalJson(v);
        }
        return out + ']';
      }
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj).sort();
      let out = '{';
      let first = true;
      for (const k of keys) {
        const v = obj[k];
        if (v === undefined || typeof v === 'function') continue;
        if (!first) out += ',';
        first = false;
        out += JSON.stringify(k) + ':' + slowCanonicalJson(v);
      }
      return out + '}';
    }
    default:
      throw new TypeError(`canonicalJson: cannot encode ${typeof value}`);
  }
}
