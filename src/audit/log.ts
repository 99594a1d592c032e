/**
 * AuditLog: an append-only JSONL file with a hash chain, group commit and signed checkpoints.
 *
 * Durability: `append()` resolves only after the record's bytes are on stable storage. The file is opened with
 * O_DSYNC where the platform has it, so each write returns only once its data (and the metadata needed to read
 * it back) is durable: the guarantee of write + fdatasync in one system call and one thread-pool round trip
 * instead of two. Elsewhere it is write + fdatasync. Appends are group-committed: those issued in the same tick
 * go out as one batch, and up to `maxWritesInFlight` batches are written concurrently, each at the file offset
 * assigned to it in seq order (positional writes), so a burst does not wait for the sync ahead of it. Records are
 * acknowledged strictly in seq order: a batch resolves only once it and every batch before it are durable. seq/prevHash/hash are assigned synchronously in append()
 * call order, so the file order is the call order.
 *
 * Faults: a failed write or fsync (ENOSPC, EACCES, EIO…) rejects every record not yet durable, rewinds the
 * in-memory chain head to the last durable record, trims any partial bytes of that failed batch (never
 * acknowledged, so never part of the log) and sets `healthy = false`. While unhealthy, a timer retries by
 * appending a `system` record that says writing had failed and since when; when that is durable the log is
 * healthy again.
 *
 * Rotation: once the active file reaches `rotateBytes`, the next record assigned is a `segment` record and the file
 * is renamed aside (`<path>.<time>`) just before that record is written, so it becomes the first line of a fresh
 * active file. The segment record names the rotated file and its length, and the chain runs on through it:
 * `audit verify`, query and export follow segment records back through every rotated (or quarantined) file.
 *
 * Start-up: the file (or its last `tailVerifyBytes`) is verified. A corrupt or truncated file is renamed aside
 * (`<path>.quarantined-<time>`), never rewritten, and a new file starts with a `segment` record chained to the
 * last good record's hash, naming the quarantined file and the bad byte offset.
 *
 * This module is the log's face and its chain: it assigns seq/prevHash/hash, decides checkpoints and when to
 * rotate, and tracks health. The jobs behind it are one module each: `writer.ts` (group commit and in-order
 * acknowledgement), `rotation.ts` (size-based rotation), `recovery.ts` (start-up verification and quarantine, the
 * writer lock, write-outage retries) and `durable-file.ts` (how the active file is opened and written).
 */
import { mkdir } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { configSchema, type AuditConfig, type AuditConfigInput } from './config.ts';
import { GENESIS_HASH, sealRequestWith, sealWith, type BadRecord, type ChainHead } from './chain.ts';
import { fsyncDir, openActiveFile } from './durable-file.ts';
import { hmacKeyFrom, keyedTextHasher, type AuditInput, type RequestAuditRecord } from './record.ts';
import { AuditLogInUseError, inspectActiveFile, Outage, quarantine, recoveryRecord, WriterLock, type TailScan } from './recovery.ts';
import { Rotation, type RotatedFile } from './rotation.ts';
import { loadPrivateKey, signCheckpoint } from './signing.ts';
import { GroupCommitWriter, type Pending } from './writer.ts';

export { AuditLogInUseError };
export type { AuditInput };

export class AuditUnavailableError extends Error {
  readonly code = 'audit_unavailable';
  constructor(message: string, readonly cause?: unknown) {
    super(message);
  }
}

export interface StartupReport {
  /** Records found in the verified window of the existing file. */
  verifiedRecords: number;
  head: ChainHead;
  quarantined: null | { file: string; bad: BadRecord };
}

export interface AuditLogOptions {
  /** Wall clock for `time` (tests step it backwards). */
  clock?: () => number;
  /** Where problems are reported (quarantine, write failures). Default: stderr. */
  onProblem?: (message: string) => void;
}

const noop = () => {};

export class AuditLog {
  readonly config: AuditConfig;
  /** Group-commit counters: durable writes (O_DSYNC writes, or write + fdatasync) done and records made durable. */
  readonly stats = { fsyncs: 0, records: 0, rotations: 0 };
  startup: StartupReport = { verifiedRecords: 0, head: { seq: 0, hash: GENESIS_HASH }, quarantined: null };

  private readonly clock: () => number;
  private readonly onProblem: (m: string) => void;
  private readonly signingKey: KeyObject | null;
  private readonly textHasher: ((text: string) => string) | null;
  private readonly writer: GroupCommitWriter;
  private readonly rotation: Rotation;
  private readonly outage: Outage;
  private readonly lock: WriterLock;
  /** Head including queued records (assigned at append). */
  private head: ChainHead = { seq: 0, hash: GENESIS_HASH };
  /** Size the active file will have once every queued record is written (rotation is decided on it). */
  private assignedBytes = 0;
  private sealedSeq = 0;
  private checkpointTimer: NodeJS.Timeout | null = null;
  private closed = false;

  private constructor(config: AuditConfig, opts: AuditLogOptions) {
    this.config = config;
    this.clock = opts.clock ?? Date.now;
    this.onProblem = opts.onProblem ?? ((m) => process.stderr.write(`audit: ${m}\n`));
    this.signingKey = config.signingKey ? loadPrivateKey(config.signingKey) : null;
    this.textHasher = config.textHashKey ? keyedTextHasher(hmacKeyFrom(config.textHashKey)) : null;
    this.lock = new WriterLock(config.path);
    this.rotation = new Rotation(config.path, config.rotateBytes, this.stats);
    this.outage = new Outage({
      path: config.path,
      onWriteFailure: config.onWriteFailure,
      retryIntervalMs: config.retryIntervalMs,
      clock: this.clock,
      onProblem: this.onProblem,
      retry: () => this.retry(),
    });
    this.writer = new GroupCommitWriter(config, this.stats, {
      rotate: (segment) => this.rotation.rotate(segment, this.writer),
      durable: (batch, ordinary) => this.onDurable(batch, ordinary),
      rewind: () => {
        this.head = { ...this.writer.durable };
        this.assignedBytes = this.writer.durableBytes;
        if (this.sealedSeq > this.head.seq) this.sealedSeq = this.head.seq;
      },
      failed: (e) => {
        this.outage.begin(e);
        return new AuditUnavailableError(`audit write failed: ${this.lastError}`, e);
      },
    });
  }

  /** Open (or create) the log, verify its tail, quarantine a bad file. Never throws for an unwritable disk: the log opens unhealthy. */
  static async open(config: AuditConfigInput | AuditConfig = {}, opts: AuditLogOptions = {}): Promise<AuditLog> {
    const log = new AuditLog(configSchema.parse(config), opts);
    try {
      await log.recoverFile();
    } catch (e) {
      if (e instanceof AuditLogInUseError) throw e;
      log.outage.begin(e);
    }
    if (log.signingKey) {
      log.checkpointTimer = setInterval(() => {
        if (log.healthy && log.head.seq > log.sealedSeq) log.checkpoint().catch(noop);
      }, log.config.checkpointIntervalMs);
      log.checkpointTimer.unref();
    }
    return log;
  }

  /** False while the log cannot be written; the gateway answers 503 then when onWriteFailure = refuse. */
  get healthy(): boolean {
    return this.outage.healthy;
  }
  set healthy(value: boolean) {
    this.outage.healthy = value;
  }

  get lastError(): string | null {
    return this.outage.lastError;
  }
  set lastError(value: string | null) {
    this.outage.lastError = value;
  }

  get path(): string {
    return this.config.path;
  }

  /** Last durable record. */
  get durableHead(): ChainHead {
    return { ...this.writer.durable };
  }

  /** True when a textHashKey is configured, so `hashText` gives keyed hashes. */
  get hashesText(): boolean {
    return this.textHasher !== null;
  }

  /** HMAC-SHA256 of text with the configured key (hex); null when no textHashKey is configured. */
  hashText(text: string): string | null {
    return this.textHasher ? this.textHasher(text) : null;
  }

  /** Readiness info for /readyz. */
  readiness(): { auditOk: boolean; lastError: string | null; seq: number } {
    return { auditOk: this.healthy, lastError: this.lastError, seq: this.writer.durable.seq };
  }

  /** Resolves when the record is durable; rejects with AuditUnavailableError when it could not be written. */
  append(record: AuditInput): Promise<void> {
    return this.appendRecord(record, false);
  }

  /**
   * `append` for a request record built by `auditRecordFromEvent` (the gateway's durable sink): the same line and
   * guarantee, serialised by the record's fixed shape (`canonicalRequestJson`) instead of the generic canonical walk.
   */
  appendRequest(record: RequestAuditRecord): Promise<void> {
    return this.appendRecord(record, true);
  }

  private appendRecord(record: AuditInput, request: boolean): Promise<void> {
    if (this.closed) return Promise.reject(new AuditUnavailableError('audit log is closed'));
    // No open file means the chain head is not known (start-up failed): sealing now could fork the chain.
    // The retry timer re-runs the start-up checks first.
    if (!this.fh) return Promise.reject(new AuditUnavailableError(`audit log is not open: ${this.lastError ?? 'not opened'}`));
    let p: Promise<void>;
    try {
      const time = this.clock();
      this.rotateIfDue(time);
      p = this.push(record, time, false, false, request);
    } catch (e) {
      return Promise.reject(new TypeError(`audit record cannot be encoded: ${(e as Error).message}`));
    }
    if (this.signingKey && this.head.seq - this.sealedSeq >= this.config.checkpointEvery) this.enqueueCheckpoint().catch(noop);
    return p;
  }

  /** Seal everything appended so far with a signed checkpoint record. */
  checkpoint(): Promise<void> {
    if (!this.signingKey) return Promise.reject(new Error('no audit signingKey configured'));
    return this.enqueueCheckpoint();
  }

  /** Flush, seal with a final checkpoint, close the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.checkpointTimer) clearInterval(this.checkpointTimer);
    this.outage.stop();
    if (this.signingKey && this.healthy && this.head.seq > this.sealedSeq) await this.enqueueCheckpoint().catch(noop);
    this.closed = true;
    while (this.writer.flushing) await this.writer.flushing;
    if (this.writer.fh) await this.writer.fh.close().catch(noop);
    this.writer.fh = null;
    await this.lock.release();
  }

  // ---- internals ----

  /** The active file's handle (null while start-up has not succeeded). */
  private get fh() {
    return this.writer.fh;
  }

  private enqueueCheckpoint(): Promise<void> {
    const time = this.clock();
    // Rotate first: a segment record slipped in after the claim is made would sit between it and what it seals.
    this.rotateIfDue(time);
    const claim = { seq: this.head.seq, hash: this.head.hash, time };
    const signature = signCheckpoint(this.signingKey!, claim);
    this.sealedSeq = this.head.seq + 1; // the checkpoint itself needs no seal
    return this.push({ kind: 'checkpoint', sealedSeq: claim.seq, sealedHash: claim.hash, signature }, time, false, false);
  }

  private enqueue(record: AuditInput, time = this.clock(), recovery = false): Promise<void> {
    this.rotateIfDue(time);
    return this.push(record, time, recovery, false);
  }

  private rotateIfDue(time: number): void {
    const previous = this.rotation.due(this.assignedBytes, time, this.head.seq);
    if (previous) this.enqueueSegment(previous, time);
  }

  /** Seals `record` as the next in the chain and queues it for the writer. */
  private push(record: AuditInput, time: number, recovery: boolean, rotate: boolean, request = false): Promise<void> {
    const seq = this.head.seq + 1;
    const chain = { seq, prevHash: this.head.hash, time };
    const { line, hash } = request ? sealRequestWith(record as RequestAuditRecord, chain) : sealWith(record, chain);
    const bytes = Buffer.byteLength(line);
    this.head = { seq, hash };
    this.assignedBytes = rotate ? bytes : this.assignedBytes + bytes;
    return new Promise<void>((resolve, reject) => {
      this.writer.enqueue({ line, seq, hash, resolve, reject, recovery, bytes, rotate });
    });
  }

  /** The segment record that starts the next file; the writer renames the active file just before writing it. */
  private enqueueSegment(previous: RotatedFile, time: number): void {
    // Rejected with its batch on a write failure; the next append then tries again (see rotateIfDue).
    this.push({ kind: 'segment', previous: { ...previous, reason: 'rotated' } }, time, false, true).catch(noop);
  }

  /** A batch is durable: a rotation's segment record links its file; the first durable write after an outage ends it. */
  private onDurable(batch: Pending[], ordinary: boolean): void {
    if (batch[0]!.rotate) this.rotation.linked();
    if (!ordinary || this.healthy) return;
    const since = this.outage.failedSince;
    const error = this.lastError;
    this.outage.end();
    // Every outage leaves a record of itself, also when an ordinary append was the first to succeed.
    if (!batch.some((p) => p.recovery)) this.enqueue(recoveryRecord(since, error), this.clock(), true).catch(noop);
  }

  private retry(): void {
    if (this.healthy || this.closed || this.writer.flushing) return;
    const since = this.outage.failedSince;
    const attempt = async () => {
      if (!this.fh) {
        await this.recoverFile();
      }
      if (this.closed) return;
      await this.enqueue(recoveryRecord(since, this.lastError), this.clock(), true);
    };
    attempt().catch((e) => {
      if (this.healthy) return;
      this.lastError = e instanceof Error ? e.message : String(e);
    });
  }

  /** The chain continues from `scan`'s head (the last good record of the file it verified). */
  private continueFrom(scan: TailScan): void {
    this.startup = { verifiedRecords: scan.count, head: scan.head, quarantined: null };
    this.head = { ...scan.head };
    this.writer.durable = { ...scan.head };
    this.sealedSeq = scan.head.seq;
  }

  /** Verify the existing file's tail, quarantine it when bad, open for appending. */
  private async recoverFile(): Promise<void> {
    const path = this.config.path;
    await mkdir(dirname(path), { recursive: true });
    await this.lock.acquire();
    const state = await inspectActiveFile(path, this.config.tailVerifyBytes, () => this.rotation.lastRotatedFile(), this.onProblem);
    if (state.kind === 'empty') {
      // No active records. A crash between a rotation's rename and its segment record leaves exactly this beside a
      // rotated file: continue the chain from that file, so the next record is the segment that links it.
      if (state.continueFrom) {
        this.continueFrom(state.continueFrom.scan);
        this.rotation.aside = { file: state.continueFrom.file, goodBytes: state.continueFrom.goodBytes };
      }
      this.writer.startFile(await openActiveFile(path), 0);
      this.assignedBytes = 0;
      if (state.created) fsyncDir(dirname(path));
      // Link the files now, not at the next append: until the segment record is in, the active file would read
      // as a log of its own to `audit verify`.
      if (this.rotation.aside) await this.push({ kind: 'segment', previous: { ...this.rotation.aside, reason: 'rotated' } }, this.clock(), false, true);
      return;
    }
    this.continueFrom(state.scan);
    if (state.kind === 'good') {
      this.writer.startFile(await openActiveFile(path), state.size);
      this.assignedBytes = state.size;
      return;
    }
    const { scan } = state;
    const bad = scan.firstBad;
    const aside = await quarantine(path, this.clock());
    this.startup.quarantined = { file: aside, bad };
    this.onProblem(
      `corrupt audit file ${path} at byte offset ${bad.offset}${bad.line ? ` (line ${bad.line})` : ''}: ${bad.reason}; ` +
        `quarantined as ${aside}; new segment continues from seq ${scan.head.seq}`,
    );
    this.writer.startFile(await openActiveFile(path), 0);
    this.assignedBytes = 0;
    fsyncDir(dirname(path));
    await this.append({
      kind: 'segment',
      previous: { file: basename(aside), goodBytes: scan.goodBytes, badOffset: bad.offset, badLine: bad.line, reason: bad.reason },
    });
  }
}
