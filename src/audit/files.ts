/**
 * Which files make up an audit log: the active file and, through the `segment` record each file starts with,
 * the rotated and quarantined files before it, oldest first, each with how many of its bytes belong to the chain.
 * Reads first lines only.
 */
import { constants as fsConstants } from 'node:fs';
import { access, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AuditLine, BadRecord } from './chain.ts';

/** One file of a log and how many of its bytes belong to the chain (null: all of it, the active file). */
export interface ChainFile {
  path: string;
  limit: number | null;
}

/** The first line of a file, parsed; null when it is not a JSON record. Reads only as far as the first line break. */
async function firstRecord(path: string): Promise<AuditLine | null> {
  const fh = await open(path, 'r');
  try {
    let buf = Buffer.alloc(0);
    const chunk = Buffer.alloc(16 * 1024);
    for (;;) {
      const { bytesRead } = await fh.read(chunk, 0, chunk.length, buf.length);
      if (bytesRead === 0) break;
      buf = Buffer.concat([buf, chunk.subarray(0, bytesRead)]);
      if (buf.indexOf(10) !== -1 || buf.length > 1024 * 1024) break;
    }
    const nl = buf.indexOf(10);
    return JSON.parse(buf.toString('utf8', 0, nl === -1 ? buf.length : nl)) as AuditLine;
  } catch {
    return null;
  } finally {
    await fh.close();
  }
}

/**
 * Walks `segment` records back from the active file to the oldest file of the log (rotated or quarantined), reading
 * only first lines, so that verification can then hold one file in memory at a time, oldest first.
 */
export async function chainFiles(path: string): Promise<{ files: ChainFile[]; broken: (BadRecord & { file: string }) | null }> {
  const files: ChainFile[] = [{ path, limit: null }];
  let current = path;
  for (let depth = 0; depth < 100_000; depth++) {
    const first = await firstRecord(current);
    const prev = first?.kind === 'segment' ? (first.previous as { file?: unknown; goodBytes?: unknown } | undefined) : undefined;
    if (!first || !prev || typeof prev.file !== 'string' || typeof prev.goodBytes !== 'number') break;
    const prevPath = join(dirname(current), prev.file);
    try {
      await access(prevPath, fsConstants.R_OK);
    } catch (e) {
      const broken = { file: current, seq: first.seq, expectedSeq: first.seq, line: 1, offset: 0, reason: `the segment it continues cannot be read: ${(e as Error).message}` };
      return { files, broken };
    }
    files.unshift({ path: prevPath, limit: prev.goodBytes });
    current = prevPath;
  }
  return { files, broken: null };
}
