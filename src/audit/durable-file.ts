/**
 * The active file of an audit log as a durable file: how it is opened (positional, synchronous-data writes where
 * the platform has O_DSYNC), how a batch is written at its offset, and how a created or renamed file's directory
 * entry is made durable.
 */
import { closeSync, constants as fsConstants, fsyncSync, openSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/** Synchronous-data writes where the platform supports it (see log.ts). */
const SYNC_WRITES = typeof fsConstants.O_DSYNC === 'number';
/** Positional writes (never O_APPEND): concurrent batches must land at the offsets assigned in seq order. */
const WRITE_FLAGS = fsConstants.O_WRONLY | fsConstants.O_CREAT | (SYNC_WRITES ? fsConstants.O_DSYNC : 0);

/** Opens (creating it if missing) the active file for positional durable writes. */
export function openActiveFile(path: string): Promise<FileHandle> {
  return open(path, WRITE_FLAGS);
}

/** Writes all of `bytes` at `position`; returns once they are durable (O_DSYNC, or write + fdatasync). */
export async function writeDurably(fh: FileHandle, bytes: Buffer, position: number): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += (await fh.write(bytes, off, bytes.length - off, position + off)).bytesWritten;
  if (!SYNC_WRITES) await fh.datasync();
}

/** Make a created or renamed file's directory entry durable. */
export function fsyncDir(dir: string): void {
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
