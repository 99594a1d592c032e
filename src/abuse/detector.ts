/**
 * The streaming detector: validates each record, folds accepted events into the bounded account table,
 * and on demand (`analyse()`) groups suspect accounts into rings. Memory is bounded by
 * `memoryBoundBytes(config)`: accountCapacity slots + dedupCapacity recent ids + one analysis pass.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { AccountTable, HOURS, ITEM_K, PFX_K, bytesPerAccount, strHash } from './account-table.ts';
import { analyse, type Analysis } from './cluster.ts';
import { abuseConfig, type AbuseConfig } from './config.ts';
import { bandKeys } from './sketch.ts';
import type { AbuseEvent, AccountMeta } from './types.ts';
import { EventValidator, RecentIds, parseRecord } from './validate.ts';

const HOUR = 3_600_000;

/** Eight validated lowercase hex chars from `at`, as an unsigned 32-bit value. */
function hexWord(v: string, at: number): number {
  let x = 0;
  for (let i = at; i < at + 8; i++) {
    const c = v.charCodeAt(i);
    x = x * 16 + (c <= 57 ? c - 48 : c - 87);
  }
  return x;
}
const MAX_ID = 256;
const SNAPSHOT_VERSION = 3;

/**
 * Transient bytes per suspect during analyse(): the suspect record and its key list (≤ KEYS_PER_SUSPECT = 30
 * numbers), its normalised hour profile, its share of the key-purity index (≤ 30 entries), of the candidate
 * blocks (≤ 27 entries) and of the attachment index, union–find and per-channel edge sums: estimated ≈ 3–4 KB;
 * the bound takes 8 KB.
 */
export const ANALYSIS_BYTES_PER_SUSPECT = 8192;
/** Transient bytes per tracked account during analyse(): features pass, population quantiles, suspect flags. */
export const ANALYSIS_BYTES_PER_ACCOUNT = 96;

/**
 * Upper bound on detector memory in bytes, as a formula of the configured capacities:
 *   accountCapacity × bytesPerAccount(256)            per-account slot, strings at their 256-char cap
 * + RecentIds.bytesFor(dedupCapacity) ≤ dedupCapacity × 44   recent request ids as 64-bit hashes
 * + accountCapacity × ANALYSIS_BYTES_PER_ACCOUNT      analyse(): slot list, quantiles, suspect flags
 * + maxSuspects × ANALYSIS_BYTES_PER_SUSPECT          analyse(): keys, purity index, blocks, union–find, edges
 * + maxRings-bounded ring output (members ≤ maxSuspects ids, already counted in the account strings)
 */
export function memoryBoundBytes(cfg: Pick<AbuseConfig, 'accountCapacity' | 'dedupCapacity' | 'maxSuspects'>, maxIdLength = MAX_ID): number {
  return cfg.accountCapacity * (bytesPerAccount(maxIdLength) + ANALYSIS_BYTES_PER_ACCOUNT) + RecentIds.bytesFor(cfg.dedupCapacity) + cfg.maxSuspects * ANALYSIS_BYTES_PER_SUSPECT;
}

export interface DetectorStats {
  accepted: number;
  skipped: Record<string, number>;
  lastSkipDetail: Record<string, string>;
  accountsTracked: number;
  accountsEvicted: number;
  watermark: number;
  memoryBoundBytes: number;
}

export class AbuseDetector {
  readonly cfg: AbuseConfig;
  table: AccountTable;
  validator: EventValidator;
  private readonly bands = new Int32Array(4);
  private last: Analysis | null = null;

  constructor(config: Partial<AbuseConfig> | AbuseConfig = {}, private readonly now: () => number = Date.now) {
    this.cfg = abuseConfig(config);
    this.table = new AccountTable(this.cfg.accountCapacity);
    this.validator = this.newValidator();
  }

  private newValidator(): EventValidator {
    return new EventValidator({
      dedupCapacity: this.cfg.dedupCapacity,
      maxClockSkewMs: this.cfg.maxClockSkewMs,
      replayWindowMs: this.cfg.replayWindowMs,
      now: this.now,
    });
  }

  /** Any record from a stream (parsed JSON): request events, account metadata, other audit records. */
  ingestRecord(rec: unknown): void {
    const p = parseRecord(rec);
    if (p.kind === 'request') this.accept(p.event);
    else if (p.kind === 'account') this.ingestAccount(p.meta);
    else if (p.kind === 'skip') this.validator.count(p.reason, p.detail);
  }

  /** One JSONL line. */
  ingestLine(line: string): void {
    if (line.length === 0 || line.trim().length === 0) return;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch (err) {
      this.validator.count('bad_json', `line: ${(err as Error).message}`);
      return;
    }
    this.ingestRecord(rec);
  }

  /** A RequestEvent from the gateway (still shape-checked: it is cheap and events may come from elsewhere). */
  ingest(event: AbuseEvent): void {
    this.ingestRecord(event);
  }

  ingestBatch(events: readonly unknown[]): void {
    for (const e of events) this.ingestRecord(e);
  }

  private accept(e: AbuseEvent): void {
    if (!this.validator.admit(e)) return;
    const t = this.table;
    const s = t.slot(e.accountId!);
    const n = t.req[s]++;
    if (n === 0) {
      t.first[s] = e.time;
      t.exFirst[s] = e.requestId;
    } else {
      // Welford on inter-arrival gaps (seconds); out-of-order events within the replay window give gap 0.
      const gap = Math.max(0, e.time - t.last[s]) / 1000;
      const k = ++t.gapN[s];
      const d = gap - t.gapMean[s];
      t.gapMean[s] += d / k;
      t.gapM2[s] += d * (gap - t.gapMean[s]);
    }
    if (e.time > t.last[s]) t.last[s] = e.time;
    if (e.time < t.first[s]) t.first[s] = e.time;
    t.inTok[s] += e.inputTokens;
    t.outTok[s] += e.outputTokens;
    if (e.reasoningRequested === true) {
      t.reasoning[s]++;
      if (t.exReason[s] === undefined) t.exReason[s] = e.requestId;
    }
    t.hours[s * HOURS + (Math.floor(e.time / HOUR) % HOURS)]++;
    if (e.promptSketch) {
      bandKeys(e.promptSketch, this.bands);
      for (let b = 0; b < 4; b++) t.addTemplateKey(s, this.bands[b]);
    }
    if (e.netPrefix) {
      t.addPrefix(s, e.netPrefix);
      AccountTable.addSample(t.pfxBot, t.pfxBits, s, PFX_K, strHash(e.netPrefix));
    }
    if (e.promptShape) {
      t.addShapeKey(s, hexWord(e.promptShape, 0) | 0);
      AccountTable.addSample(t.itemBot, t.itemBits, s, ITEM_K, hexWord(e.promptShape, 8));
    }
    if (e.userAgent) t.ua[s] = strHash(e.userAgent);
    if (e.outputTokens >= this.cfg.longFormTokens) t.longOut[s]++;
    if (e.orgId && t.org[s] === undefined) t.org[s] = e.orgId;
  }

  ingestAccount(m: AccountMeta): void {
    const t = this.table;
    const s = t.slot(m.accountId);
    if (typeof m.createdAt === 'number') t.createdAt[s] = m.createdAt;
    if (m.orgId) t.org[s] = m.orgId;
    if (m.paymentFingerprint) t.payment[s] = m.paymentFingerprint;
    if (m.clientFingerprint) t.client[s] = m.clientFingerprint;
    if (m.netPrefix) t.signupPrefix[s] = m.netPrefix;
    if (m.kyc) t.kyc[s] = m.kyc;
  }

  analyse(): Analysis {
    this.last = analyse(this.table, this.cfg);
    return this.last;
  }

  get lastAnalysis(): Analysis | null {
    return this.last;
  }

  stats(): DetectorStats {
    return {
      accepted: this.validator.accepted,
      skipped: { ...this.validator.skipped },
      lastSkipDetail: { ...this.validator.lastDetail },
      accountsTracked: this.table.index.size,
      accountsEvicted: this.table.evicted,
      watermark: this.validator.watermark,
      memoryBoundBytes: memoryBoundBytes(this.cfg),
    };
  }

  snapshot(): Record<string, unknown> {
    return {
      version: SNAPSHOT_VERSION,
      accounts: this.table.toJSON(),
      recentIds: this.validator.recent.toJSON(),
      accepted: this.validator.accepted,
      skipped: this.validator.skipped,
      watermark: this.validator.watermark,
    };
  }

  restore(snap: Record<string, any>): void {
    if (!snap || snap.version !== SNAPSHOT_VERSION) throw new Error(`abuse snapshot: unsupported version ${String(snap?.version)} (expected ${SNAPSHOT_VERSION})`);
    this.table = AccountTable.fromJSON(snap.accounts, this.cfg.accountCapacity);
    this.validator = this.newValidator();
    this.validator.recent = RecentIds.from(this.cfg.dedupCapacity, snap.recentIds ?? '');
    this.validator.accepted = snap.accepted ?? 0;
    Object.assign(this.validator.skipped, snap.skipped ?? {});
    this.validator.watermark = snap.watermark ?? 0;
    this.last = null;
  }

  /** Atomic write (temp file + rename) so a crash mid-write never leaves a torn snapshot. */
  async saveSnapshot(file: string): Promise<void> {
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(this.snapshot()));
    await rename(tmp, file);
  }

  async loadSnapshot(file: string): Promise<void> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new Error(`abuse snapshot ${file}: ${(err as Error).message}`);
    }
    let snap: unknown;
    try {
      snap = JSON.parse(text);
    } catch (err) {
      throw new Error(`abuse snapshot ${file}: not JSON (${(err as Error).message})`);
    }
    this.restore(snap as Record<string, any>);
  }
}
