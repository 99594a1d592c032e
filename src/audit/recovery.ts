/**
 * Recovery of the audit log: at start-up (one writer per file, verification of the active file's tail, quarantine
 * of a corrupt file) and after a write outage (unhealthy since when and why, the timer that retries, the record that
 * documents the outage). Decides and reports; log.ts applies the outcome to the chain and the writer.
 */
import { readFile, open, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { GENESIS_HASH, scanChain } from './chain.ts';
import { fsyncDir } from './durable-file.ts';
import type { AuditInput } from './record.ts';

/** Another live process is writing this log: two writers would fork the chain, so opening is refused. */
export class AuditLogInUseError extends Error {
  readonly code = 'audit_log_in_use';
}

const noop = () => {};

/**
 * One writer per file: `<path>.lock` holds the writer's pid. A lock left by a dead process (crash, SIGKILL) is
 * taken over; a live one refuses the open. Replicas sharing a volume must each use their own `audit.path`.
 */
export class WriterLock {
  private held = false;
  constructor(private readonly logPath: string) {}

  get path(): string {
    return `${this.logPath}.lock`;
  }

  async acquire(): Promise<void> {
    if (this.held) return;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await writeFile(this.path, String(process.pid), { flag: 'wx' });
        this.held = true;
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const pid = Number((await readFile(this.path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
        throw new AuditLogInUseError(`audit log ${this.logPath} is in use by process ${pid} (lock ${this.path}); give each gateway process its own audit.path`);
      }
      await unlink(this.path).catch(noop); // stale: its writer is gone
    }
    throw new Error(`cannot take the audit log lock ${this.path}`);
  }

  async release(): Promise<void> {
    if (this.held) await unlink(this.path).catch(noop);
    this.held = false;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export type TailScan = ReturnType<typeof scanChain>;

/** Verifies the last `tailVerifyBytes` of a file of a log. */
export async function scanTail(path: string, size: number, tailVerifyBytes: number): Promise<TailScan> {
  const fh = await open(path, 'r');
  try {
    const window = Math.min(size, tailVerifyBytes);
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

/** What start-up found in the active file. */
export type ActiveFileState =
  /** No active records (`created`: there was no file). `continueFrom`: the rotated file the chain continues from. */
  | { kind: 'empty'; created: boolean; continueFrom: null | { file: string; goodBytes: number; scan: TailScan } }
  /** A file whose verified tail is good: appending continues at `size`. */
  | { kind: 'good'; size: number; scan: TailScan }
  /** A file with a bad record: to be quarantined, the chain continuing from the last good record. */
  | { kind: 'corrupt'; scan: TailScan & { firstBad: NonNullable<TailScan['firstBad']> } };

/**
 * Verifies the active file (or its last `tailVerifyBytes`). A missing or empty file continues from the latest
 * rotated file when that one verifies: a crash between a rotation's rename and its segment record leaves exactly
 * this.
 */
export async function inspectActiveFile(
  path: string,
  tailVerifyBytes: number,
  lastRotatedFile: () => Promise<string | null>,
  onProblem: (m: string) => void,
): Promise<ActiveFileState> {
  let size = -1;
  try {
    size = (await stat(path)).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (size <= 0) {
    const previous = await lastRotatedFile();
    if (!previous) return { kind: 'empty', created: size < 0, continueFrom: null };
    const prevSize = (await stat(join(dirname(path), previous))).size;
    const scan = await scanTail(join(dirname(path), previous), prevSize, tailVerifyBytes);
    if (!scan.firstBad) return { kind: 'empty', created: size < 0, continueFrom: { file: previous, goodBytes: prevSize, scan } };
    onProblem(`rotated audit file ${previous} has a bad record at byte offset ${scan.firstBad.offset}: ${scan.firstBad.reason}; not continuing from it (see \`gatehouse audit verify\`)`);
    return { kind: 'empty', created: size < 0, continueFrom: null };
  }
  const scan = await scanTail(path, size, tailVerifyBytes);
  if (!scan.firstBad) return { kind: 'good', size, scan };
  return { kind: 'corrupt', scan: scan as TailScan & { firstBad: NonNullable<TailScan['firstBad']> } };
}

/** Renames a corrupt active file aside (`<path>.quarantined-<time>`), never rewriting it; returns the new name. */
export async function quarantine(path: string, time: number): Promise<string> {
  const aside = `${path}.quarantined-${new Date(time).toISOString().replace(/[:.]/g, '-')}`;
  await rename(path, aside);
  fsyncDir(dirname(path));
  return aside;
}

/** The record appended when writing works again after an outage. */
export function recoveryRecord(failedSince: number | null, error: string | null): AuditInput {
  return { kind: 'system', event: 'audit_write_recovered', failedSince, error };
}

/**
 * Write-outage bookkeeping: whether the log can be written, since when and why not, and the timer that calls
 * `retry` every `retryIntervalMs` while it cannot.
 */
export class Outage {
  healthy = true;
  lastError: string | null = null;
  failedSince: number | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  /** Set when the log closes: no retry timer is started after that. */
  private stopped = false;

  constructor(
    private readonly opts: {
      path: string;
      onWriteFailure: 'refuse' | 'serve';
      retryIntervalMs: number;
      clock: () => number;
      onProblem: (m: string) => void;
      retry: () => void;
    },
  ) {}

  begin(e: unknown): void {
    const msg = e instanceof Error ? e.message : String(e);
    this.lastError = msg;
    if (this.healthy) this.opts.onProblem(`log ${this.opts.path} cannot be written (${msg}); ${this.opts.onWriteFailure === 'refuse' ? 'refusing requests' : 'serving unaudited'} until it recovers`);
    this.healthy = false;
    this.failedSince ??= this.opts.clock();
    if (!this.retryTimer && !this.stopped) {
      this.retryTimer = setInterval(() => this.opts.retry(), this.opts.retryIntervalMs);
      this.retryTimer.unref();
    }
  }

  end(): void {
    this.healthy = true;
    this.lastError = null;
    this.failedSince = null;
    this.stopRetrying();
    this.opts.onProblem(`log ${this.opts.path} is writable again`);
  }

  /** The log is closing: no more retries. */
  stop(): void {
    this.stopped = true;
    this.stopRetrying();
  }

  private stopRetrying(): void {
    if (this.retryTimer) clearInterval(this.retryTimer);
    this.retryTimer = null;
  }
}
