/**
 * Read-your-writes for key changes made outside a gateway (the CLI, another replica's admin API).
 *
 * Every running gateway keeps a row in `identity_replicas`: its id, the identity revision its KeyRegistry has
 * applied, and when it was last seen (a heartbeat). A change bumps the identity revision in its transaction; the
 * writer then waits until every live gateway reports that revision or a later one. Because a gateway reports a
 * revision only after its registry applied it, once the wait returns every live gateway answers the very next
 * request with the change — with no store I/O on the request path. A gateway that does not confirm in time
 * (cut off from the store, or crashed moments ago) is named, so the writer can say so instead of claiming success.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Db } from '../store/db.ts';

/** How often a gateway refreshes its row when nothing changed. */
export const HEARTBEAT_MS = 2_000;
/** A row seen within this long counts as a running gateway that must confirm a change. */
export const LIVE_WITHIN_MS = 30_000;
/** Rows not seen for this long are deleted when a gateway starts. */
const FORGET_AFTER_MS = 86_400_000;

export function newReplicaId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/** The gateway side: reports the revision its registry applied, on every change and on a heartbeat. */
export class ReplicaReporter {
  private timer: NodeJS.Timeout | undefined;
  private rev = 0;
  private writing: Promise<void> | undefined;
  private writeAgain = false;
  private readonly startedAt = Date.now();
  private stopped = false;

  constructor(
    private readonly db: Db,
    readonly replicaId: string,
    private readonly onError: (err: Error) => void = () => {},
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.write(), HEARTBEAT_MS);
    this.timer.unref();
    // Rows of gateways that stopped without their clean shutdown are ignored after LIVE_WITHIN_MS; drop old ones.
    this.db.query('DELETE FROM identity_replicas WHERE seen_at < $1', [Date.now() - FORGET_AFTER_MS]).catch((err: Error) => this.onError(err));
  }

  /** Called after the registry applied `rev`; resolves once the row says so. Writes coalesce. */
  applied(rev: number): Promise<void> {
    if (rev > this.rev) this.rev = rev;
    return this.write();
  }

  private write(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.writing) {
      this.writeAgain = true;
      return this.writing;
    }
    this.writing = (async () => {
      try {
        do {
          this.writeAgain = false;
          await this.db.query(
            `INSERT INTO identity_replicas (replica_id, rev, seen_at, started_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (replica_id) DO UPDATE SET rev = excluded.rev, seen_at = excluded.seen_at`,
            [this.replicaId, this.rev, Date.now(), this.startedAt],
          );
        } while (this.writeAgain && !this.stopped);
      } catch (err) {
        this.onError(err as Error);
      } finally {
        this.writing = undefined;
      }
    })();
    return this.writing;
  }

  /** Stops reporting and removes the row, so writers stop waiting for this gateway. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.writing;
    await this.db.query('DELETE FROM identity_replicas WHERE replica_id = $1', [this.replicaId]).catch((err: Error) => this.onError(err));
  }
}

export interface ReplicaConfirmation {
  /** Live gateways that applied the revision. */
  confirmed: string[];
  /** Live gateways that had not applied it when the wait ended, with the revision they report and when last seen. */
  pending: { replicaId: string; rev: number; seenAgoMs: number }[];
}

/**
 * The writer side: waits (polling the table) until every live gateway applied `rev`, up to `timeoutMs`.
 * `except` leaves out the caller's own replica (it applied the change itself before asking).
 */
export async function waitForReplicas(db: Db, rev: number, opts: { timeoutMs: number; except?: string; pollMs?: number; now?: () => number }): Promise<ReplicaConfirmation> {
  const now = opts.now ?? Date.now;
  const deadline = now() + opts.timeoutMs;
  for (;;) {
    const t = now();
    const rows = await db.query<{ replica_id: string; rev: number | string; seen_at: number | string }>(
      'SELECT replica_id, rev, seen_at FROM identity_replicas WHERE seen_at >= $1',
      [t - LIVE_WITHIN_MS],
    );
    const confirmed: string[] = [];
    const pending: ReplicaConfirmation['pending'] = [];
    for (const r of rows) {
      if (r.replica_id === opts.except) continue;
      if (Number(r.rev) >= rev) confirmed.push(r.replica_id);
      else pending.push({ replicaId: r.replica_id, rev: Number(r.rev), seenAgoMs: Math.max(0, t - Number(r.seen_at)) });
    }
    if (pending.length === 0 || t >= deadline) return { confirmed, pending };
    await new Promise((r) => setTimeout(r, Math.min(opts.pollMs ?? 20, Math.max(1, deadline - t))));
  }
}
