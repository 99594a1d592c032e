/**
 * One detector for the fleet.
 *
 *   replicas ──XADD (batched, MAXLEN ~)──► Redis Stream ──XREADGROUP──► detector service (`gatehouse abuse serve`)
 *       ▲                                                                   │ checkpoint (snapshot file), then XACK
 *       └── ChangeWatcher('abuse') ◄── abuse_verdicts / abuse_rings + bumpRevision ◄── analysis
 *
 * - Every replica publishes its RequestEvents and account metadata (`FleetPublisher`: O(1) push, a pipelined XADD
 *   per batch off the hot path, bounded queue, overflow counted).
 * - The detector consumes the whole stream through a consumer group. Exactly-once effect by construction: entries
 *   are acknowledged only after a checkpoint that contains them is durable. After a crash the consumer first re-reads
 *   its pending (delivered, unacknowledged) entries into the state of the last checkpoint — which does not contain
 *   them — and an entry redelivered after a checkpoint that does contain it is a duplicate by request id (the
 *   recent-id set is part of the checkpoint). Account records are idempotent (last write wins).
 * - Verdicts go to the store in one transaction (with an audit-inbox record per action change, which a gateway
 *   appends to its audit log) and `bumpRevision('abuse')`; every replica's ChangeWatcher reloads them.
 * - The bus is behind `EventBus` / `EventConsumer`: a Kafka or Redpanda implementation maps XADD to produce (key =
 *   account id, so an account's events stay ordered in one partition), the consumer group to a Kafka consumer group,
 *   XACK to committing offsets after the checkpoint, and the pending re-read to resuming from committed offsets.
 */
import { rename, writeFile, readFile } from 'node:fs/promises';
import type { Redis } from 'ioredis';
import { recordAdminAction } from '../core/admin-actions.ts';
import { bumpRevision, type ChangeWatcher } from '../store/changes.ts';
import type { Db, Migration } from '../store/db.ts';
import type { AbuseConfig } from './config.ts';
import type { AbuseDetector } from './detector.ts';
import { AbuseGate, decideActions, type AccountAction } from './gate.ts';
import type { AbuseActionRecord, Ring } from './types.ts';

export const ABUSE_TOPIC = 'abuse';
export const STREAM_FIELD = 'event';

export const migrations: Migration[] = [
  {
    id: 'abuse/0001_verdicts',
    sql: `
CREATE TABLE abuse_verdicts (
  account_id TEXT PRIMARY KEY,
  action TEXT NOT NULL,
  ring_id TEXT NOT NULL,
  score DOUBLE PRECISION NOT NULL,
  reasons TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE abuse_rings (
  id TEXT PRIMARY KEY,
  score DOUBLE PRECISION NOT NULL,
  ring TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);`,
  },
  {
    id: 'abuse/0002_ring_reviews',
    sql: `
CREATE TABLE abuse_ring_reviews (
  ring_id TEXT PRIMARY KEY,
  decision TEXT NOT NULL,
  label TEXT NOT NULL,
  level TEXT NOT NULL,
  action TEXT NOT NULL,
  score DOUBLE PRECISION NOT NULL,
  members TEXT NOT NULL,
  signals TEXT NOT NULL,
  note TEXT,
  decided_by TEXT NOT NULL,
  decided_at BIGINT NOT NULL
);`,
  },
];

/** Producer side of the event bus. */
export interface EventBus {
  append(records: readonly unknown[]): Promise<void>;
  close(): Promise<void>;
}

export interface BusEntry {
  id: string;
  /** The record as JSON text; null when the entry is gone (trimmed) or carries no event field. */
  record: string | null;
}

/** Consumer side: delivered-but-unacknowledged entries first (after a restart), then new ones. */
export interface EventConsumer {
  init(): Promise<void>;
  read(max: number, blockMs: number): Promise<BusEntry[]>;
  ack(ids: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

export class RedisStreamBus implements EventBus {
  constructor(private readonly redis: Redis, private readonly key: string, private readonly maxLen: number) {}
  async append(records: readonly unknown[]): Promise<void> {
    if (records.length === 0) return;
    const p = this.redis.pipeline();
    for (const r of records) p.xadd(this.key, 'MAXLEN', '~', this.maxLen, '*', STREAM_FIELD, JSON.stringify(r));
    const res = await p.exec();
    const failed = res?.find(([e]) => e);
    if (failed) throw failed[0]!;
  }
  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

type XEntries = [string, (string | null)[] | null][];

export class RedisStreamConsumer implements EventConsumer {
  private pendingDone = false;
  private pendingCursor = '0';
  constructor(private readonly redis: Redis, private readonly key: string, private readonly group: string, private readonly consumer: string) {}

  async init(): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.key, this.group, '0', 'MKSTREAM');
    } catch (e) {
      if (!/BUSYGROUP/.test((e as Error).message)) throw e;
    }
    this.pendingDone = false;
    this.pendingCursor = '0';
  }

  async read(max: number, blockMs: number): Promise<BusEntry[]> {
    if (!this.pendingDone) {
      // Our own pending entries: delivered before a crash or restart, never acknowledged.
      const reply = (await this.redis.xreadgroup('GROUP', this.group, this.consumer, 'COUNT', max, 'STREAMS', this.key, this.pendingCursor)) as [string, XEntries][] | null;
      const entries = reply?.[0]?.[1] ?? [];
      if (entries.length > 0) {
        this.pendingCursor = String(entries[entries.length - 1]![0]);
        return entries.map(toEntry);
      }
      this.pendingDone = true;
    }
    const reply = (await this.redis.xreadgroup('GROUP', this.group, this.consumer, 'COUNT', max, 'BLOCK', blockMs, 'STREAMS', this.key, '>')) as [string, XEntries][] | null;
    return (reply?.[0]?.[1] ?? []).map(toEntry);
  }

  async ack(ids: readonly string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 1000) await this.redis.xack(this.key, this.group, ...ids.slice(i, i + 1000));
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

function toEntry([id, fields]: [string, (string | null)[] | null]): BusEntry {
  let record: string | null = null;
  if (fields) for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === STREAM_FIELD) record = fields[i + 1] ?? null;
  return { id: String(id), record };
}

/** Replica side: O(1) push, batches appended off the hot path; a bounded queue whose overflow is counted. */
export class FleetPublisher {
  private queue: unknown[] = [];
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<void> = Promise.resolve();
  dropped = 0;
  published = 0;
  failed = 0;

  constructor(private readonly bus: EventBus, private readonly opts: { batchSize: number; flushMs: number; maxQueue: number; onError?: (e: Error) => void }) {}

  push(record: unknown): void {
    if (this.queue.length >= this.opts.maxQueue) {
      this.dropped++;
      return;
    }
    this.queue.push(record);
    if (this.queue.length >= this.opts.batchSize) this.kick(0);
    else if (!this.timer) this.kick(this.opts.flushMs);
  }

  private kick(ms: number): void {
    if (this.timer) {
      if (ms > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, ms);
    this.timer.unref?.();
  }

  /** Appends everything queued (batches in order, one at a time). */
  flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return this.inFlight;
    this.inFlight = this.inFlight.then(() =>
      this.bus.append(batch).then(
        () => void (this.published += batch.length),
        (e: Error) => {
          // The detector misses these events; counted and reported, never thrown into the request path.
          this.failed += batch.length;
          this.opts.onError?.(new Error(`abuse event bus: ${e.message}`));
        },
      ),
    );
    return this.inFlight;
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flush();
    await this.bus.close();
  }
}

/** Replaces the verdicts and rings in the store; one audit-inbox row per action change; bumps the 'abuse' topic. */
export async function publishVerdicts(db: Db, actions: ReadonlyMap<string, AccountAction>, rings: readonly Ring[], changes: readonly AbuseActionRecord[], now = Date.now()): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.exec('DELETE FROM abuse_verdicts');
    await tx.exec('DELETE FROM abuse_rings');
    for (const [id, a] of actions) {
      await tx.query('INSERT INTO abuse_verdicts (account_id, action, ring_id, score, reasons, updated_at) VALUES ($1, $2, $3, $4, $5, $6)', [id, a.action, a.ringId, a.score, JSON.stringify(a.reasons), now]);
    }
    for (const r of rings) await tx.query('INSERT INTO abuse_rings (id, score, ring, updated_at) VALUES ($1, $2, $3, $4)', [r.id, r.score, JSON.stringify(r), now]);
    for (const c of changes) await recordAdminAction(tx, { action: c.action, actor: 'abuse-detector', target: c.accountId, details: c as unknown as Record<string, unknown> }, now);
    await bumpRevision(tx, ABUSE_TOPIC);
  });
}

export async function loadVerdicts(db: Db): Promise<{ actions: Map<string, AccountAction>; rings: Ring[] }> {
  const rows = await db.query<{ account_id: string; action: string; ring_id: string; score: number; reasons: string }>('SELECT account_id, action, ring_id, score, reasons FROM abuse_verdicts');
  const actions = new Map<string, AccountAction>();
  for (const r of rows) actions.set(r.account_id, { action: r.action as AccountAction['action'], ringId: r.ring_id, score: Number(r.score), reasons: JSON.parse(r.reasons) as string[] });
  const ringRows = await db.query<{ ring: string }>('SELECT ring FROM abuse_rings ORDER BY score DESC, id');
  return { actions, rings: ringRows.map((r) => JSON.parse(r.ring) as Ring) };
}

export interface RunnerOptions {
  /** Checkpoint file (detector snapshot); required: without it a restart would replay nothing it had acknowledged. */
  checkpointFile: string;
  /** Checkpoint (then acknowledge) after this many entries or this many ms, whichever first. */
  checkpointEvery: number;
  checkpointMs: number;
  analyseIntervalMs: number;
  batch: number;
  blockMs: number;
  watcher?: ChangeWatcher;
  onAnalysis?: (info: { rings: number; actions: number; changes: number }) => void;
  onError?: (e: Error) => void;
  now?: () => number;
}

/** The detector service loop: consume, checkpoint-then-ack, analyse, publish verdicts. */
export class DetectorRunner {
  readonly gate: AbuseGate;
  private unacked: string[] = [];
  private lastCheckpoint = 0;
  private lastAnalysis = 0;
  entries = 0;
  checkpoints = 0;

  constructor(readonly cfg: AbuseConfig, readonly detector: AbuseDetector, private readonly consumer: EventConsumer, private readonly db: Db, private readonly opts: RunnerOptions) {
    this.gate = new AbuseGate(cfg, () => {}, opts.now);
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  async start(): Promise<void> {
    try {
      const snap = JSON.parse(await readFile(this.opts.checkpointFile, 'utf8')) as Record<string, unknown>;
      this.detector.restore(snap);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`abuse checkpoint ${this.opts.checkpointFile}: ${(e as Error).message}`);
    }
    // Actions in force are already announced: reinstall them silently so only changes are recorded.
    this.gate.install((await loadVerdicts(this.db)).actions, false);
    await this.consumer.init();
    this.lastCheckpoint = this.lastAnalysis = this.now();
  }

  /** One read–ingest step; checkpoints and analyses when due. Returns the entries read. */
  async step(): Promise<number> {
    const entries = await this.consumer.read(this.opts.batch, this.opts.blockMs);
    for (const e of entries) {
      if (e.record === null) this.detector.validator.count('stream_gap', `stream entry ${e.id}: no event (trimmed or malformed)`);
      else this.detector.ingestLine(e.record);
      this.unacked.push(e.id);
    }
    this.entries += entries.length;
    const now = this.now();
    if (this.unacked.length >= this.opts.checkpointEvery || (this.unacked.length > 0 && now - this.lastCheckpoint >= this.opts.checkpointMs)) await this.checkpoint();
    if (now - this.lastAnalysis >= this.opts.analyseIntervalMs) await this.analyse();
    return entries.length;
  }

  /** Snapshot durable first, acknowledgement second: an acknowledged entry is always in the checkpoint. */
  async checkpoint(): Promise<void> {
    const tmp = `${this.opts.checkpointFile}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(this.detector.snapshot()));
    await rename(tmp, this.opts.checkpointFile);
    const ids = this.unacked;
    this.unacked = [];
    await this.consumer.ack(ids);
    this.lastCheckpoint = this.now();
    this.checkpoints++;
  }

  async analyse(): Promise<void> {
    const analysis = this.detector.analyse();
    const next = decideActions(analysis, this.cfg);
    const changes = this.gate.install(next, false);
    await publishVerdicts(this.db, next, analysis.rings, changes, this.now());
    await this.opts.watcher?.publish(ABUSE_TOPIC).catch((e: Error) => this.opts.onError?.(e));
    this.lastAnalysis = this.now();
    this.opts.onAnalysis?.({ rings: analysis.rings.length, actions: next.size, changes: changes.length });
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.step();
      } catch (e) {
        this.opts.onError?.(e as Error);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    if (this.unacked.length > 0) await this.checkpoint();
  }
}
