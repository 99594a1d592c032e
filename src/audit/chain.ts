/**
 * The hash chain, as pure functions over bytes. Every line of an audit file is the canonical JSON of one
 * record; each record carries `seq` (1, 2, 3… with no gaps), `prevHash` (the previous record's `hash`, or
 * GENESIS_HASH for the first record of a log) and `hash` = SHA-256 (hex) over the canonical JSON of the record
 * without its `hash` member; the line is that canonical JSON with `"hash"` appended as the last member. Order is by `seq` only: `time` is informative and may step backwards.
 */
import { createHash, hash as oneShotHash } from 'node:crypto';
import { canonicalJson, canonicalJsonWith, canonicalRequestJson } from './canonical-json.ts';
import type { RequestAuditRecord } from './record.ts';

export const GENESIS_HASH = '0'.repeat(64);

export interface ChainHead {
  /** seq of the last record (0 before the first). */
  seq: number;
  hash: string;
}

export interface AuditLine {
  seq: number;
  prevHash: string;
  hash: string;
  kind: string;
  time: number;
  [k: string]: unknown;
}

/** Hash a record body (everything but `hash`). */
export function hashBody(body: Record<string, unknown>): string {
  return sha256Hex(canonicalJson(body));
}

/** One-shot hash where available (Node >= 20.12): no Hash object per record. */
const sha256Hex: (s: string) => string =
  typeof oneShotHash === 'function' ? (s) => oneShotHash('sha256', s, 'hex') : (s) => createHash('sha256').update(s).digest('hex');

/**
 * Seal a body into the line written to disk: the canonical JSON of the body with `"hash"` appended as its last
 * member, plus a newline. (Appending rather than sorting `hash` in means one canonicalisation per record.)
 */
export function sealRecord(body: Record<string, unknown>): { line: string; hash: string } {
  const json = canonicalJson(body);
  const hash = sha256Hex(json);
  return { line: withHash(json, hash) + '\n', hash };
}

/** Seal `record` extended with the chain fields (seq, prevHash, time) without copying it first. */
const CHAIN_KEYS = ['prevHash', 'seq', 'time'];

export function sealWith(record: object, chain: { seq: number; prevHash: string; time: number }): { line: string; hash: string } {
  const json = canonicalJsonWith(record, chain, CHAIN_KEYS);
  const hash = sha256Hex(json);
  return { line: withHash(json, hash) + '\n', hash };
}

/** `sealWith` for a request record built by `auditRecordFromEvent`: the same line, serialised by its fixed shape. */
export function sealRequestWith(record: RequestAuditRecord, chain: { seq: number; prevHash: string; time: number }): { line: string; hash: string } {
  const json = canonicalRequestJson(record, chain);
  const hash = sha256Hex(json);
  return { line: withHash(json, hash) + '\n', hash };
}

function withHash(bodyJson: string, hash: string): string {
  return bodyJson.length > 2 ? `${bodyJson.slice(0, -1)},"hash":"${hash}"}` : `{"hash":"${hash}"}`;
}

export interface BadRecord {
  /** seq the record claims (or the one expected when the line could not be parsed). */
  seq: number | null;
  expectedSeq: number;
  /** 1-based line number in the file (null when scanning a tail window whose line numbers are unknown). */
  line: number | null;
  /** Byte offset of the start of the bad line. */
  offset: number;
  reason: string;
}

export interface ScanResult {
  /** Records that verified, in order. */
  count: number;
  /** Head after the last good record. */
  head: ChainHead;
  /** Byte offset just after the last good record's newline. */
  goodBytes: number;
  firstBad: BadRecord | null;
  /** Parsed good records (only when collect=true). */
  records: AuditLine[];
}

export interface ScanOptions {
  /** Where this buffer starts in the file (for offsets), default 0. */
  baseOffset?: number;
  /** Line number of the buffer's first line, or null when unknown. Default 1. */
  firstLine?: number | null;
  /** Chain state the first record must continue; null = take it from the first record (tail windows). */
  expect?: ChainHead | null;
  collect?: boolean;
  /** Called for each good record (e.g. to check checkpoint signatures); return a reason to fail it. */
  check?: (rec: AuditLine) => string | null;
}

/**
 * Walk a buffer of complete-or-truncated lines and stop at the first record that does not verify:
 * unparseable or non-canonical bytes, a wrong hash (edited), a seq gap (deleted), a seq going back or repeated
 * (reordered / inserted), a prevHash that is not the previous hash (inserted / reordered), a missing final
 * newline (truncated write).
 */
export function scanChain(buf: Buffer, opts: ScanOptions = {}): ScanResult {
  const base = opts.baseOffset ?? 0;
  let lineNo: number | null = opts.firstLine === undefined ? 1 : opts.firstLine;
  let head: ChainHead | null = opts.expect === undefined ? { seq: 0, hash: GENESIS_HASH } : opts.expect;
  let pos = 0;
  let count = 0;
  const records: AuditLine[] = [];
  const fail = (reason: string, seq: number | null): ScanResult => ({
    count,
    head: head ?? { seq: 0, hash: GENESIS_HASH },
    goodBytes: base + pos,
    firstBad: { seq, expectedSeq: head ? head.seq + 1 : -1, line: lineNo, offset: base + pos, reason },
    records,
  });
  while (pos < buf.length) {
    const nl = buf.indexOf(10, pos);
    if (nl === -1) return fail(`truncated record: ${buf.length - pos} bytes without a final newline`, null);
    const text = buf.toString('utf8', pos, nl);
    let rec: AuditLine;
    try {
      rec = JSON.parse(text) as AuditLine;
    } catch {
      return fail('unparseable line (not JSON)', null);
    }
    if (typeof rec !== 'object' || rec === null || typeof rec.seq !== 'number' || typeof rec.hash !== 'string' || typeof rec.prevHash !== 'string') {
      return fail('not an audit record (missing seq, hash or prevHash)', null);
    }
    const { hash, ...body } = rec;
    let bodyJson: string;
    try {
      bodyJson = canonicalJson(body);
    } catch (e) {
      return fail(`not canonical: ${(e as Error).message}`, rec.seq);
    }
    if (sha256Hex(bodyJson) !== hash) return fail('hash does not match the record content (record was edited)', rec.seq);
    if (withHash(bodyJson, hash) !== text) return fail('line is not in canonical form (bytes were edited)', rec.seq);
    if (head) {
      if (rec.seq !== head.seq + 1) {
        const why = rec.seq > head.seq + 1 ? `seq gap: expected ${head.seq + 1}, found ${rec.seq} (records deleted)` : `seq out of order: expected ${head.seq + 1}, found ${rec.seq} (records reordered or inserted)`;
        return fail(why, rec.seq);
      }
      if (rec.prevHash !== head.hash) return fail(`prevHash does not match the hash of record ${head.seq} (record inserted, replaced or reordered)`, rec.seq);
    }
    if (opts.check) {
      const why = opts.check(rec);
      if (why) return fail(why, rec.seq);
    }
    head = { seq: rec.seq, hash };
    count++;
    if (opts.collect) records.push(rec);
    pos = nl + 1;
    if (lineNo !== null) lineNo++;
  }
  return { count, head: head ?? { seq: 0, hash: GENESIS_HASH }, goodBytes: base + pos, firstBad: null, records };
}
