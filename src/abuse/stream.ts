/**
 * Event sources for the standalone detector: a JSONL file (the audit log format: one JSON object per line,
 * `{kind:'request', ...event}`, `{kind:'account', ...meta}` or a bare RequestEvent) and a Redis stream
 * (entries with one field `event` holding the JSON record), so detection can run beyond one gateway node.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Redis } from 'ioredis';
import type { AbuseDetector } from './detector.ts';

/** Feeds every line of `file` to the detector; returns the number of lines read. Bad lines are counted, not thrown. */
export async function ingestJsonlFile(detector: AbuseDetector, file: string): Promise<number> {
  const input = createReadStream(file, { encoding: 'utf8' });
  const failed = new Promise<never>((_, reject) => input.once('error', (err) => reject(new Error(`abuse: cannot read ${file}: ${err.message}`))));
  const rl = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  const consume = (async () => {
    for await (const line of rl) {
      n++;
      detector.ingestLine(line);
    }
  })();
  await Promise.race([consume, failed]);
  return n;
}

export const STREAM_FIELD = 'event';

/** Appends one record to a Redis stream (what a gateway node does to feed a central detector). */
export async function publishEvent(redis: Redis, key: string, record: unknown, maxLen = 1_000_000): Promise<string> {
  const id = await redis.xadd(key, 'MAXLEN', '~', maxLen, '*', STREAM_FIELD, JSON.stringify(record));
  return String(id);
}

type XItems = [id: string, fields: string[]][];

function itemsOf(reply: unknown, key: string): XItems {
  if (reply === null || reply === undefined) return [];
  if (Array.isArray(reply)) {
    const entry = (reply as [string, XItems][]).find((r) => String(r[0]) === key);
    return entry ? entry[1] : [];
  }
  if (reply instanceof Map) return (reply.get(key) as XItems) ?? [];
  if (typeof reply === 'object') return ((reply as Record<string, XItems>)[key] as XItems) ?? [];
  return [];
}

export interface StreamConsumeOptions {
  /** Stream id to read after; '0' = from the beginning. */
  fromId?: string;
  count?: number;
  /** Keep waiting for new entries (BLOCK) until `signal` aborts; otherwise stop at the end of the stream. */
  follow?: boolean;
  blockMs?: number;
  signal?: AbortSignal;
  /** Called after each batch, e.g. to run analysis or persist the last id. */
  onBatch?: (lastId: string, entries: number) => void | Promise<void>;
}

/** Reads a Redis stream into the detector; returns the last id read (persist it to resume). */
export async function consumeRedisStream(detector: AbuseDetector, redis: Redis, key: string, opts: StreamConsumeOptions = {}): Promise<{ lastId: string; entries: number }> {
  let lastId = opts.fromId ?? '0';
  const count = opts.count ?? 1000;
  let entries = 0;
  for (;;) {
    if (opts.signal?.aborted) break;
    const reply = opts.follow
      ? await redis.xread('COUNT', count, 'BLOCK', opts.blockMs ?? 1000, 'STREAMS', key, lastId)
      : await redis.xread('COUNT', count, 'STREAMS', key, lastId);
    const items = itemsOf(reply, key);
    if (items.length === 0) {
      if (!opts.follow) break;
      continue;
    }
    for (const [id, fields] of items) {
      lastId = String(id);
      entries++;
      let value: string | undefined;
      for (let i = 0; i + 1 < fields.length; i += 2) if (String(fields[i]) === STREAM_FIELD) value = String(fields[i + 1]);
      if (value === undefined) detector.validator.count('missing_field', `redis ${key} ${id}: no '${STREAM_FIELD}' field`);
      else detector.ingestLine(value);
    }
    await opts.onBatch?.(lastId, items.length);
  }
  return { lastId, entries };
}
