/**
 * Optional encrypted retention of prompt/response text, for deployments that must be able to produce the text
 * of a request later (incident reports) for a limited time. Off by default: the audit log itself never holds text.
 *
 * Each request's text is sealed with AES-256-GCM (random 96-bit IV; the request id is the associated data, so a
 * ciphertext cannot be passed off as another request's) and appended to `<dir>/<UTC day>.jsonl`. One file per
 * day makes deletion exact and cheap: `purge()` deletes whole days older than `days`, and runs hourly.
 * Losing the key makes the retained text unreadable, which is also the emergency way to delete it all.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { appendFile, mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

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
  prompt?: string;
  response?: string;
}

const DAY_FILE = /^(\d{4}-\d{2}-\d{2})\.jsonl$/;

export class TextVault {
  private readonly key: Buffer;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly config: RetentionConfig,
    private readonly clock: () => number = Date.now,
  ) {
    this.key = parseKey(config.key ?? '');
  }

  /** Starts the hourly deletion job; `onPurge` can audit what was deleted. */
  startPurgeJob(onPurge?: (files: string[]) => void, intervalMs = 3_600_000): void {
    const run = () => void this.purge().then((f) => f.length && onPurge?.(f)).catch(() => {});
    run();
    this.timer = setInterval(run, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  seal(requestId: string, text: RetainedText): { iv: string; tag: string; data: string } {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(Buffer.from(requestId));
    const data = Buffer.concat([c.update(JSON.stringify(text), 'utf8'), c.final()]);
    return { iv: iv.toString('base64'), tag: c.getAuthTag().toString('base64'), data: data.toString('base64') };
  }

  open(requestId: string, sealed: { iv: string; tag: string; data: string }): RetainedText {
    const d = createDecipheriv('aes-256-gcm', this.key, Buffer.from(sealed.iv, 'base64'));
    d.setAAD(Buffer.from(requestId));
    d.setAuthTag(Buffer.from(sealed.tag, 'base64'));
    try {
      return JSON.parse(Buffer.concat([d.update(Buffer.from(sealed.data, 'base64')), d.final()]).toString('utf8')) as RetainedText;
    } catch {
      throw new Error(`retained text for ${requestId} cannot be decrypted (wrong key or altered ciphertext)`);
    }
  }

  async store(requestId: string, text: RetainedText, time = this.clock()): Promise<void> {
    await mkdir(this.config.dir, { recursive: true });
    const line = JSON.stringify({ requestId, time, ...this.seal(requestId, text) }) + '\n';
    await appendFile(join(this.config.dir, `${new Date(time).toISOString().slice(0, 10)}.jsonl`), line);
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
        const rec = JSON.parse(line) as { requestId: string; iv: string; tag: string; data: string };
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
      if (m && m[1] < cutoff) {
        await unlink(join(this.config.dir, f));
        deleted.push(f);
      }
    }
    return deleted.sort();
  }
}
