/**
 * One replay run: read the recorded traffic, parse each line, feed request records to the engine, and deal with
 * bad lines as asked — `continue` (report each as file:line and go on) or `stop` (end at the first, naming it).
 */
import { readLines, type SourceFile } from './reader.ts';
import type { BadRecord, ReplayEngine, ReplayReport } from './engine.ts';

export interface RunOptions {
  onError?: 'continue' | 'stop';
  /** Inclusive epoch ms bounds on each request's time (requestTime, else the log's time). */
  from?: number;
  to?: number;
  /** Most request records to replay (the rest are not read). */
  limit?: number;
  /** Bytes read per chunk; the event loop is yielded between chunks (default 1 MiB). */
  chunkBytes?: number;
}

export interface RunResult {
  report: ReplayReport;
  /** Set when `onError: 'stop'` ended the run at a bad record. */
  stoppedAt?: BadRecord;
  /** True when `limit` ended the run before the end of the source. */
  truncated: boolean;
}

export async function runReplay(files: readonly SourceFile[], engine: ReplayEngine, opts: RunOptions = {}): Promise<RunResult> {
  const stop = opts.onError === 'stop';
  const limit = opts.limit ?? Infinity;
  let taken = 0;
  let stoppedAt: BadRecord | undefined;
  let truncated = false;
  const from = opts.from ?? -Infinity;
  const to = opts.to ?? Infinity;
  const timed = opts.from !== undefined || opts.to !== undefined;
  await readLines(files, {
    line(text, file, line, cut) {
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(text) as Record<string, unknown>;
        if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) throw new Error('not a JSON object');
      } catch (err) {
        const bad = { file, line, reason: cut ? 'truncated record (the file ends inside it)' : `not a JSON record: ${(err as Error).message}` };
        engine.bad(bad);
        if (stop) {
          stoppedAt = bad;
          return false;
        }
        return true;
      }
      if (timed && (rec.kind === undefined || rec.kind === 'request')) {
        const t = typeof rec.requestTime === 'number' ? rec.requestTime : typeof rec.time === 'number' ? rec.time : NaN;
        if (!(t >= from && t <= to)) return true;
      }
      if (rec.kind === undefined || rec.kind === 'request') {
        if (taken >= limit) {
          truncated = true;
          return false;
        }
        taken++;
      }
      const problem = engine.add(rec);
      if (problem) {
        const bad = { file, line, reason: problem };
        engine.bad(bad);
        if (stop) {
          stoppedAt = bad;
          return false;
        }
      }
      return true;
    },
  }, opts.chunkBytes);
  return { report: engine.result(), truncated, ...(stoppedAt ? { stoppedAt } : {}) };
}
