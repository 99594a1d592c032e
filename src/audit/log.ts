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
 */
import { closeSync, constants as fsConstants, fsyncSync, openSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { configSchema, type AuditConfig, type AuditConfigInput } from './config.ts';
import { GENESIS_HASH, scanChain, sealRequestWith, sealWith, type BadRecord, type ChainHead } from './chain.ts';
import { loadPrivateKey, signCheckpoint } from './signing.ts';
import { hmacKeyFrom, keyedTextHasher, type AdminAuditRecord, type RequestAuditRecord } from './record.ts';

/** Another live process is writing this log: two writers would fork the chain, so opening is refused. */
export class AuditLogInUseError extends Error {
  readonly code = 'audit_log_in_use';
}

export class AuditUnavailableError extends Error {
  readonly code = 'audit_unavailable';
  constructor(message: string, readonly cause?: unknown) {
    super(message);
  }
}

/** A record as given by callers; the log adds seq, prevHash, time and hash. */
export type AuditInput = { readonly kind: string; readonly [k: string]: unknown } | RequestAuditRecord | AdminAuditRecord;

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

interface Pending {
  line: string;
  seq: number;
  hash: string;
  resolve: () => void;
  reject: (e: Error) => void;
  /** The `audit_write_recovered` record that documents a write outage. */
  recovery: boolean;
  /** Byte length of `line`. */
  bytes: number;
  /** A rotation `segment` record: the active file is renamed aside before this record is written. */
  rotate: boolean;
}

interface InFlightBatch {
  batch: Pending[];
  length: number;
  done: boolean;
  /** Settles when the write finished either way (failure handling waits on it). */
  settled: Promise<void>;
}

const noop = () => {};

/** Synchronous-data writes where the platform supports it (see the module comment). */
const SYNC_WRITES = typeof fsConstants.O_DSYNC === 'number';
/** `<time>-<seq>` after the log's file name: a rotated file, ending with the seq of its last record. */
const ROTATED_SUFFIX = /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z-(\d+)$/;
/** Positional writes (never O_APPEND): concurrent batches must land at the offsets assigned in seq order. */
const WRITE_FLAGS = fsConstants.O_WRONLY | fsConstants.O_CREAT | (SYNC_WRITES ? fsConstants.O_DSYNC : 0);

export class AuditLog {
  readonly config: AuditConfig;
  /** False while the log cannot be written; the gateway answers 503 then when onWriteFailure = refuse. */
  healthy = true;
  lastError: string | null = null;
  /** Group-commit counters: durable writes (O_DSYNC writes, or write + fdatasync) done and records made durable. */
  readonly stats = { fsyncs: 0, records: 0, rotations: 0 };
  startup: StartupReport = { verifiedRecords: 0, head: { seq: 0, hash: GENESIS_HASH }, quarantined: null };

  private fh: FileHandle | null = null;
  private readonly clock: () => number;
  private readonly onProblem: (m: string) => void;
  private readonly signingKey: KeyObject | null;
  private readonly textHasher: ((text: string) => string) | null;
  /** Head including queued records (assigned at append). */
  private head: ChainHead = { seq: 0, hash: GENESIS_HASH };
  /** Head of what is on disk and fsync'd. */
  private durable: ChainHead = { seq: 0, hash: GENESIS_HASH };
  private durableBytes = 0;
  /** Size the active file will have once every queued record is written (rotation is decided on it). */
  private assignedBytes = 0;
  /** File offset of the next batch to be written. */
  private writeOffset = 0;
  /** Batches being written, oldest first; acknowledged from the front as they become durable. */
  private inFlight: InFlightBatch[] = [];
  private pumpScheduled = false;
  private rotating = false;
  private failing = false;
  private resolveIdle: (() => void) | null = null;
  /** Set from the rename of a rotation until its segment record is durable as the new file's first line. */
  private rotatedAside: { file: string; goodBytes: number } | null = null;
  private queue: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private sealedSeq = 0;
  private failedSince: number | null = null;
  private checkpointTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private lockHeld = false;

  private constructor(config: AuditConfig, opts: AuditLogOptions) {
    this.config = config;
    this.clock = opts.clock ?? Date.now;
    this.onProblem = opts.onProblem ?? ((m) => process.stderr.write(`audit: ${m}\n`));
    this.signingKey = config.signingKey ? loadPrivateKey(config.signingKey) : null;
    this.textHasher = config.textHashKey ? keyedTextHasher(hmacKeyFrom(config.textHashKey)) : null;
  }

  /** Open (or create) the log, verify its tail, quarantine a bad file. Never throws for an unwritable disk: the log opens unhealthy. */
  static async open(config: AuditConfigInput | AuditConfig = {}, opts: AuditLogOptions = {}): Promise<AuditLog> {
    const log = new AuditLog(configSchema.parse(config), opts);
    try {
      await log.recoverFile();
    } catch (e) {
      if (e instanceof AuditLogInUseError) throw e;
      log.markUnhealthy(e);
    }
    if (log.signingKey) {
      log.checkpointTimer = setInterval(() => {
        if (log.healthy && log.head.seq > log.sealedSeq) log.checkpoint().catch(noop);
      }, log.config.checkpointIntervalMs);
      log.checkpointTimer.unref();
    }
    return log;
  }

  get path(): string {
    return this.config.path;
  }

  /** Last durable record. */
  get durableHead(): ChainHead {
    return { ...this.durable };
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
    return { auditOk: this.healthy, lastError: this.lastError, seq: this.durable.seq };
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
    if (this.retryTimer) clearInterval(this.retryTimer);
    if (this.signingKey && this.healthy && this.head.seq > this.sealedSeq) await this.enqueueCheckpoint().catch(noop);
    this.closed = true;
    while (this.flushing) await this.flushing;
    if (this.fh) await this.fh.close().catch(noop);
    this.fh = null;
    if (this.lockHeld) await unlink(this.lockPath).catch(noop);
    this.lockHeld = false;
  }

  // ---- internals ----

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
    // A rotation whose segment record failed to be written must be retried before anything else goes in the new file.
    if (this.rotatedAside && this.assignedBytes === 0) this.enqueueSegment(this.rotatedAside, time);
    else if (this.assignedBytes >= this.config.rotateBytes) {
      const file = `${basename(this.config.path)}.${new Date(time).toISOString().replace(/[:.]/g, '-')}-${this.head.seq}`;
      this.enqueueSegment({ file, goodBytes: this.assignedBytes }, time);
    }
  }

  private push(record: AuditInput, time: number, recovery: boolean, rotate: boolean, request = false): Promise<void> {
    const seq = this.head.seq + 1;
    const chain = { seq, prevHash: this.head.hash, time };
    const { line, hash } = request ? sealRequestWith(record as RequestAuditRecord, chain) : sealWith(record, chain);
    const bytes = Buffer.byteLength(line);
    this.head = { seq, hash };
    this.assignedBytes = rotate ? bytes : this.assignedBytes + bytes;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ line, seq, hash, resolve, reject, recovery, bytes, rotate });
      this.schedulePump();
    });
  }

  /** The segment record that starts the next file; the flush loop renames the active file just before writing it. */
  private enqueueSegment(previous: { file: string; goodBytes: number }, time: number): void {
    // Rejected with its batch on a write failure; the next append then tries again (see enqueue).
    this.push({ kind: 'segment', previous: { ...previous, reason: 'rotated' } }, time, false, true).catch(noop);
  }

  /** Starts writing on the next turn of the event loop, so appends issued in the same tick share one batch. */
  private schedulePump(): void {
    if (!this.flushing) this.flushing = new Promise<void>((r) => (this.resolveIdle = r));
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Starts as many batch writes as the in-flight limit allows; resolves `flushing` once nothing is left to do. */
  private pump(): void {
    while (!this.failing && !this.rotating && this.queue.length > 0 && this.inFlight.length < this.config.maxWritesInFlight) {
      // A rotation renames the file under the writes: it waits until the old file's writes are all durable.
      if (this.queue[0]!.rotate && this.inFlight.length > 0) break;
      // A batch never spans a rotation: it ends before the next rotation marker, or starts with it.
      let end = Math.min(this.queue.length, this.config.maxBatch);
      for (let i = 1; i < end; i++) {
        if (this.queue[i]!.rotate) {
          end = i;
          break;
        }
      }
      const batch = end === this.queue.length ? this.queue : this.queue.slice(0, end);
      this.queue = batch === this.queue ? [] : this.queue.slice(end);
      if (batch[0]!.rotate) {
        this.rotating = true;
        this.rotateFile(batch[0]!).then(
          () => {
            this.rotating = false;
            this.startWrite(batch);
            this.pump();
          },
          (e) => {
            this.rotating = false;
            void this.fail(e, batch);
          },
        );
        return;
      }
      this.startWrite(batch);
    }
    if (!this.failing && !this.rotating && this.queue.length === 0 && this.inFlight.length === 0) {
      const done = this.resolveIdle;
      this.flushing = null;
      this.resolveIdle = null;
      done?.();
    }
  }

  private startWrite(batch: Pending[]): void {
    let text = '';
    for (const p of batch) text += p.line;
    const bytes = Buffer.from(text);
    const offset = this.writeOffset;
    this.writeOffset += bytes.length;
    const write = this.writeAt(bytes, offset);
    const entry: InFlightBatch = { batch, length: bytes.length, done: false, settled: write.then(noop, noop) };
    this.inFlight.push(entry);
    write.then(
      () => {
        entry.done = true;
        if (!this.failing) this.acknowledge();
      },
      (e) => void this.fail(e),
    );
  }

  private async writeAt(bytes: Buffer, position: number): Promise<void> {
    const fh = this.fh;
    if (!fh) throw new Error('audit file is not open');
    let off = 0;
    while (off < bytes.length) off += (await fh.write(bytes, off, bytes.length - off, position + off)).bytesWritten;
    if (!SYNC_WRITES) await fh.datasync();
  }

  /** Acknowledges, in seq order, every batch at the front that is durable; then starts more writes. */
  private acknowledge(): void {
    while (this.inFlight.length > 0 && this.inFlight[0]!.done) {
      const { batch, length } = this.inFlight.shift()!;
      this.durableBytes += length;
      this.stats.fsyncs++;
      this.stats.records += batch.length;
      if (batch[0]!.rotate) this.rotatedAside = null;
      const last = batch[batch.length - 1]!;
      this.durable = { seq: last.seq, hash: last.hash };
      if (!this.healthy) {
        const since = this.failedSince;
        const error = this.lastError;
        this.markHealthy();
        // Every outage leaves a record of itself, also when an ordinary append was the first to succeed.
        if (!batch.some((p) => p.recovery)) this.enqueue(recoveryRecord(since, error), this.clock(), true).catch(noop);
      }
      for (const p of batch) p.resolve();
    }
    this.pump();
  }

  /** Renames the active file to the name its successor's segment record gives, and opens a fresh one. */
  private async rotateFile(segment: Pending): Promise<void> {
    const previous = (JSON.parse(segment.line) as { previous: { file: string; goodBytes: number } }).previous;
    if (this.rotatedAside?.file === previous.file) return; // renamed already; an earlier write of the segment failed
    const dir = dirname(this.config.path);
    const aside = join(dir, previous.file);
    if (this.fh) await this.fh.close();
    this.fh = null;
    await rename(this.config.path, aside);
    try {
      this.fh = await open(this.config.path, WRITE_FLAGS);
    } catch (e) {
      // Put the file back so the chain stays in one place; the next append retries the rotation. If even that
      // fails, the rotation stands: the retry creates the new file and writes this segment record first.
      if (await rename(aside, this.config.path).then(() => true, () => false)) {
        this.fh = await open(this.config.path, WRITE_FLAGS).catch(() => null);
      } else {
        this.rotatedAside = previous;
        this.durableBytes = this.writeOffset = 0;
      }
      throw e;
    }
    this.rotatedAside = previous;
    this.durableBytes = this.writeOffset = 0;
    fsyncDir(dir);
    this.stats.rotations++;
  }

  /**
   * A write (or rotation) failed: wait until no write is still running (none may land after the truncate below),
   * acknowledge what became durable before the failure, then reject everything after it and rewind the chain head
   * to the last durable record. Partial bytes are trimmed: they were never acknowledged, so never part of the log.
   */
  private async fail(e: unknown, notStarted: Pending[] = []): Promise<void> {
    if (this.failing) return; // the first failure's handler rejects everything after the durable head
    this.failing = true;
    await Promise.allSettled(this.inFlight.map((x) => x.settled));
    while (this.inFlight.length > 0 && this.inFlight[0]!.done) {
      // Durable and contiguous with the durable head: acknowledge as usual (acknowledge() would pump, so inline).
      const { batch, length } = this.inFlight.shift()!;
      this.durableBytes += length;
      if (batch[0]!.rotate) this.rotatedAside = null;
      const last = batch[batch.length - 1]!;
      this.durable = { seq: last.seq, hash: last.hash };
      for (const p of batch) p.resolve();
    }
    const rejected = [...this.inFlight.flatMap((x) => x.batch), ...notStarted, ...this.queue];
    this.inFlight = [];
    this.queue = [];
    this.head = { ...this.durable };
    this.assignedBytes = this.writeOffset = this.durableBytes;
    if (this.sealedSeq > this.durable.seq) this.sealedSeq = this.durable.seq;
    if (this.fh) {
      // If even this fails the next start-up finds a torn tail and quarantines it.
      await this.fh.truncate(this.durableBytes).catch(noop);
    }
    this.markUnhealthy(e);
    const err = new AuditUnavailableError(`audit write failed: ${this.lastError}`, e);
    for (const p of rejected) p.reject(err);
    this.failing = false;
    this.pump();
  }

  private markUnhealthy(e: unknown): void {
    const msg = e instanceof Error ? e.message : String(e);
    this.lastError = msg;
    if (this.healthy) this.onProblem(`log ${this.config.path} cannot be written (${msg}); ${this.config.onWriteFailure === 'refuse' ? 'refusing requests' : 'serving unaudited'} until it recovers`);
    this.healthy = false;
    this.failedSince ??= this.clock();
    if (!this.retryTimer && !this.closed) {
      this.retryTimer = setInterval(() => this.retry(), this.config.retryIntervalMs);
      this.retryTimer.unref();
    }
  }

  private markHealthy(): void {
    this.healthy = true;
    this.lastError = null;
    this.failedSince = null;
    if (this.retryTimer) clearInterval(this.retryTimer);
    this.retryTimer = null;
    this.onProblem(`log ${this.config.path} is writable again`);
  }

  private retry(): void {
    if (this.healthy || this.closed || this.flushing) return;
    const since = this.failedSince;
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

  private get lockPath(): string {
    return `${this.config.path}.lock`;
  }

  /**
   * One writer per file: `<path>.lock` holds the writer's pid. A lock left by a dead process (crash, SIGKILL) is
   * taken over; a live one refuses the open. Replicas sharing a volume must each use their own `audit.path`.
   */
  private async acquireLock(): Promise<void> {
    if (this.lockHeld) return;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await writeFile(this.lockPath, String(process.pid), { flag: 'wx' });
        this.lockHeld = true;
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const pid = Number((await readFile(this.lockPath, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
        throw new AuditLogInUseError(`audit log ${this.config.path} is in use by process ${pid} (lock ${this.lockPath}); give each gateway process its own audit.path`);
      }
      await unlink(this.lockPath).catch(noop); // stale: its writer is gone
    }
    throw new Error(`cannot take the audit log lock ${this.lockPath}`);
  }

  /** Verifies the last `tailVerifyBytes` of a file of this log. */
  private async scanTail(path: string, size: number): Promise<ReturnType<typeof scanChain>> {
    const fh = await open(path, 'r');
    try {
      const window = Math.min(size, this.config.tailVerifyBytes);
      const start = size - window;
      const buf = Buffer.alloc(window);
      await fh.read(buf, 0, window, start);
      let from = 0;
      if (start > 0) {
        from = buf.indexOf(10) + 1; // skip the partial first line of a tail window
        if (from === 0) throw new Error(`audit file ${path}: no line break in the last ${window} bytes`);
      }
      const firstLine = buf.subarray(from, buf.indexOf(10, from) + 1 || buf.length).toString('utf8');
      // The first record of a file continues another file when it is a `segment` record; tail windows continue
      // from whatever record they start with. Only a fresh log must start at GENESIS.
      const continues = start > 0 || /"kind":"segment"/.test(firstLine);
      return scanChain(buf.subarray(from), {
        baseOffset: start + from,
        firstLine: start > 0 ? null : 1,
        expect: continues ? null : { seq: 0, hash: GENESIS_HASH },
      });
    } finally {
      await fh.close();
    }
  }

  /** The most recent rotated file of this log (`<name>.<time>-<seq>`, highest seq), or null. */
  private async lastRotatedFile(): Promise<string | null> {
    const base = basename(this.config.path);
    let best: { name: string; seq: number } | null = null;
    for (const name of await readdir(dirname(this.config.path))) {
      if (!name.startsWith(base + '.')) continue;
      const m = ROTATED_SUFFIX.exec(name.slice(base.length + 1));
      if (m && (!best || Number(m[1]) > best.seq)) best = { name, seq: Number(m[1]) };
    }
    return best?.name ?? null;
  }

  /** Verify the existing file's tail, quarantine it when bad, open for appending. */
  private async recoverFile(): Promise<void> {
    const path = this.config.path;
    await mkdir(dirname(path), { recursive: true });
    await this.acquireLock();
    let size = -1;
    try {
      size = (await stat(path)).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (size <= 0) {
      // No active records. A crash between a rotation's rename and its segment record leaves exactly this beside a
      // rotated file: continue the chain from that file, so the next record is the segment that links it.
      const previous = await this.lastRotatedFile();
      if (previous) {
        const prevSize = (await stat(join(dirname(path), previous))).size;
        const scan = await this.scanTail(join(dirname(path), previous), prevSize);
        if (!scan.firstBad) {
          this.startup = { verifiedRecords: scan.count, head: scan.head, quarantined: null };
          this.head = { ...scan.head };
          this.durable = { ...scan.head };
          this.sealedSeq = scan.head.seq;
          this.rotatedAside = { file: previous, goodBytes: prevSize };
        } else {
          this.onProblem(`rotated audit file ${previous} has a bad record at byte offset ${scan.firstBad.offset}: ${scan.firstBad.reason}; not continuing from it (see \`gatehouse audit verify\`)`);
        }
      }
      this.fh = await open(path, WRITE_FLAGS);
      this.durableBytes = this.assignedBytes = this.writeOffset = 0;
      if (size < 0) fsyncDir(dirname(path));
      // Link the files now, not at the next append: until the segment record is in, the active file would read
      // as a log of its own to `audit verify`.
      if (this.rotatedAside) await this.push({ kind: 'segment', previous: { ...this.rotatedAside, reason: 'rotated' } }, this.clock(), false, true);
      return;
    }
    const scan = await this.scanTail(path, size);
    this.startup = { verifiedRecords: scan.count, head: scan.head, quarantined: null };
    this.head = { ...scan.head };
    this.durable = { ...scan.head };
    this.sealedSeq = scan.head.seq;
    if (!scan.firstBad) {
      this.fh = await open(path, WRITE_FLAGS);
      this.durableBytes = this.assignedBytes = this.writeOffset = size;
      return;
    }
    const bad = scan.firstBad;
    const aside = `${path}.quarantined-${new Date(this.clock()).toISOString().replace(/[:.]/g, '-')}`;
    await rename(path, aside);
    fsyncDir(dirname(path));
    this.startup.quarantined = { file: aside, bad };
    this.onProblem(
      `corrupt audit file ${path} at byte offset ${bad.offset}${bad.line ? ` (line ${bad.line})` : ''}: ${bad.reason}; ` +
        `quarantined as ${aside}; new segment continues from seq ${scan.head.seq}`,
    );
    this.fh = await open(path, WRITE_FLAGS);
    this.durableBytes = this.assignedBytes = this.writeOffset = 0;
    fsyncDir(dirname(path));
    await this.append({
      kind: 'segment',
      previous: { file: basename(aside), goodBytes: scan.goodBytes, badOffset: bad.offset, badLine: bad.line, reason: bad.reason },
    });
  }
}

function recoveryRecord(failedSince: number | null, error: string | null): AuditInput {
  return { kind: 'system', event: 'audit_write_recovered', failedSince, error };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Make a created or renamed file's directory entry durable. */
function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some filesystems refuse fsync on directories; the file data itself is still fsync'd.
  }
}
