/**
 * Optional encrypted retention of prompt/response text, for deployments that must be able to produce the text
 * of a request later (incident reports) for a limited time. Off by default: the audit log itself never holds text.
 *
 * Each request's text is sealed with AES-256-GCM (random 96-bit IV; the request id is the associated data, so a
 * ciphertext cannot be passed off as another request's) and appended to `<dir>/<UTC day>.jsonl`. One file per
 * day makes deletion exact and cheap: `purge()` deletes whole days older than `days`, and runs hourly.
 * Losing the key makes the retained text unreadable, which is also the emergency way to delete it all.
 *
 * Writes are group-committed like the audit log (one write + fdatasync per batch on a kept-open handle), so
 * `store()` resolving means the text is on disk: the gateway waits for it alongside the audit record.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { ConversationText } from '../core/canonical.ts';

export const retentionSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** 32-byte key as base64 or hex, or `env:NAME` holding it. Required when enabled. */
    key: z.string().optional(),
    days: z.number().int().min(1).max(3650).default(30),
    dir: z.string().min(1).default('data/audit/text'),
  })
  .strict()
  .prefault({})
  .refine((r) => !r.enabled || r.key, { message: 'audit.retention.key is required when retention is enabled', path: ['key'] });

export type RetentionConfig = z.infer<typeof retentionSchema>;

export function parseKey(spec: string): Buffer {
  let text = spec;
  if (spec.startsWith('env:')) {
    const v = process.env[spec.slice(4)];
    if (!v) throw new Error(`audit.retention.key: environment variable ${spec.slice(4)} is not set`);
    text = v;
  }
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (key.length !== 32) throw new Error(`audit.retention.key: must be 32 bytes (base64 or 64 hex digits), got ${key.length} bytes`);
  return key;
}

export interface RetainedText {
  /** System prompt and user turns: exactly the text whose keyed hash is the audit record's `promptHash`. */
  prompt?: string;
  /** The whole conversation as sent, every turn with its role, for incident reports. */
  conversation?: ConversationText;
  /** What the model produced (also when output moderation withheld it from the client). */
  response?: string;
}

export interface SealedText {
  iv: string;
  tag: string;
  data: string;
}

const DAY_FILE = /^(\d{4}-\d{2}-\d{2})\.jsonl$/;
const noop = () => {};

interface PendingText {
  file: string;
  line: string;
  resolve: () => void;
  reject: (e: Error) => void;
}

export class TextVault {
  /** False after a failed write until a write (or the retry probe) succeeds again. */
  healthy = true;
  lastError: string | null = null;
  private readonly key: Buffer;
  private purgeTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private queue: PendingText[] = [];
  private flushing: Promise<void> | null = null;
  private handle: { file: string; fh: FileHandle } | null = null;
  private closed = false;

  constructor(
    readonly config: RetentionConfig,
    private readonly clock: () => number = Date.now,
    private readonly retryIntervalMs = 5_000,
  ) {
    this.key = parseKey(config.key ?? '');
  }

  /** Starts the hourly deletion job; `onPurge` can audit what was deleted. */
  startPurgeJob(onPurge?: (files: string[]) => void, intervalMs = 3_600_000): void {
    const run = () => void this.purge().then((f) => f.length && onPurge?.(f)).catch(noop);
    run();
    this.purgeTimer = setInterval(run, intervalMs);
    this.purgeTimer.unref();
  }

  /** Stops the timers; waits for queued text to be written and closes the file. */
  async close(): Promise<void> {
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    if (this.retryTimer) clearInterval(this.retryTimer);
    this.purgeTimer = this.retryTimer = null;
    this.closed = true;
    while (this.flushing) await this.flushing;
    await this.closeHandle();
  }

  seal(requestId: string, text: RetainedText): SealedText {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(Buffer.from(requestId));
    const data = Buffer.concat([c.update(JSON.stringify(text), 'utf8'), c.final()]);
    return { iv: iv.toString('base64'), tag: c.getAuthTag().toString('base64'), data: data.toString('base64') };
  }

  open(requestId: string, sealed: SealedText): RetainedText {
    const d = createDecipheriv('aes-256-gcm', this.key, Buffer.from(sealed.iv, 'base64'));
    d.setAAD(Buffer.from(requestId));
    d.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    try {
      return JSON.parse(Buffer.concat([d.update(Buffer.from(sealed.data, 'base64')), d.final()]).toString('utf8')) as RetainedText;
    } catch {
      throw new Error(`retained text for ${requestId} cannot be decrypted (wrong key or altered ciphertext)`);
    }
  }

  /** Resolves once the sealed text is written and fdatasync'd to the file of the request's UTC day. */
  store(requestId: string, text: RetainedText, time = this.clock()): Promise<void> {
    if (this.closed) return Promise.reject(new Error('text vault is closed'));
    const line = JSON.stringify({ requestId, time, ...this.seal(requestId, text) }) + '\n';
    const file = `${new Date(time).toISOString().slice(0, 10)}.jsonl`;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ file, line, resolve, reject });
      if (!this.flushing) this.flushing = this.flushLoop();
    });
  }

  /** Finds and decrypts a request's text; `time` (epoch ms of the request) narrows the search to its day. */
  async read(requestId: string, time?: number): Promise<RetainedText | null> {
    let files: string[];
    try {
      files = (await readdir(this.config.dir)).filter((f) => DAY_FILE.test(f)).sort().reverse();
    } catch {
      return null;
    }
    if (time !== undefined) files = files.filter((f) => f.startsWith(new Date(time).toISOString().slice(0, 10)));
    const needle = `"requestId":${JSON.stringify(requestId)},`;
    for (const f of files) {
      const text = await readFile(join(this.config.dir, f), 'utf8');
      for (const line of text.split('\n')) {
        if (!line.includes(needle)) continue;
        const rec = JSON.parse(line) as { requestId: string } & SealedText;
        if (rec.requestId === requestId) return this.open(requestId, rec);
      }
    }
    return null;
  }

  /** Deletes day files older than `days` (whole UTC days). Returns the deleted file names. */
  async purge(now = this.clock()): Promise<string[]> {
    let files: string[];
    try {
      files = await readdir(this.config.dir);
    } catch {
      return [];
    }
    const cutoff = new Date(now - this.config.days * 86_400_000).toISOString().slice(0, 10);
    const deleted: string[] = [];
    for (const f of files) {
      const m = DAY_FILE.exec(f);
      // A file still open for writing (a request stamped with an old time) is left for the next run.
      if (m && m[1]! < cutoff && this.handle?.file !== f) {
        await unlink(join(this.config.dir, f));
        deleted.push(f);
      }
    }
    return deleted.sort();
  }

  private async flushLoop(): Promise<void> {
    await new Promise<void>((r) => setImmediate(r)); // appends issued in the same tick share the first batch
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        // Nearly always one day; around midnight a batch can span two files.
        let from = 0;
        while (from < batch.length) {
          const file = batch[from]!.file;
          let to = from;
          let text = '';
          while (to < batch.length && batch[to]!.file === file) text += batch[to++]!.line;
          const items = batch.slice(from, to);
          from = to;
          try {
            const fh = await this.fileHandle(file);
            const bytes = Buffer.from(text);
            let off = 0;
            while (off < bytes.length) off += (await fh.write(bytes, off, bytes.length - off)).bytesWritten;
            await fh.datasync();
          } catch (e) {
            await this.closeHandle();
            this.markUnhealthy(e);
            const err = new Error(`retained text cannot be written: ${this.lastError}`);
            for (const p of items) p.reject(err);
            continue;
          }
          this.markHealthy();
          for (const p of items) p.resolve();
        }
      }
    } finally {
      this.flushing = null;
    }
  }

  private async fileHandle(file: string): Promise<FileHandle> {
    if (this.handle?.file === file) return this.handle.fh;
    await this.closeHandle();
    await mkdir(this.config.dir, { recursive: true });
    const fh = await open(join(this.config.dir, file), 'a', 0o600);
    this.handle = { file, fh };
    return fh;
  }

  private async closeHandle(): Promise<void> {
    const h = this.handle;
    this.handle = null;
    if (h) await h.fh.close().catch(noop);
  }

  private markUnhealthy(e: unknown): void {
    this.lastError = e instanceof Error ? e.message : String(e);
    this.healthy = false;
    if (!this.retryTimer && !this.closed) {
      // While unhealthy the gateway may refuse every request, so no store() would ever prove recovery: probe.
      this.retryTimer = setInterval(() => {
        if (this.flushing || this.closed) return;
        const file = `${new Date(this.clock()).toISOString().slice(0, 10)}.jsonl`;
        this.fileHandle(file)
          .then((fh) => fh.datasync())
          .then(() => this.markHealthy())
          .catch(async (err) => {
            await this.closeHandle();
            this.lastError = err instanceof Error ? err.message : String(err);
          });
      }, this.retryIntervalMs);
      this.retryTimer.unref();
    }
  }

  private markHealthy(): void {
    if (this.healthy) return;
    this.healthy = true;
    this.lastError = null;
    if (this.retryTimer) clearInterval(this.retryTimer);
    this.retryTimer = null;
  }
}
