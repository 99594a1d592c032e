/**
 * Change notification for multi-replica freshness. A mutation calls `bumpRevision(tx, topic)` inside its
 * transaction; every replica's `ChangeWatcher` notices the new revision and emits `topic`, and the owner of
 * that topic (identity, directives, licences…) reloads its in-memory snapshot.
 *
 * Three paths, all ending in the same cheap poll of gh_revisions (so a notification can never be "lost" or
 * carry stale data — it only makes the next poll happen sooner):
 *   - polling every `intervalMs` (default 250 ms): works everywhere, including SQLite shared by processes;
 *   - PostgreSQL LISTEN/NOTIFY: bumpRevision notifies on commit, watchers re-poll within milliseconds;
 *   - Redis pub/sub (when `redisUrl` is given): `publish(topic)` after commit wakes watchers on other replicas.
 */
import type { Redis } from 'ioredis';
import type { Db } from './db.ts';
import type { Listener, PostgresDb } from './postgres.ts';

export const CHANGE_CHANNEL = 'gh_changes';

/** Increments the topic's revision. Call it with the transaction handle of the mutation it announces. */
export async function bumpRevision(db: Db, topic: string): Promise<number> {
  const rows = await db.query<{ rev: number }>(
    'INSERT INTO gh_revisions (topic, rev) VALUES ($1, 1) ON CONFLICT (topic) DO UPDATE SET rev = gh_revisions.rev + 1 RETURNING rev',
    [topic],
  );
  if (db.dialect === 'postgres') {
    // Delivered only when the transaction commits; the payload names the schema so isolated schemas ignore each other.
    await db.query(`SELECT pg_notify('${CHANGE_CHANNEL}', current_schema() || ':' || $1::text)`, [topic]);
  }
  return Number(rows[0]!.rev);
}

export interface ChangeWatcherOptions {
  /** Poll period in milliseconds. Default 250. 0 disables the timer (notifications and manual poll() only). */
  intervalMs?: number;
  /** Use PostgreSQL LISTEN when the Db is PostgreSQL. Default true. */
  listen?: boolean;
  /** Redis URL for cross-replica pub/sub wake-ups (e.g. process.env.REDIS_URL). */
  redisUrl?: string;
  /** Redis channel. Default `gatehouse:changes`; tests pass a random one. */
  redisChannel?: string;
  /** Called when a poll or a notification path fails; the watcher keeps going. */
  onError?: (err: Error) => void;
}

export type ChangeListener = (topic: string) => void;

export class ChangeWatcher {
  private readonly listeners = new Set<ChangeListener>();
  private readonly seen = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private pgListener: Listener | undefined;
  private redisSub: Redis | undefined;
  private redisPub: Redis | undefined;
  private polling: Promise<string[]> | undefined;
  private pollAgain = false;
  private stopped = false;
  private readonly intervalMs: number;
  private readonly redisChannel: string;

  constructor(
    private readonly db: Db,
    private readonly opts: ChangeWatcherOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 250;
    this.redisChannel = opts.redisChannel ?? 'gatehouse:changes';
  }

  on(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Last revision seen for a topic (undefined before its first bump). */
  revision(topic: string): number | undefined {
    return this.seen.get(topic);
  }

  /** Takes the baseline (no events for it) and starts the timer and notification paths. */
  async start(): Promise<void> {
    const rows = await this.readRevisions();
    for (const r of rows) this.seen.set(r.topic, Number(r.rev));
    // The notification paths only make changes arrive sooner; if one cannot start (a pooler that does not
    // support LISTEN, Redis down), report it and keep going on polling rather than refusing to start.
    // The PostgreSQL and Redis drivers are loaded only when used: a SQLite store without Redis never loads them.
    if (isPostgres(this.db) && this.opts.listen !== false) {
      try {
        await this.startListen(this.db);
      } catch (err) {
        this.reportError(new Error(`PostgreSQL LISTEN unavailable, relying on polling: ${(err as Error).message}`));
      }
    }
    if (this.opts.redisUrl) await this.startRedis(this.opts.redisUrl);
    if (this.intervalMs > 0) {
      this.timer = setInterval(() => this.wake(), this.intervalMs);
      this.timer.unref();
    }
  }

  private async startListen(db: PostgresDb): Promise<void> {
    const schemaRows = await db.query<{ s: string }>('SELECT current_schema() AS s');
    const prefix = `${schemaRows[0]!.s}:`;
    this.pgListener = await db.listen(
      CHANGE_CHANNEL,
      (payload) => {
        if (payload.startsWith(prefix)) this.wake();
      },
      () => this.wake(), // after a reconnect we may have missed notifications
    );
  }

  /**
   * ioredis reconnects and re-subscribes by itself; start() waits at most 2 s for the first subscription so a
   * Redis outage delays start-up briefly instead of blocking it.
   */
  private async startRedis(url: string): Promise<void> {
    const { Redis } = await import('ioredis');
    const sub = new Redis(url, { maxRetriesPerRequest: null });
    const pub = new Redis(url, { maxRetriesPerRequest: 1 });
    this.redisSub = sub;
    this.redisPub = pub;
    sub.on('error', (err: Error) => this.reportError(new Error(`Redis (changes subscriber): ${err.message}`)));
    pub.on('error', (err: Error) => this.reportError(new Error(`Redis (changes publisher): ${err.message}`)));
    sub.on('message', (channel: string) => {
      if (channel === this.redisChannel) this.wake();
    });
    let timer: NodeJS.Timeout | undefined;
    const subscribed = sub.subscribe(this.redisChannel).then(
      () => true,
      (err: Error) => {
        this.reportError(err);
        return false;
      },
    );
    const ok = await Promise.race([subscribed, new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 2000)))]);
    clearTimeout(timer);
    if (!ok) this.reportError(new Error('Redis subscription not ready after 2 s; relying on polling until it is'));
  }

  /**
   * Announce a committed change: wakes this process's watcher at once and, with Redis, every other replica.
   * Safe to call without Redis (PostgreSQL NOTIFY or polling carries the change to other replicas).
   */
  async publish(topic: string): Promise<void> {
    this.wake();
    // Not awaited: while Redis is down ioredis queues and retries, and a mutation must not wait for that.
    this.redisPub?.publish(this.redisChannel, topic).catch((err: Error) => this.reportError(err));
  }

  /** Polls now (coalescing with a poll in flight) and resolves with the topics whose revision changed. */
  poll(): Promise<string[]> {
    if (this.polling) {
      this.pollAgain = true;
      return this.polling;
    }
    this.polling = this.pollLoop().finally(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  private wake(): void {
    if (this.stopped) return;
    this.poll().catch((err: Error) => this.reportError(err));
  }

  private async pollLoop(): Promise<string[]> {
    const changed: string[] = [];
    do {
      this.pollAgain = false;
      const rows = await this.readRevisions();
      for (const r of rows) {
        const rev = Number(r.rev);
        if (this.seen.get(r.topic) !== rev) {
          this.seen.set(r.topic, rev);
          changed.push(r.topic);
          this.emit(r.topic);
        }
      }
    } while (this.pollAgain && !this.stopped);
    return changed;
  }

  private readRevisions(): Promise<Array<{ topic: string; rev: number }>> {
    return this.db.query<{ topic: string; rev: number }>('SELECT topic, rev FROM gh_revisions');
  }

  private emit(topic: string): void {
    for (const listener of this.listeners) {
      try {
        listener(topic);
      } catch (err) {
        this.reportError(err as Error);
      }
    }
  }

  private reportError(err: Error): void {
    if (this.stopped) return;
    this.opts.onError?.(err);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.pgListener?.close();
    this.redisSub?.disconnect();
    this.redisPub?.disconnect();
    await this.polling?.catch(() => {});
  }
}

function isPostgres(db: Db): db is PostgresDb {
  return db.dialect === 'postgres' && typeof (db as Partial<PostgresDb>).listen === 'function';
}
