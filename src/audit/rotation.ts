/**
 * Size-based rotation of the active audit file. Once the active file reaches `rotateBytes`, the next record is a
 * `segment` record naming `<path>.<time>-<seq>` (the seq of the rotated file's last record) and its length; just
 * before that record is written the active file is renamed to that name and a fresh one opened, so the segment
 * record is the new file's first line and the chain runs on through it.
 */
import { readdir, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fsyncDir, openActiveFile } from './durable-file.ts';
import type { GroupCommitWriter, Pending } from './writer.ts';

/** The file a rotation renamed aside: its name (beside the active file) and how many of its bytes are the chain's. */
export interface RotatedFile {
  file: string;
  goodBytes: number;
}

/** `<time>-<seq>` after the log's file name: a rotated file, ending with the seq of its last record. */
const ROTATED_SUFFIX = /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z-(\d+)$/;

export class Rotation {
  /** Set from the rename of a rotation until its segment record is durable as the new file's first line. */
  aside: RotatedFile | null = null;

  constructor(
    private readonly path: string,
    private readonly rotateBytes: number,
    private readonly stats: { rotations: number },
  ) {}

  /**
   * The file the next segment record must name before a record is appended, or null: a rotation whose segment
   * record failed to be written is retried before anything else goes in the new file; otherwise the active file
   * rotates once `assignedBytes` (its size once every queued record is written) reaches `rotateBytes`.
   */
  due(assignedBytes: number, time: number, lastSeq: number): RotatedFile | null {
    if (this.aside && assignedBytes === 0) return this.aside;
    if (assignedBytes >= this.rotateBytes) {
      return { file: `${basename(this.path)}.${new Date(time).toISOString().replace(/[:.]/g, '-')}-${lastSeq}`, goodBytes: assignedBytes };
    }
    return null;
  }

  /** The segment record's batch is durable: the rotated file is linked into the chain. */
  linked(): void {
    this.aside = null;
  }

  /** Renames the active file to the name its successor's segment record gives, and opens a fresh one in `writer`. */
  async rotate(segment: Pending, writer: GroupCommitWriter): Promise<void> {
    const previous = (JSON.parse(segment.line) as { previous: RotatedFile }).previous;
    if (this.aside?.file === previous.file) return; // renamed already; an earlier write of the segment failed
    const dir = dirname(this.path);
    const aside = join(dir, previous.file);
    if (writer.fh) await writer.fh.close();
    writer.fh = null;
    await rename(this.path, aside);
    try {
      writer.fh = await openActiveFile(this.path);
    } catch (e) {
      // Put the file back so the chain stays in one place; the next append retries the rotation. If even that
      // fails, the rotation stands: the retry creates the new file and writes this segment record first.
      if (await rename(aside, this.path).then(() => true, () => false)) {
        writer.fh = await openActiveFile(this.path).catch(() => null);
      } else {
        this.aside = previous;
        writer.startFile(null, 0);
      }
      throw e;
    }
    this.aside = previous;
    writer.startFile(writer.fh, 0);
    fsyncDir(dir);
    this.stats.rotations++;
  }

  /** The most recent rotated file of this log (`<name>.<time>-<seq>`, highest seq), or null. */
  async lastRotatedFile(): Promise<string | null> {
    const base = basename(this.path);
    let best: { name: string; seq: number } | null = null;
    for (const name of await readdir(dirname(this.path))) {
      if (!name.startsWith(base + '.')) continue;
      const m = ROTATED_SUFFIX.exec(name.slice(base.length + 1));
      if (m && (!best || Number(m[1]) > best.seq)) best = { name, seq: Number(m[1]) };
    }
    return best?.name ?? null;
  }
}
