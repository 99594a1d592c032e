/**
 * The group-commit writer of the active audit file. Records come in already sealed (seq, hash, line) and in seq
 * order; the writer batches those queued in the same tick, writes up to `maxWritesInFlight` batches concurrently
 * at offsets assigned in seq order, and acknowledges them strictly in seq order: a record's promise resolves only
 * once it and every record before it are durable.
 *
 * It knows nothing of the chain or of rotation's naming: a batch that starts with a rotation `segment` record is
 * preceded by `hooks.rotate`, and a failure is reported through `hooks.rewind` and `hooks.failed` (log.ts).
 */
import type { FileHandle } from 'node:fs/promises';
import { GENESIS_HASH, type ChainHead } from './chain.ts';
import { writeDurably } from './durable-file.ts';

/** One sealed record waiting to be written. */
export interface Pending {
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

export interface WriterHooks {
  /** Renames the active file aside and opens its successor; runs before a batch that starts with a segment record. */
  rotate(segment: Pending): Promise<void>;
  /**
   * A batch became durable (in seq order, before its records resolve). `ordinary` is false for the batches found
   * durable while a failure is being handled.
   */
  durable(batch: Pending[], ordinary: boolean): void;
  /** A write failed: the chain head must rewind to `writer.durable` now, before anything else is queued. */
  rewind(): void;
  /** The failed write's partial bytes are trimmed: marks the log unhealthy and returns the error to reject with. */
  failed(e: unknown): Error;
}

const noop = () => {};

export class GroupCommitWriter {
  fh: FileHandle | null = null;
  /** Head of what is on disk and durable. */
  durable: ChainHead = { seq: 0, hash: GENESIS_HASH };
  /** Bytes of the active file that are durable. */
  durableBytes = 0;
  /** File offset of the next batch to be written. */
  writeOffset = 0;
  /** Settles once nothing is queued or being written; null while idle. */
  flushing: Promise<void> | null = null;
  /** Batches being written, oldest first; acknowledged from the front as they become durable. */
  private inFlight: InFlightBatch[] = [];
  private queue: Pending[] = [];
  private pumpScheduled = false;
  private rotating = false;
  private failing = false;
  private resolveIdle: (() => void) | null = null;

  constructor(
    private readonly limits: { readonly maxBatch: number; readonly maxWritesInFlight: number },
    private readonly stats: { fsyncs: number; records: number },
    private readonly hooks: WriterHooks,
  ) {}

  /** The active file is `fh`, `size` bytes of it durable (0 for a new file). */
  startFile(fh: FileHandle | null, size: number): void {
    this.fh = fh;
    this.durableBytes = this.writeOffset = size;
  }

  enqueue(p: Pending): void {
    this.queue.push(p);
    this.schedulePump();
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

  /** The next batch off the queue: at most `maxBatch`, never spanning a rotation (it ends before a marker, or starts with it). */
  private takeBatch(): Pending[] {
    let end = Math.min(this.queue.length, this.limits.maxBatch);
    for (let i = 1; i < end; i++) {
      if (this.queue[i]!.rotate) {
        end = i;
        break;
      }
    }
    const batch = end === this.queue.length ? this.queue : this.queue.slice(0, end);
    this.queue = batch === this.queue ? [] : this.queue.slice(end);
    return batch;
  }

  /** Starts as many batch writes as the in-flight limit allows; resolves `flushing` once nothing is left to do. */
  private pump(): void {
    while (!this.failing && !this.rotating && this.queue.length > 0 && this.inFlight.length < this.limits.maxWritesInFlight) {
      // A rotation renames the file under the writes: it waits until the old file's writes are all durable.
      if (this.queue[0]!.rotate && this.inFlight.length > 0) break;
      const batch = this.takeBatch();
      if (batch[0]!.rotate) {
        this.rotating = true;
        this.hooks.rotate(batch[0]!).then(
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
    await writeDurably(fh, bytes, position);
  }

  /** Takes the batch at the front off the in-flight list as durable; returns it. */
  private settleFront(): Pending[] {
    const { batch, length } = this.inFlight.shift()!;
    this.durableBytes += length;
    const last = batch[batch.length - 1]!;
    this.durable = { seq: last.seq, hash: last.hash };
    return batch;
  }

  /** Acknowledges, in seq order, every batch at the front that is durable; then starts more writes. */
  private acknowledge(): void {
    while (this.inFlight.length > 0 && this.inFlight[0]!.done) {
      const batch = this.settleFront();
      this.stats.fsyncs++;
      this.stats.records += batch.length;
      this.hooks.durable(batch, true);
      for (const p of batch) p.resolve();
    }
    this.pump();
  }

  /**
   * A write (or rotation) failed: wait until no write is still running (none may land after the truncate below),
   * acknowledge what became durable before the failure, then reject everything after it and have the chain head
   * rewound to the last durable record. Partial bytes are trimmed: they were never acknowledged, so never part of
   * the log.
   */
  private async fail(e: unknown, notStarted: Pending[] = []): Promise<void> {
    if (this.failing) return; // the first failure's handler rejects everything after the durable head
    this.failing = true;
    await Promise.allSettled(this.inFlight.map((x) => x.settled));
    while (this.inFlight.length > 0 && this.inFlight[0]!.done) {
      // Durable and contiguous with the durable head: acknowledge as usual (acknowledge() would pump, so inline).
      const batch = this.settleFront();
      this.hooks.durable(batch, false);
      for (const p of batch) p.resolve();
    }
    const rejected = [...this.inFlight.flatMap((x) => x.batch), ...notStarted, ...this.queue];
    this.inFlight = [];
    this.queue = [];
    this.writeOffset = this.durableBytes;
    this.hooks.rewind();
    if (this.fh) {
      // If even this fails the next start-up finds a torn tail and quarantines it.
      await this.fh.truncate(this.durableBytes).catch(noop);
    }
    const err = this.hooks.failed(e);
    for (const p of rejected) p.reject(err);
    this.failing = false;
    this.pump();
  }
}
