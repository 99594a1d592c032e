/**
 * Reading recorded traffic line by line with its file and line number, so a bad record can be named
 * (`file:line: why`). Sources: an audit log (the active file and every rotated or quarantined file before it, each
 * up to the bytes that belong to the chain) or a plain JSONL sample. Streams in large chunks and splits lines by
 * hand: a per-line async iterator would cost more than the decisions themselves. The event loop is yielded
 * between chunks, so a replay inside a gateway does not stall the requests it serves.
 */
import { createReadStream } from 'node:fs';
import { chainFiles } from '../audit/files.ts';

export interface LineSink {
  /** One complete line (without the newline). Return false to stop reading. */
  line(text: string, file: string, lineNo: number, truncated: boolean): boolean;
}

export interface SourceFile {
  path: string;
  /** Bytes of the file that belong to the log (null: all of it). */
  limit: number | null;
}

/** The files of an audit log, oldest first (see audit/files.ts). */
export async function auditLogFiles(path: string): Promise<SourceFile[]> {
  const { files } = await chainFiles(path);
  return files;
}

/** Large chunks for the CLI (throughput); a gateway replaying in the background reads smaller ones so each burst of work between yields stays short. */
export const CLI_CHUNK = 1 << 20;

/**
 * Feeds every line of `files` to `sink`, in order. A last line without its newline is passed with
 * `truncated = true` (a log cut short by a crash or a copy). Returns false when the sink stopped early.
 */
export async function readLines(files: readonly SourceFile[], sink: LineSink, chunkBytes: number = CLI_CHUNK): Promise<boolean> {
  for (const f of files) {
    if (f.limit === 0) continue;
    const input = createReadStream(f.path, { encoding: 'utf8', highWaterMark: chunkBytes, ...(f.limit === null ? {} : { end: f.limit - 1 }) });
    let rest = '';
    let lineNo = 0;
    try {
      for await (const chunk of input as AsyncIterable<string>) {
        let text = rest.length ? rest + chunk : chunk;
        let start = 0;
        for (;;) {
          const nl = text.indexOf('\n', start);
          if (nl === -1) break;
          lineNo++;
          const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
          if (end > start && !sink.line(text.slice(start, end), f.path, lineNo, false)) return false;
          start = nl + 1;
        }
        rest = start < text.length ? text.slice(start) : '';
        text = '';
      }
    } finally {
      input.destroy();
    }
    if (rest.length > 0) {
      lineNo++;
      if (!sink.line(rest, f.path, lineNo, true)) return false;
    }
  }
  return true;
}
