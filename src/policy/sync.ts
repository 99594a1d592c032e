/**
 * DirectiveSync keeps this replica's view of directives (and the licence ledger) fresh.
 *
 * Freshness: every `pollIntervalMs` it reads the 'directives' and 'licences' revisions (one cheap query);
 * a change notification (ChangeWatcher: PostgreSQL LISTEN/NOTIFY, Redis pub/sub, or a local publish) makes
 * that happen at once. When a revision moved, the table is re-read and `onDirectives` / `onLicences` is called.
 * A successful poll is proof the store is reachable: `lastSyncAt` is its time.
 *
 * Store unreachable: polls fail, the last known directives stay in force, `status().fresh` turns false after
 * `staleAfterMs`, and the owner (AccessControl) may fail closed for directive-governed models.
 */
import type { ChangeWatcher } from '../store/changes.ts';
import type { Db } from '../store/db.ts';
import type { LicenceRecord } from './licences.ts';
import { LICENCES_TOPIC, LicenceRepository } from './licence-repository.ts';
import type { DirectiveRecord } from '../directives/model.ts';
import { DIRECTIVES_TOPIC, DirectiveRepository } from '../directives/repository.ts';

export interface DirectiveSyncOptions {
  watcher?: ChangeWatcher;
  /** Default 250 ms. */
  pollIntervalMs?: number;
  /** The view counts as stale when the last successful poll is older than this. Default 5000 ms. */
  staleAfterMs?: number;
  /** Also keep licences fresh (default true). */
  licences?: boolean;
  onDirectives: (directives: DirectiveRecord[]) => void;
  onLicences?: (licences: LicenceRecord[]) => void;
  onError?: (err: Error) => void;
  now?: () => number;
}

export interface SyncStatus {
  fresh: boolean;
  /** Epoch ms of the last successful contact with the store, or null if never. */
  lastSyncAt: number | null;
  directivesRevision: number | null;
  licencesRevision: number | null;
}

export class DirectiveSync {
  private readonly directives: DirectiveRepository;
  private readonly licences: LicenceRepository;
  private readonly now: () => number;
  private readonly pollIntervalMs: number;
  readonly staleAfterMs: number;
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private lastSyncAt: number | null = null;
  private revs = { directives: null as number | null, licences: null as number | null };

  constructor(
    private readonly db: Db,
    private readonly opts: DirectiveSyncOptions,
  ) {
    this.directives = new DirectiveRepository(db);
    this.licences = new LicenceRepository(db);
    this.now = opts.now ?? Date.now;
    this.pollIntervalMs = opts.pollIntervalMs ?? 250;
    this.staleAfterMs = opts.staleAfterMs ?? 5000;
  }

  /**
   * Starts polling and listening, then does the first load. Rejects if that first load fails (store
   * unreachable); polling continues regardless, so the view recovers when the store comes back.
   */
  async start(): Promise<void> {
    if (this.opts.watcher) {
      this.unsubscribe = this.opts.watcher.on((topic) => {
        if (topic === DIRECTIVES_TOPIC || topic === LICENCES_TOPIC) this.wake();
      });
    }
    if (this.pollIntervalMs > 0) {
      this.timer = setInterval(() => this.wake(), this.pollIntervalMs);
      this.timer.unref();
    }
    await this.sync();
  }

  /** Allocation-free freshness check for the request path. */
  isFresh(now: number): boolean {
    return this.lastSyncAt !== null && now - this.lastSyncAt <= this.staleAfterMs;
  }

  status(now = this.now()): SyncStatus {
    return {
      fresh: this.lastSyncAt !== null && now - this.lastSyncAt <= this.staleAfterMs,
      lastSyncAt: this.lastSyncAt,
      directivesRevision: this.revs.directives,
      licencesRevision: this.revs.licences,
    };
  }

  /** Re-reads now (coalesced with a sync in flight). Rejects when the store is unreachable. */
  sync(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private wake(): void {
    if (this.stopped) return;
    this.sync().catch((err: Error) => this.opts.onError?.(err));
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      await this.once();
    } while (this.again && !this.stopped);
  }

  private async once(): Promise<void> {
    const started = this.now();
    const rows = await this.db.query<{ topic: string; rev: number }>('SELECT topic, rev FROM gh_revisions WHERE topic = $1 OR topic = $2', [DIRECTIVES_TOPIC, LICENCES_TOPIC]);
    const rev = (topic: string) => {
      const r = rows.find((x) => x.topic === topic);
      return r ? Number(r.rev) : 0;
    };
    const d = rev(DIRECTIVES_TOPIC);
    const l = rev(LICENCES_TOPIC);
    // Revision first, then rows: a change committed in between is re-read on the next poll (its rev is newer).
    if (d !== this.revs.directives) {
      const list = await this.directives.list();
      this.opts.onDirectives(list);
      this.revs.directives = d;
    }
    if (this.opts.licences !== false && this.opts.onLicences && l !== this.revs.licences) {
      const list = await this.licences.loadCurrent();
      this.opts.onLicences(list);
      this.revs.licences = l;
    }
    this.lastSyncAt = started;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.unsubscribe?.();
    await this.running?.catch(() => {});
  }
}
