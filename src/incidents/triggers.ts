/**
 * Automatic incident triggers, wired as an EventSink (off the hot path: `onEvent` only counts in memory and
 * queues; one worker writes to the store, in order):
 *   - refusal burst: `threshold` refusals of one harm category (the classifier label that refused) for one account,
 *     or one organisation, within `windowMs` → an incident (dedupe key `refusal-burst:<category>:<account|org>:<id>`),
 *     and each further burst links its requests to it while it is open or being investigated;
 *   - output moderation ending a stream → an incident per account and category (`moderation-stop:…`), each further
 *     stop linked to it;
 *   - a safeguard stage failing closed (`classifier_unavailable` refusals) → one incident (`safeguard-failure:classifier`);
 *   - a safeguard stage failing open (a cascade stage erred and the request went on without it, `failedOpen` in the
 *     event) → one incident (`safeguard-fail-open:classifier`), each further such request linked to it;
 *   - a ring reaching one of `ringActions` (default `suspend`; fed by the abuse detector's actions) → an incident per ring;
 *   - a directive issued under an authority (seen through the store's change feed; issued in the last 7 days and
 *     without an incident yet) → an incident per directive (`directive:<id>`), the directive linked;
 *   - an audit-log problem (a verification failure at start-up, a quarantined segment, writes failing) → one
 *     critical incident (`audit-log`), later problems linked to it.
 * The queue is bounded: past `maxQueued` pending reports the oldest are dropped and counted (`dropped`).
 */
import { z } from 'zod';
import type { EventSink } from '../core/gates.ts';
import type { RequestEvent } from '../core/types.ts';
import { SEVERITIES } from './model.ts';
import type { IncidentRepository, TriggerReport } from './repository.ts';

export const triggersConfigSchema = z
  .strictObject({
    refusalBurst: z
      .strictObject({
        enabled: z.boolean().default(true),
        threshold: z.number().int().min(2).max(1_000_000).default(20),
        windowMs: z.number().int().min(1000).max(7 * 86_400_000).default(600_000),
        severity: z.enum(SEVERITIES).default('high'),
        /** Count per account, per organisation, or both. */
        scopes: z.array(z.enum(['account', 'org'])).min(1).default(['account', 'org']),
      })
      .default({ enabled: true, threshold: 20, windowMs: 600_000, severity: 'high', scopes: ['account', 'org'] }),
    moderationStop: z
      .strictObject({ enabled: z.boolean().default(true), severity: z.enum(SEVERITIES).default('medium') })
      .default({ enabled: true, severity: 'medium' }),
    safeguardFailure: z.strictObject({ enabled: z.boolean().default(true), severity: z.enum(SEVERITIES).default('high') }).default({ enabled: true, severity: 'high' }),
    /** A safeguard stage that failed while requests were served without it (its labels fail open). */
    safeguardFailOpen: z.strictObject({ enabled: z.boolean().default(true), severity: z.enum(SEVERITIES).default('high') }).default({ enabled: true, severity: 'high' }),
    ring: z
      .strictObject({ enabled: z.boolean().default(true), actions: z.array(z.enum(['flag', 'require-kyc', 'degrade', 'suspend'])).min(1).default(['suspend']), severity: z.enum(SEVERITIES).default('high') })
      .default({ enabled: true, actions: ['suspend'], severity: 'high' }),
    auditProblem: z.strictObject({ enabled: z.boolean().default(true), severity: z.enum(SEVERITIES).default('critical') }).default({ enabled: true, severity: 'critical' }),
    directiveIssued: z.strictObject({ enabled: z.boolean().default(true), severity: z.enum(SEVERITIES).default('medium') }).default({ enabled: true, severity: 'medium' }),
    maxQueued: z.number().int().min(1).max(1_000_000).default(10_000),
  })
  .default({
    refusalBurst: { enabled: true, threshold: 20, windowMs: 600_000, severity: 'high', scopes: ['account', 'org'] },
    moderationStop: { enabled: true, severity: 'medium' },
    safeguardFailure: { enabled: true, severity: 'high' },
    safeguardFailOpen: { enabled: true, severity: 'high' },
    ring: { enabled: true, actions: ['suspend'], severity: 'high' },
    auditProblem: { enabled: true, severity: 'critical' },
    directiveIssued: { enabled: true, severity: 'medium' },
    maxQueued: 10_000,
  });
export type TriggersConfig = z.output<typeof triggersConfigSchema>;

/** YAML section `incidents:` — the triggers that open incidents automatically, and the reporting regimes file. */
export const configSchema = z
  .strictObject({
    triggers: triggersConfigSchema,
    /** Reporting regimes (YAML, versioned data; relative to the config file). Default: the shipped file. */
    regimesFile: z.string().min(1).optional(),
  })
  .prefault({});
export type IncidentsConfig = z.output<typeof configSchema>;

/** Most (category, principal) windows held; past it the stalest are forgotten. */
const MAX_WINDOWS = 100_000;

interface Window {
  times: number[];
  ids: string[];
  models: Set<string>;
  principals: Set<string>;
}

export class IncidentTriggers {
  readonly sink: EventSink = { name: 'incidents', onEvent: (ev) => this.onEvent(ev) };
  private readonly windows = new Map<string, Window>();
  /** Directives this process has already reported or found reported (checks run on every directive change). */
  private readonly directivesSeen = new Set<string>();
  private readonly queue: TriggerReport[] = [];
  private draining: Promise<void> | null = null;
  dropped = 0;
  opened = 0;
  linked = 0;

  constructor(
    private readonly repo: IncidentRepository,
    private readonly config: TriggersConfig,
    private readonly onError: (err: Error) => void = () => {},
  ) {}

  onEvent(ev: RequestEvent): void {
    if (ev.accountId === null) return;
    if (ev.failedOpen && ev.failedOpen.length > 0 && this.config.safeguardFailOpen.enabled) {
      this.enqueue({
        dedupeKey: 'safeguard-fail-open:classifier',
        trigger: 'safeguard-fail-open',
        title: 'A safeguards classifier stage failed and requests were served without it (fail open)',
        severity: this.config.safeguardFailOpen.severity,
        models: [ev.modelServed ?? ev.modelRequested],
        principals: principalsOf(ev),
        requestIds: [ev.requestId],
        by: 'trigger:safeguard-fail-open',
        details: { stages: ev.failedOpen.slice(0, 10), outcome: ev.outcome },
      });
    }
    if (ev.code === 'classifier_unavailable' && this.config.safeguardFailure.enabled) {
      this.enqueue({
        dedupeKey: 'safeguard-failure:classifier',
        trigger: 'safeguard-failure',
        title: 'A safeguards classifier stage failed and requests were refused (fail closed)',
        severity: this.config.safeguardFailure.severity,
        models: [ev.modelRequested],
        principals: principalsOf(ev),
        requestIds: [ev.requestId],
        by: 'trigger:safeguard-failure',
        details: { label: ev.ref?.classifier ?? null },
      });
      return;
    }
    const category = ev.ref?.classifier;
    if (ev.outcome === 'moderated' && this.config.moderationStop.enabled) {
      const cat = category ?? ev.code ?? 'output';
      this.enqueue({
        dedupeKey: `moderation-stop:${cat}:account:${ev.accountId}`,
        trigger: 'moderation-stop',
        title: `Output moderation ended a response (${cat}) for account ${ev.accountId}`,
        severity: this.config.moderationStop.severity,
        models: [ev.modelServed ?? ev.modelRequested],
        principals: principalsOf(ev),
        requestIds: [ev.requestId],
        by: 'trigger:moderation-stop',
        details: { category: cat },
      });
      return;
    }
    const rb = this.config.refusalBurst;
    if (!rb.enabled || ev.outcome !== 'refused' || typeof category !== 'string') return;
    for (const scope of rb.scopes) {
      const id = scope === 'account' ? ev.accountId : ev.orgId;
      if (id === null) continue;
      const key = `refusal-burst:${category}:${scope}:${id}`;
      let w = this.windows.get(key);
      if (!w) {
        if (this.windows.size >= MAX_WINDOWS) this.forgetStale(ev.time);
        this.windows.set(key, (w = { times: [], ids: [], models: new Set(), principals: new Set() }));
      }
      // Slide: drop what fell out of the window.
      let drop = 0;
      while (drop < w.times.length && w.times[drop]! < ev.time - rb.windowMs) drop++;
      if (drop) {
        w.times.splice(0, drop);
        w.ids.splice(0, drop);
      }
      w.times.push(ev.time);
      w.ids.push(ev.requestId);
      w.models.add(ev.modelRequested);
      for (const p of principalsOf(ev)) w.principals.add(p);
      if (w.times.length >= rb.threshold) {
        this.enqueue({
          dedupeKey: key,
          trigger: 'refusal-burst',
          title: `Burst of ${category} refusals for ${scope} ${id}: ${w.times.length} within ${Math.round(rb.windowMs / 1000)} s`,
          severity: rb.severity,
          models: [...w.models],
          principals: [...w.principals],
          requestIds: w.ids.slice(),
          by: 'trigger:refusal-burst',
          details: { category, scope, refusals: w.times.length, windowMs: rb.windowMs },
        });
        this.windows.delete(key);
      }
    }
  }

  /** An abuse detector action (abuse/types.ts AbuseActionRecord): a ring reaching one of the configured actions. */
  ringAction(a: { accountId: string; ringId: string | null; previous: string; next: string; score: number; reasons: string[] }): void {
    const cfg = this.config.ring;
    if (!cfg.enabled || a.ringId === null || !(cfg.actions as readonly string[]).includes(a.next)) return;
    this.enqueue({
      dedupeKey: `ring:${a.ringId}`,
      trigger: 'ring-action',
      title: `Ring ${a.ringId} reached ${a.next}`,
      severity: cfg.severity,
      models: [],
      principals: [`account:${a.accountId}`],
      requestIds: [],
      rings: [a.ringId],
      by: 'trigger:ring-action',
      details: { accountId: a.accountId, previous: a.previous, next: a.next, score: a.score, reasons: a.reasons.slice(0, 5) },
    });
  }

  /** A problem of the audit log (start-up verification failed, a segment quarantined, writes failing). */
  auditProblem(message: string): void {
    if (!this.config.auditProblem.enabled) return;
    this.enqueue({
      dedupeKey: 'audit-log',
      trigger: 'audit-problem',
      title: `Audit log problem: ${message.slice(0, 200)}`,
      severity: this.config.auditProblem.severity,
      models: [],
      principals: [],
      requestIds: [],
      by: 'trigger:audit-problem',
      details: { message: message.slice(0, 2000) },
    });
  }

  /**
   * The directives in the store changed: each active one issued in the last 7 days that has never had an incident
   * gets one (replicas racing on the same directive link to one incident).
   */
  async directivesChanged(list: ReadonlyArray<{ id: string; status: string; models: string[]; effect: string; authority: string; reference: string; issuedAt: number; issuedBy: string }>, now: number = Date.now()): Promise<void> {
    const cfg = this.config.directiveIssued;
    if (!cfg.enabled) return;
    for (const d of list) {
      if (d.status !== 'active' || d.issuedAt < now - 7 * 86_400_000) continue;
      const key = `directive:${d.id}`;
      if (this.directivesSeen.has(d.id)) continue;
      if (await this.repo.hasIncidentFor(key)) {
        this.directivesSeen.add(d.id);
        continue;
      }
      if (this.directivesSeen.size >= MAX_WINDOWS) this.directivesSeen.clear();
      this.directivesSeen.add(d.id);
      this.enqueue({
        dedupeKey: key,
        trigger: 'directive-issued',
        title: `Directive ${d.id} issued under ${d.authority} (${d.reference}): ${d.effect} on ${d.models.join(', ')}`,
        severity: cfg.severity,
        models: d.models.filter((m) => !m.includes('*')),
        principals: [],
        requestIds: [],
        directives: [d.id],
        by: 'trigger:directive-issued',
        details: { issuedBy: d.issuedBy, authority: d.authority, reference: d.reference, effect: d.effect },
      });
    }
  }

  /** Resolves once every queued report is written (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private enqueue(r: TriggerReport): void {
    if (this.queue.length >= this.config.maxQueued) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push(r);
    if (!this.draining) this.draining = this.drain().finally(() => (this.draining = null));
  }

  private async drain(): Promise<void> {
    for (let r = this.queue.shift(); r; r = this.queue.shift()) {
      try {
        const res = await this.repo.report(r);
        if (res.opened) this.opened++;
        else this.linked++;
      } catch (err) {
        this.onError(err as Error);
      }
    }
  }

  private forgetStale(now: number): void {
    const horizon = now - this.config.refusalBurst.windowMs;
    for (const [k, w] of this.windows) if (w.times[w.times.length - 1]! < horizon) this.windows.delete(k);
    if (this.windows.size >= MAX_WINDOWS) this.windows.clear();
  }
}

function principalsOf(ev: RequestEvent): string[] {
  const out: string[] = [];
  if (ev.accountId) out.push(`account:${ev.accountId}`);
  if (ev.orgId) out.push(`org:${ev.orgId}`);
  if (ev.keyId) out.push(`key:${ev.keyId}`);
  return out;
}
