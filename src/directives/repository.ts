/**
 * DirectiveRepository: the only code that reads or writes the directives tables. Every issue/amend/lift
 * writes a directives_history row (who, when, why, before, after) and bumps the 'directives' revision in the
 * same transaction, so either all of it happens or none, and every replica's DirectiveSync reloads.
 */
import { randomBytes } from 'node:crypto';
import { AdminConflictError, AdminNotFoundError } from '../admin/http.ts';
import { recordAdminAction } from '../core/admin-actions.ts';
import { bumpRevision } from '../store/changes.ts';
import type { Db } from '../store/db.ts';
import { amendSchema, issueSchema, liftSchema, parseOrThrow, type DirectiveRecord } from './model.ts';

export const DIRECTIVES_TOPIC = 'directives';

/** Answered 404 not_found by the admin API. */
export class DirectiveNotFoundError extends AdminNotFoundError {
  constructor(readonly id: string) {
    super(`no directive with id '${id}'`);
    this.name = 'DirectiveNotFoundError';
  }
}
/** Answered 409 conflict by the admin API. */
export class DirectiveStateError extends AdminConflictError {
  constructor(message: string) {
    super(message);
    this.name = 'DirectiveStateError';
  }
}

export interface HistoryEntry {
  id: string;
  directiveId: string;
  action: 'issue' | 'amend' | 'lift';
  at: number;
  by: string;
  why: string;
  before: DirectiveRecord | null;
  after: DirectiveRecord;
}

interface Row {
  id: string;
  models: string;
  population: string;
  effect: string;
  effective_at: number;
  expires_at: number | null;
  authority: string;
  reference: string;
  status: string;
  issued_at: number;
  issued_by: string;
  updated_at: number;
  lifted_at: number | null;
  version: number;
}

const COLUMNS = 'id, models, population, effect, effective_at, expires_at, authority, reference, status, issued_at, issued_by, updated_at, lifted_at, version';

function toRecord(r: Row): DirectiveRecord & { version: number } {
  return {
    id: r.id,
    models: JSON.parse(r.models) as string[],
    population: JSON.parse(r.population) as DirectiveRecord['population'],
    effect: r.effect as DirectiveRecord['effect'],
    effectiveAt: Number(r.effective_at),
    expiresAt: r.expires_at === null ? null : Number(r.expires_at),
    authority: r.authority,
    reference: r.reference,
    status: r.status as DirectiveRecord['status'],
    issuedAt: Number(r.issued_at),
    issuedBy: r.issued_by,
    updatedAt: Number(r.updated_at),
    liftedAt: r.lifted_at === null ? null : Number(r.lifted_at),
    version: Number(r.version),
  };
}

function strip(d: DirectiveRecord & { version?: number }): DirectiveRecord {
  const { version: _v, ...rest } = d;
  return rest;
}

export interface DirectiveRepositoryOptions {
  /**
   * Semantic validation of a candidate record (known models, countries, groups, route cycles, predicates
   * matching nobody). Throws PolicyValidationError. AccessControl supplies one bound to the live catalogue.
   */
  validate?: (record: DirectiveRecord) => void;
  /** Called after a change commits (e.g. `watcher.publish('directives')`) so replicas wake at once. */
  onChange?: (topic: string) => void | Promise<void>;
  now?: () => number;
  /** Who runs this process, for the audit log: each change then also writes an audit inbox row in its transaction (src/audit/inbox.ts). */
  auditActor?: string;
}

export class DirectiveRepository {
  private readonly now: () => number;
  constructor(
    private readonly db: Db,
    private readonly opts: DirectiveRepositoryOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  async issue(input: unknown): Promise<DirectiveRecord> {
    const v = parseOrThrow(issueSchema, input);
    const now = this.now();
    const record: DirectiveRecord = {
      id: v.id ?? `dir_${randomBytes(6).toString('hex')}`,
      models: v.models,
      population: v.population,
      effect: v.effect,
      effectiveAt: v.effectiveAt ?? now,
      expiresAt: v.expiresAt,
      authority: v.authority,
      reference: v.reference,
      status: 'active',
      issuedAt: now,
      issuedBy: v.by,
      updatedAt: now,
      liftedAt: null,
    };
    this.opts.validate?.(record);
    await this.db.transaction(async (tx) => {
      const existing = await tx.query('SELECT id FROM directives WHERE id = $1', [record.id]);
      if (existing.length) throw new DirectiveStateError(`a directive with id '${record.id}' already exists`);
      await tx.query(
        `INSERT INTO directives (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1)`,
        [record.id, JSON.stringify(record.models), JSON.stringify(record.population), record.effect, record.effectiveAt, record.expiresAt, record.authority, record.reference, record.status, record.issuedAt, record.issuedBy, record.updatedAt, record.liftedAt],
      );
      await this.history(tx, 'issue', 1, v.by, v.why, null, record, now);
      await bumpRevision(tx, DIRECTIVES_TOPIC);
    });
    await this.opts.onChange?.(DIRECTIVES_TOPIC);
    return record;
  }

  /** Changes scope, effect, times or citation. Only active directives can be amended. */
  async amend(id: string, input: unknown): Promise<DirectiveRecord> {
    const v = parseOrThrow(amendSchema, input);
    return this.change(id, 'amend', v.by, v.why, (before, now) => ({
      ...before,
      ...(v.models !== undefined ? { models: v.models } : {}),
      ...(v.population !== undefined ? { population: v.population } : {}),
      ...(v.effect !== undefined ? { effect: v.effect } : {}),
      ...(v.effectiveAt !== undefined ? { effectiveAt: v.effectiveAt } : {}),
      ...(v.expiresAt !== undefined ? { expiresAt: v.expiresAt } : {}),
      ...(v.authority !== undefined ? { authority: v.authority } : {}),
      ...(v.reference !== undefined ? { reference: v.reference } : {}),
      updatedAt: now,
    }));
  }

  async lift(id: string, input: unknown): Promise<DirectiveRecord> {
    const v = parseOrThrow(liftSchema, input);
    return this.change(id, 'lift', v.by, v.why, (before, now) => ({ ...before, status: 'lifted', liftedAt: now, updatedAt: now }));
  }

  private async change(id: string, action: 'amend' | 'lift', by: string, why: string, next: (before: DirectiveRecord, now: number) => DirectiveRecord): Promise<DirectiveRecord> {
    const after = await this.db.transaction(async (tx) => {
      const rows = await tx.query<Row>(`SELECT ${COLUMNS} FROM directives WHERE id = $1`, [id]);
      if (!rows[0]) throw new DirectiveNotFoundError(id);
      const current = toRecord(rows[0]);
      if (current.status === 'lifted') throw new DirectiveStateError(`directive '${id}' was lifted at ${new Date(current.liftedAt!).toISOString()}; issue a new one instead`);
      const before = strip(current);
      const now = this.now();
      const after = next(before, now);
      if (action === 'amend') this.opts.validate?.(after);
      // The version guard makes concurrent changes serialise: the loser sees 0 rows and fails loudly.
      const updated = await tx.query(
        `UPDATE directives SET models = $2, population = $3, effect = $4, effective_at = $5, expires_at = $6, authority = $7, reference = $8,
           status = $9, updated_at = $10, lifted_at = $11, version = version + 1 WHERE id = $1 AND version = $12 RETURNING id`,
        [id, JSON.stringify(after.models), JSON.stringify(after.population), after.effect, after.effectiveAt, after.expiresAt, after.authority, after.reference, after.status, after.updatedAt, after.liftedAt, current.version],
      );
      if (updated.length === 0) throw new DirectiveStateError(`directive '${id}' was changed concurrently; re-read it and retry`);
      await this.history(tx, action, current.version + 1, by, why, before, after, now);
      await bumpRevision(tx, DIRECTIVES_TOPIC);
      return after;
    });
    await this.opts.onChange?.(DIRECTIVES_TOPIC);
    return after;
  }

  private async history(tx: Db, action: HistoryEntry['action'], version: number, by: string, why: string, before: DirectiveRecord | null, after: DirectiveRecord, at: number): Promise<void> {
    if (this.opts.auditActor) {
      const name = action === 'issue' ? 'directive.issued' : action === 'lift' ? 'directive.lifted' : 'directive.amended';
      await recordAdminAction(tx, { action: name, actor: `${this.opts.auditActor} (${by})`, target: after.id, details: { why, version, effect: after.effect, models: after.models } }, at);
    }
    await tx.query('INSERT INTO directives_history (id, directive_id, action, version, at, by_whom, why, before_json, after_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', [
      `dh_${randomBytes(8).toString('hex')}`,
      after.id,
      action,
      version,
      at,
      by,
      why,
      before ? JSON.stringify(before) : null,
      JSON.stringify(after),
    ]);
  }

  async get(id: string): Promise<DirectiveRecord | undefined> {
    const rows = await this.db.query<Row>(`SELECT ${COLUMNS} FROM directives WHERE id = $1`, [id]);
    return rows[0] ? strip(toRecord(rows[0])) : undefined;
  }

  async list(filter: { status?: 'active' | 'lifted' } = {}): Promise<DirectiveRecord[]> {
    const rows = filter.status
      ? await this.db.query<Row>(`SELECT ${COLUMNS} FROM directives WHERE status = $1 ORDER BY effective_at, id`, [filter.status])
      : await this.db.query<Row>(`SELECT ${COLUMNS} FROM directives ORDER BY effective_at, id`);
    return rows.map((r) => strip(toRecord(r)));
  }

  async historyOf(directiveId?: string): Promise<HistoryEntry[]> {
    return this.historyWhere(directiveId ? ' WHERE directive_id = $1' : '', directiveId ? [directiveId] : []);
  }

  /** Every directive's changes at or after `at` (epoch ms), oldest first, at most `limit` (default 1000). */
  async historySince(at: number, limit = 1000): Promise<HistoryEntry[]> {
    return this.historyWhere(` WHERE at >= $1`, [at], Math.min(Math.max(1, Math.floor(limit)), 10_000));
  }

  private async historyWhere(where: string, params: unknown[], limit?: number): Promise<HistoryEntry[]> {
    const rows = await this.db.query<{ id: string; directive_id: string; action: string; at: number; by_whom: string; why: string; before_json: string | null; after_json: string }>(
      `SELECT id, directive_id, action, at, by_whom, why, before_json, after_json FROM directives_history${where} ORDER BY at, directive_id, version${limit ? ` LIMIT ${limit}` : ''}`,
      params,
    );
    return rows.map((r) => ({
      id: r.id,
      directiveId: r.directive_id,
      action: r.action as HistoryEntry['action'],
      at: Number(r.at),
      by: r.by_whom,
      why: r.why,
      before: r.before_json ? (JSON.parse(r.before_json) as DirectiveRecord) : null,
      after: JSON.parse(r.after_json) as DirectiveRecord,
    }));
  }
}
