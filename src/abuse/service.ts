/**
 * The detector inside the gateway, off the hot path: `submit(event)` is an O(1) push into a bounded queue;
 * batches are ingested on a later tick, analysis runs on an interval, and its actions are installed in the
 * gate (whose `check()` the request path calls) and reported to the audit callback. State is snapshotted to
 * a file on stop and after each analysis, and restored on start.
 */
import { existsSync } from 'node:fs';
import type { ChangeWatcher } from '../store/changes.ts';
import type { Db } from '../store/db.ts';
import { ABUSE_TOPIC, FleetPublisher, RedisStreamBus, loadVerdicts } from './fleet.ts';
import type { Principal, Verdict } from '../core/types.ts';
import type { Analysis } from './cluster.ts';
import { abuseConfig, type AbuseConfig } from './config.ts';
import { AbuseDetector } from './detector.ts';
import { AbuseGate, actionForScore } from './gate.ts';
import { REVIEW_TOPIC, RingReviewRepository } from './reviews.ts';
import { ACTION_ORDER, type AbuseActionKind, type AbuseActionRecord, type AbuseEvent, type AccountMeta, type IncidentCandidate, type Ring } from './types.ts';

export interface AbuseServiceDeps {
  /** Receives one record per action change; the lead appends them to the audit log. */
  onAction?: (record: AbuseActionRecord) => void;
  /** Rings whose score reaches `require-kyc` or above, once per ring and severity band. */
  onIncidentCandidate?: (candidate: IncidentCandidate) => void;
  /** Errors from background work (snapshot I/O); never thrown into the request path. */
  onError?: (err: Error) => void;
  now?: () => number;
  /** Fleet role `publish`: the store (verdicts), its change watcher and the Redis URL of the event stream. */
  db?: Db;
  watcher?: ChangeWatcher;
  redisUrl?: string;
}

export class AbuseService {
  readonly cfg: AbuseConfig;
  readonly detector: AbuseDetector;
  readonly gate: AbuseGate;
  private queue: unknown[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private analyseTimer: NodeJS.Timeout | null = null;
  private readonly maxQueue: number;
  /** Highest severity already reported per ring id (bounded by maxRings: pruned to the current rings). */
  private reported = new Map<string, AbuseActionKind>();
  dropped = 0;
  /** Fleet role `publish`: events go to the stream; verdicts and rings come from the store. */
  publisher: FleetPublisher | null = null;
  private fleetRings: Ring[] = [];
  private unwatch: (() => void) | null = null;

  constructor(config: Partial<AbuseConfig> | AbuseConfig = {}, private readonly deps: AbuseServiceDeps = {}) {
    this.cfg = abuseConfig(config);
    this.detector = new AbuseDetector(this.cfg, deps.now);
    this.gate = new AbuseGate(this.cfg, deps.onAction, deps.now);
    this.maxQueue = this.cfg.batchSize * 64;
  }

  /** Hot path: O(1), never throws, never blocks. Overflow beyond 64 batches is dropped and counted. */
  submit(event: AbuseEvent | AccountMeta & { kind: 'account' }): void {
    if (!this.cfg.enabled) return;
    if (this.publisher) {
      this.publisher.push(event);
      return;
    }
    if (this.queue.length >= this.maxQueue) {
      this.dropped++;
      return;
    }
    this.queue.push(event);
    if (this.queue.length >= this.cfg.batchSize) this.schedule(0);
    else if (!this.flushTimer) this.schedule(this.cfg.flushMs);
  }

  /** Account metadata (identity/billing changes); same queue so order with events is kept. */
  submitAccount(meta: AccountMeta): void {
    this.submit({ kind: 'account', ...meta });
  }

  /** Hot path: O(1) verdict for a principal. */
  check(principal: Pick<Principal, 'accountId'> & Partial<Pick<Principal, 'kyc'>>): Verdict {
    return this.gate.check(principal);
  }

  private schedule(ms: number): void {
    if (this.flushTimer) {
      if (ms > 0) return;
      clearTimeout(this.flushTimer);
    }
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      this.flush();
    }, ms);
    this.flushTimer.unref?.();
  }

  flush(): void {
    const batch = this.queue;
    this.queue = [];
    this.detector.ingestBatch(batch);
  }

  /** Ingests what is queued, analyses, installs actions (emitting audit records) and snapshots. */
  async analyseNow(): Promise<Analysis> {
    this.flush();
    const analysis = this.detector.analyse();
    this.gate.apply(analysis);
    this.reportIncidents(analysis.rings);
    if (this.cfg.snapshotFile) await this.detector.saveSnapshot(this.cfg.snapshotFile).catch((e: Error) => this.deps.onError?.(e));
    return analysis;
  }

  private reportIncidents(rings: Ring[]): void {
    const next = new Map<string, AbuseActionKind>();
    for (const r of rings) {
      const severity = actionForScore(r.score, this.cfg.thresholds);
      const prev = this.reported.get(r.id) ?? 'none';
      const rank = (a: AbuseActionKind) => ACTION_ORDER.indexOf(a);
      next.set(r.id, rank(severity) > rank(prev) ? severity : prev);
      // A verified organisation behaving like a ring is worth a human look from the flag band on.
      const floor = r.review ? rank('flag') : rank('require-kyc');
      if (rank(severity) < floor || rank(severity) <= rank(prev)) continue;
      const top = r.evidence.slice(0, 3).map((e) => `${e.signal} ${e.strength}`).join(', ');
      this.deps.onIncidentCandidate?.({
        kind: 'incident.candidate', source: 'abuse', ringId: r.id, severity, score: r.score, members: r.members.length,
        firstSeen: r.firstSeen, lastSeen: r.lastSeen, evidence: r.evidence,
        summary: `Suspected ring of ${r.members.length} accounts${r.review && r.explainedByOrg ? ` inside verified organisation ${r.explainedByOrg}` : ''} (score ${r.score}, ${severity}); strongest signals: ${top}`,
      });
    }
    this.reported = next;
  }

  rings(): Ring[] {
    if (this.cfg.fleet.role === 'publish') return this.fleetRings;
    return this.detector.lastAnalysis?.rings ?? [];
  }

  /** Fleet role `publish`: verdicts and rings written by the detector service, reinstalled silently. */
  async reloadVerdicts(): Promise<void> {
    if (!this.deps.db) return;
    const { actions, rings } = await loadVerdicts(this.deps.db);
    this.gate.install(actions, false);
    this.fleetRings = rings;
  }

  /**
   * Reviewers' decisions (the store's `abuse_ring_reviews`) installed over the detected actions; each change is an
   * `abuse.action` record. Called at start, after a decision, and on every replica when the store says one was made.
   */
  async reloadReviews(emit = true): Promise<void> {
    if (!this.deps.db) return;
    const reviews = (await new RingReviewRepository(this.deps.db).list()).reverse();
    this.gate.setReviews(reviews.map((r) => ({ ringId: r.ringId, action: r.action, members: r.members, reason: `ring ${r.ringId} reviewed by ${r.decidedBy}: ${r.decision} → ${r.action}` })), emit);
  }

  private watchReviews(): void {
    const off = this.deps.watcher?.on((topic) => {
      if (topic === REVIEW_TOPIC) this.reloadReviews().catch((e: Error) => this.deps.onError?.(e));
    });
    if (!off) return;
    const prev = this.unwatch;
    this.unwatch = () => {
      prev?.();
      off();
    };
  }

  async start(): Promise<void> {
    await this.reloadReviews(false);
    if (this.cfg.fleet.role === 'publish') {
      if (!this.deps.db || !this.deps.redisUrl) throw new Error('abuse.fleet.role publish needs the store and a Redis URL (redis.url or REDIS_URL)');
      const { Redis } = await import('ioredis');
      const redis = new Redis(this.deps.redisUrl, { maxRetriesPerRequest: 2, enableOfflineQueue: true });
      redis.on('error', (e: Error) => this.deps.onError?.(new Error(`abuse event stream: ${e.message}`)));
      this.publisher = new FleetPublisher(new RedisStreamBus(redis, this.cfg.fleet.stream, this.cfg.fleet.maxLen), {
        batchSize: this.cfg.batchSize, flushMs: this.cfg.flushMs, maxQueue: this.maxQueue, onError: this.deps.onError,
      });
      await this.reloadVerdicts();
      this.unwatch = this.deps.watcher?.on((topic) => {
        if (topic === ABUSE_TOPIC) this.reloadVerdicts().catch((e: Error) => this.deps.onError?.(e));
      }) ?? null;
      this.watchReviews();
      return;
    }
    if (this.cfg.snapshotFile && existsSync(this.cfg.snapshotFile)) {
      await this.detector.loadSnapshot(this.cfg.snapshotFile);
      // Actions in force before the restart are already in the audit log: reinstall them silently.
      this.gate.apply(this.detector.analyse(), false);
    }
    this.watchReviews();
    this.analyseTimer = setInterval(() => {
      this.analyseNow().catch((e: Error) => this.deps.onError?.(e));
    }, this.cfg.analyseIntervalMs);
    this.analyseTimer.unref?.();
  }

  async stop(): Promise<void> {
    if (this.publisher) {
      this.unwatch?.();
      await this.publisher.close();
      this.publisher = null;
      return;
    }
    this.unwatch?.();
    this.unwatch = null;
    if (this.analyseTimer) clearInterval(this.analyseTimer);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.analyseTimer = this.flushTimer = null;
    this.flush();
    if (this.cfg.snapshotFile) await this.detector.saveSnapshot(this.cfg.snapshotFile);
  }
}
