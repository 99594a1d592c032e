/**
 * IncidentRepository: the only code that reads or writes the incidents tables. Every change is one transaction
 * that (1) updates the row only if its version is still the one the change was made from, (2) appends the
 * timeline entry, (3) writes an audit inbox row (src/audit/inbox.ts) when an audit actor is set, so the change
 * and its audit record commit together. A lost race is an IncidentConflictError, never a silent overwrite.
 */
import { randomBytes } from 'node:crypto';
import { AdminConflictError, AdminNotFoundError } from '../admin/http.ts';
import { recordAdminAction } from '../core/admin-actions.ts';
import { bumpRevision } from '../store/changes.ts';
import type { Db } from '../store/db.ts';
import { jsonSink, PolicyValidationError, zodIssues, type IssueSink } from '../core/validation.ts';
import { MAX_LINKED, openSchema, STATES, transitionProblem, transitionSchema, type Fact, type Incident, type IncidentState, type OpenInput, type TimelineEntry } from './model.ts';

export const INCIDENTS_TOPIC = 'incidents';

/** Answered 404 not_found by the admin API. */
export class IncidentNotFoundError extends AdminNotFoundError {
  constructor(readonly id: string) {
    super(`no incident with id '${id}'`);
    this.name = 'IncidentNotFoundError';
  }
}

/** The change was made from a version that is no longer current, or is not allowed from the current state (409 conflict). */
export class IncidentConflictError extends AdminConflictError {
  constructor(message: string) {
    super(message);
    this.name = 'IncidentConflictError';
  }
}

export interface IncidentRepositoryOptions {
  now?: () => number;
  /** Who runs this process (`admin-api`, `cli:user@host`, `incident-trigger`): each change then also writes an audit inbox row. */
  auditActor?: string;
  /** Checks regime ids named on `reportable` (throws PolicyValidationError). */
  validateRegimes?: (ids: readonly string[]) => void;
}

interface Row {
  id: string;
  title: string;
  summary: string | null;
  severity: string;
  state: string;
  version: number;
  trigger_name: string;
  dedupe_key: string | null;
  models: string;
  principals: string;
  request_ids: string;
  linked_count: number;
  rings: string;
  directives: string;
  facts: string;
  regimes: string;
  aware_at: number;
  opened_at: number;
  opened_by: string;
  updated_at: number;
  reported_at: number | null;
  report_refs: string;
  closed_at: number | null;
}

const COLUMNS =
  'id, title, summary, severity, state, version, trigger_name, dedupe_key, models, principals, request_ids, linked_count, rings, directives, facts, regimes, aware_at, opened_at, opened_by, updated_at, reported_at, report_refs, closed_at';

function toIncident(r: Row): Incident {
  const n = (v: number | null) => (v === null ? null : Number(v));
  return {
    id: r.id,
    title: r.title,
    summary: r.summary,
    severity: r.severity as Incident['severity'],
    state: r.state as IncidentState,
    version: Number(r.version),
    trigger: r.trigger_name,
    dedupeKey: r.dedupe_key,
    models: JSON.parse(r.models) as string[],
    principals: JSON.parse(r.principals) as string[],
    requestIds: JSON.parse(r.request_ids) as string[],
    linkedCount: Number(r.linked_count),
    rings: JSON.parse(r.rings) as string[],
    directives: JSON.parse(r.directives) as string[],
    facts: JSON.parse(r.facts) as Fact[],
    regimes: JSON.parse(r.regimes) as string[],
    awareAt: Number(r.aware_at),
    openedAt: Number(r.opened_at),
    openedBy: r.opened_by,
    updatedAt: Number(r.updated_at),
    reportedAt: n(r.reported_at),
    reportRefs: JSON.parse(r.report_refs) as string[],
    closedAt: n(r.closed_at),
  };
}

function parse<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: import('zod').z.ZodError } }, input: unknown, sink: IssueSink): T {
  const r = schema.safeParse(input);
  if (!r.success) throw new PolicyValidationError(zodIssues(r.error, sink));
  return r.data;
}

const union = (a: readonly string[], b: readonly string[]): string[] => [...new Set([...a, ...b])];

export function newIncidentId(now: number): string {
  return `inc_${now.toString(36)}${randomBytes(4).toString('hex')}`;
}

/** What an automatic trigger supplies when it opens an incident or links evidence to the one already open. */
export interface TriggerReport {
  dedupeKey: string;
  trigger: string;
  title: string;
  severity: Incident['severity'];
  models: string[];
  principals: string[];
  requestIds: string[];
  rings?: string[];
  directives?: string[];
  /** Who the trigger is, for the timeline (`trigger:refusal-burst`). */
  by: string;
  details?: Record<string, unknown>;
}

export class IncidentRepository {
  private readonly now: () => number;
  constructor(
    private readonly db: Db,
    private readonly opts: IncidentRepositoryOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** Opens an incident by hand. Throws PolicyValidationError for bad input. */
  async open(input: unknown, sink: IssueSink = jsonSink()): Promise<Incident> {
    const o = parse<OpenInput>(openSchema, input, sink);
    const now = this.now();
    const inc: Incident = {
      id: newIncidentId(now),
      title: o.title,
      summary: o.summary ?? null,
      severity: o.severity,
      state: 'open',
      version: 1,
      trigger: 'manual',
      dedupeKey: null,
      models: o.models,
      principals: o.principals,
      requestIds: o.requestIds,
      linkedCount: o.requestIds.length,
      rings: o.rings,
      directives: o.directives,
      facts: o.facts,
      regimes: [],
      awareAt: o.awareAt ?? now,
      openedAt: now,
      openedBy: o.by,
      updatedAt: now,
      reportedAt: null,
      reportRefs: [],
      closedAt: null,
    };
    await this.db.transaction(async (tx) => {
      await this.insert(tx, inc);
      await this.timeline(tx, { incidentId: inc.id, version: 1, at: now, by: o.by, action: 'opened', from: null, to: 'open', why: null, details: { severity: inc.severity, trigger: 'manual' } });
      await this.audit(tx, 'incident.opened', inc.id, { by: o.by, severity: inc.severity, title: inc.title, trigger: 'manual' }, now);
      await bumpRevision(tx, INCIDENTS_TOPIC);
    });
    return inc;
  }

  /**
   * An automatic trigger's report: links the evidence to the open or investigating incident holding the same
   * dedupe key, or opens one. Returns the incident and whether it was opened now.
   */
  async report(t: TriggerReport): Promise<{ incident: Incident; opened: boolean }> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const existing = await this.db.query<Row>(`SELECT ${COLUMNS} FROM incidents WHERE dedupe_key = $1 AND state IN ('open', 'investigating')`, [t.dedupeKey]);
      if (existing[0]) {
        try {
          return { incident: await this.link(toIncident(existing[0]), t), opened: false };
        } catch (err) {
          if (err instanceof IncidentConflictError) continue; // changed meanwhile: re-read
          throw err;
        }
      }
      const now = this.now();
      const inc: Incident = {
        id: newIncidentId(now),
        title: t.title,
        summary: null,
        severity: t.severity,
        state: 'open',
        version: 1,
        trigger: t.trigger,
        dedupeKey: t.dedupeKey,
        models: t.models,
        principals: t.principals,
        requestIds: t.requestIds.slice(0, MAX_LINKED),
        linkedCount: t.requestIds.length,
        rings: t.rings ?? [],
        directives: t.directives ?? [],
        facts: [],
        regimes: [],
        awareAt: now,
        openedAt: now,
        openedBy: t.by,
        updatedAt: now,
        reportedAt: null,
        reportRefs: [],
        closedAt: null,
      };
      try {
        await this.db.transaction(async (tx) => {
          await this.insert(tx, inc);
          await this.timeline(tx, { incidentId: inc.id, version: 1, at: now, by: t.by, action: 'opened', from: null, to: 'open', why: null, details: { trigger: t.trigger, requestIds: inc.requestIds.length, ...(t.details ?? {}) } });
          await this.audit(tx, 'incident.opened', inc.id, { by: t.by, severity: inc.severity, title: inc.title, trigger: t.trigger }, now);
          await bumpRevision(tx, INCIDENTS_TOPIC);
        });
        return { incident: inc, opened: true };
      } catch (err) {
        // Another replica opened one with this key first (unique index): link to it instead.
        if (/unique|duplicate/i.test((err as Error).message)) continue;
        throw err;
      }
    }
    throw new IncidentConflictError(`incident for '${t.dedupeKey}' kept changing; evidence not linked`);
  }

  private async link(current: Incident, t: TriggerReport): Promise<Incident> {
    const now = this.now();
    const room = Math.max(0, MAX_LINKED - current.requestIds.length);
    const next: Incident = {
      ...current,
      models: union(current.models, t.models),
      principals: union(current.principals, t.principals),
      requestIds: union(current.requestIds, t.requestIds.slice(0, room)),
      linkedCount: current.linkedCount + t.requestIds.length,
      rings: union(current.rings, t.rings ?? []),
      version: current.version + 1,
      updatedAt: now,
    };
    await this.db.transaction(async (tx) => {
      await this.update(tx, next, current.version);
      await this.timeline(tx, { incidentId: current.id, version: next.version, at: now, by: t.by, action: 'linked', from: null, to: null, why: null, details: { requestIds: t.requestIds.length, ...(t.details ?? {}) } });
      await bumpRevision(tx, INCIDENTS_TOPIC);
    });
    return next;
  }

  /** Moves an incident along the workflow. Throws IncidentNotFoundError, IncidentConflictError (stale version, state not allowed) or PolicyValidationError. */
  async transition(id: string, input: unknown, sink: IssueSink = jsonSink()): Promise<Incident> {
    const t = parse(transitionSchema, input, sink);
    if (t.regimes) this.opts.validateRegimes?.(t.regimes);
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<Row>(`SELECT ${COLUMNS} FROM incidents WHERE id = $1`, [id]);
      if (!rows[0]) throw new IncidentNotFoundError(id);
      const current = toIncident(rows[0]);
      if (t.version !== undefined && t.version !== current.version) {
        throw new IncidentConflictError(`incident '${id}' is at version ${current.version} (state '${current.state}'), not ${t.version}: it was changed since; re-read it`);
      }
      const problem = transitionProblem(current.state, t);
      if (problem) throw new IncidentConflictError(`incident '${id}': ${problem}`);
      const now = this.now();
      const next: Incident = {
        ...current,
        state: t.to,
        version: current.version + 1,
        updatedAt: now,
        facts: t.facts ? (union(current.facts, t.facts) as Fact[]) : current.facts,
        ...(t.to === 'reportable' ? { regimes: t.regimes! } : {}),
        ...(t.to === 'reported' ? { reportedAt: now, reportRefs: t.reportRef ? [...current.reportRefs, t.reportRef] : current.reportRefs } : {}),
        ...(t.to === 'closed' ? { closedAt: now } : {}),
      };
      await this.update(tx, next, current.version);
      const details: Record<string, unknown> = {};
      if (t.regimes) details.regimes = t.regimes;
      if (t.facts) details.facts = t.facts;
      if (t.reportRef) details.reportRef = t.reportRef;
      await this.timeline(tx, { incidentId: id, version: next.version, at: now, by: t.by, action: 'transition', from: current.state, to: t.to, why: t.why, details: Object.keys(details).length ? details : null });
      await this.audit(tx, 'incident.transitioned', id, { by: t.by, from: current.state, to: t.to, version: next.version, why: t.why, ...details }, now);
      await bumpRevision(tx, INCIDENTS_TOPIC);
      return next;
    });
  }

  /** Whether any incident, in any state, was ever opened under this dedupe key. */
  async hasIncidentFor(dedupeKey: string): Promise<boolean> {
    return (await this.db.query('SELECT id FROM incidents WHERE dedupe_key = $1 LIMIT 1', [dedupeKey])).length > 0;
  }

  async get(id: string): Promise<Incident | undefined> {
    const rows = await this.db.query<Row>(`SELECT ${COLUMNS} FROM incidents WHERE id = $1`, [id]);
    return rows[0] ? toIncident(rows[0]) : undefined;
  }

  async list(filter: { state?: IncidentState; limit?: number } = {}): Promise<Incident[]> {
    if (filter.state !== undefined && !STATES.includes(filter.state)) throw new PolicyValidationError([{ path: 'state', message: `expected one of ${STATES.join(', ')}` }]);
    const limit = Math.min(filter.limit ?? 1000, 10_000);
    const rows = filter.state
      ? await this.db.query<Row>(`SELECT ${COLUMNS} FROM incidents WHERE state = $1 ORDER BY opened_at DESC, id LIMIT ${limit}`, [filter.state])
      : await this.db.query<Row>(`SELECT ${COLUMNS} FROM incidents ORDER BY opened_at DESC, id LIMIT ${limit}`);
    return rows.map(toIncident);
  }

  /** Incidents opened at or after `at` (epoch ms), oldest first, at most `limit` (default 1000). */
  async openedSince(at: number, limit = 1000): Promise<Incident[]> {
    const n = Math.min(Math.max(1, Math.floor(limit)), 10_000);
    const rows = await this.db.query<Row>(`SELECT ${COLUMNS} FROM incidents WHERE opened_at >= $1 ORDER BY opened_at, id LIMIT ${n}`, [at]);
    return rows.map(toIncident);
  }

  async timelineOf(id: string): Promise<TimelineEntry[]> {
    const rows = await this.db.query<{ incident_id: string; version: number; at: number; by_whom: string; action: string; from_state: string | null; to_state: string | null; why: string | null; details: string | null }>(
      'SELECT incident_id, version, at, by_whom, action, from_state, to_state, why, details FROM incidents_timeline WHERE incident_id = $1 ORDER BY version',
      [id],
    );
    return rows.map((r) => ({
      incidentId: r.incident_id,
      version: Number(r.version),
      at: Number(r.at),
      by: r.by_whom,
      action: r.action as TimelineEntry['action'],
      from: r.from_state as IncidentState | null,
      to: r.to_state as IncidentState | null,
      why: r.why,
      details: r.details ? (JSON.parse(r.details) as Record<string, unknown>) : null,
    }));
  }

  private async insert(tx: Db, i: Incident): Promise<void> {
    await tx.query(
      `INSERT INTO incidents (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)`,
      [i.id, i.title, i.summary, i.severity, i.state, i.version, i.trigger, i.dedupeKey, JSON.stringify(i.models), JSON.stringify(i.principals), JSON.stringify(i.requestIds), i.linkedCount, JSON.stringify(i.rings), JSON.stringify(i.directives), JSON.stringify(i.facts), JSON.stringify(i.regimes), i.awareAt, i.openedAt, i.openedBy, i.updatedAt, i.reportedAt, JSON.stringify(i.reportRefs), i.closedAt],
    );
  }

  /** The compare-and-set: 0 rows means someone else changed it first. */
  private async update(tx: Db, i: Incident, fromVersion: number): Promise<void> {
    const rows = await tx.query(
      `UPDATE incidents SET state = $2, version = $3, models = $4, principals = $5, request_ids = $6, linked_count = $7, facts = $8, regimes = $9, updated_at = $10, reported_at = $11, report_refs = $12, closed_at = $13, rings = $15
         WHERE id = $1 AND version = $14 RETURNING id`,
      [i.id, i.state, i.version, JSON.stringify(i.models), JSON.stringify(i.principals), JSON.stringify(i.requestIds), i.linkedCount, JSON.stringify(i.facts), JSON.stringify(i.regimes), i.updatedAt, i.reportedAt, JSON.stringify(i.reportRefs), i.closedAt, fromVersion, JSON.stringify(i.rings)],
    );
    if (rows.length === 0) throw new IncidentConflictError(`incident '${i.id}' was changed concurrently (it is no longer at version ${fromVersion}); re-read it and retry`);
  }

  private async timeline(tx: Db, e: TimelineEntry): Promise<void> {
    await tx.query('INSERT INTO incidents_timeline (incident_id, version, at, by_whom, action, from_state, to_state, why, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', [
      e.incidentId,
      e.version,
      e.at,
      e.by,
      e.action,
      e.from,
      e.to,
      e.why,
      e.details ? JSON.stringify(e.details) : null,
    ]);
  }

  private async audit(tx: Db, action: string, target: string, details: Record<string, unknown>, now: number): Promise<void> {
    if (this.opts.auditActor) await recordAdminAction(tx, { action, actor: this.opts.auditActor, target, details }, now);
  }
}
