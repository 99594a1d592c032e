/**
 * LicenceRepository: the licence ledger. Grants and revocations bump the 'licences' revision in the same
 * transaction so every replica's snapshot picks them up. Rows are never deleted.
 */
import { randomBytes } from 'node:crypto';
import { AdminConflictError, AdminNotFoundError } from '../admin/http.ts';
import { recordAdminAction } from '../core/admin-actions.ts';
import { bumpRevision } from '../store/changes.ts';
import type { Db } from '../store/db.ts';
import { shippedGroups, type GroupTable } from '../population/groups.ts';
import { parseLicenceGrant, type LicenceRecord } from './licences.ts';
import { parseExport, type LicenceExport } from './licence-exports.ts';
import { PolicyValidationError } from '../core/validation.ts';

export const LICENCES_TOPIC = 'licences';

/** Answered 404 not_found by the admin API. */
export class LicenceNotFoundError extends AdminNotFoundError {
  constructor(readonly id: string) {
    super(`no licence with id '${id}'`);
    this.name = 'LicenceNotFoundError';
  }
}
/** Answered 404 not_found by the admin API. */
export class ExportNotFoundError extends AdminNotFoundError {
  constructor(
    readonly licenceId: string,
    readonly id: string,
  ) {
    super(`licence '${licenceId}' has no export with id '${id}'`);
    this.name = 'ExportNotFoundError';
  }
}
/** Answered 409 conflict by the admin API. */
export class LicenceStateError extends AdminConflictError {
  constructor(message: string) {
    super(message);
    this.name = 'LicenceStateError';
  }
}

interface Row {
  id: string;
  licensee_type: string;
  licensee: string;
  models: string;
  nationalities: string;
  destinations: string;
  valid_from: number;
  valid_to: number;
  reference: string;
  authority: string;
  revoked_at: number | null;
  revoked_reason: string | null;
  granted_at: number;
  granted_by: string;
}
const COLUMNS = 'id, licensee_type, licensee, models, nationalities, destinations, valid_from, valid_to, reference, authority, revoked_at, revoked_reason, granted_at, granted_by';

interface ExportRow {
  id: string;
  licence_id: string;
  recipient: string;
  model: string;
  destination: string;
  valid_from: number;
  valid_to: number;
  recorded_at: number;
  recorded_by: string;
  revoked_at: number | null;
  revoked_by: string | null;
  revoked_reason: string | null;
}
const EXPORT_COLUMNS = 'id, licence_id, recipient, model, destination, valid_from, valid_to, recorded_at, recorded_by, revoked_at, revoked_by, revoked_reason';

function toExport(r: ExportRow): LicenceExport {
  return {
    id: r.id,
    licenceId: r.licence_id,
    recipient: r.recipient,
    model: r.model,
    destination: r.destination,
    validFrom: Number(r.valid_from),
    validTo: Number(r.valid_to),
    recordedAt: Number(r.recorded_at),
    recordedBy: r.recorded_by,
    revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
    revokedBy: r.revoked_by,
    revokedReason: r.revoked_reason,
  };
}

function toRecord(r: Row): LicenceRecord {
  return {
    id: r.id,
    licenseeType: r.licensee_type as LicenceRecord['licenseeType'],
    licensee: r.licensee,
    models: JSON.parse(r.models) as string[],
    nationalities: JSON.parse(r.nationalities) as string[],
    destinations: JSON.parse(r.destinations) as string[],
    validFrom: Number(r.valid_from),
    validTo: Number(r.valid_to),
    reference: r.reference,
    authority: r.authority,
    revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
    revokedReason: r.revoked_reason,
    grantedAt: Number(r.granted_at),
    grantedBy: r.granted_by,
  };
}

export interface LicenceRepositoryOptions {
  /** Country groups and catalogue models used to validate grants (defaults: shipped groups, any model). */
  context?: () => { groups: GroupTable; models: readonly string[] };
  onChange?: (topic: string) => void | Promise<void>;
  now?: () => number;
  /** Who runs this process, for the audit log: each change then also writes an audit inbox row in its transaction (src/audit/inbox.ts). */
  auditActor?: string;
}

export class LicenceRepository {
  private readonly now: () => number;
  constructor(
    private readonly db: Db,
    private readonly opts: LicenceRepositoryOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  async grant(input: unknown): Promise<LicenceRecord> {
    const ctx = this.opts.context?.() ?? { groups: shippedGroups(), models: [] };
    const g = parseLicenceGrant(input, ctx.groups, ctx.models);
    const record: LicenceRecord = {
      id: g.id ?? `lic_${randomBytes(6).toString('hex')}`,
      licenseeType: g.licensee.org !== undefined ? 'org' : 'account',
      licensee: (g.licensee.org ?? g.licensee.account)!,
      models: g.models,
      nationalities: g.nationalities,
      destinations: g.destinations,
      validFrom: g.validFrom,
      validTo: g.validTo,
      reference: g.reference,
      authority: g.authority,
      revokedAt: null,
      revokedReason: null,
      grantedAt: this.now(),
      grantedBy: g.by,
    };
    await this.db.transaction(async (tx) => {
      const existing = await tx.query('SELECT id FROM policy_licences WHERE id = $1', [record.id]);
      if (existing.length) throw new PolicyValidationError([{ path: 'id', message: `a licence with id '${record.id}' already exists` }]);
      await tx.query(`INSERT INTO policy_licences (${COLUMNS}, revoked_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, NULL, $11, $12, NULL)`, [
        record.id,
        record.licenseeType,
        record.licensee,
        JSON.stringify(record.models),
        JSON.stringify(record.nationalities),
        JSON.stringify(record.destinations),
        record.validFrom,
        record.validTo,
        record.reference,
        record.authority,
        record.grantedAt,
        record.grantedBy,
      ]);
      if (this.opts.auditActor) await recordAdminAction(tx, { action: 'licence.granted', actor: `${this.opts.auditActor} (${record.grantedBy})`, target: record.id, details: { licensee: `${record.licenseeType}:${record.licensee}`, models: record.models, reference: record.reference } });
      await bumpRevision(tx, LICENCES_TOPIC);
    });
    await this.opts.onChange?.(LICENCES_TOPIC);
    return record;
  }

  async revoke(id: string, by: string, why: string): Promise<LicenceRecord> {
    if (!by.trim() || !why.trim()) throw new PolicyValidationError([{ path: by.trim() ? 'why' : 'by', message: 'is required' }]);
    const record = await this.db.transaction(async (tx) => {
      const rows = await tx.query<Row>(`SELECT ${COLUMNS} FROM policy_licences WHERE id = $1`, [id]);
      if (!rows[0]) throw new LicenceNotFoundError(id);
      if (rows[0].revoked_at !== null) throw new LicenceStateError(`licence '${id}' was already revoked at ${new Date(Number(rows[0].revoked_at)).toISOString()}`);
      const updated = await tx.query<Row>(
        `UPDATE policy_licences SET revoked_at = $2, revoked_reason = $3, revoked_by = $4 WHERE id = $1 AND revoked_at IS NULL RETURNING ${COLUMNS}`,
        [id, this.now(), why, by],
      );
      if (!updated[0]) throw new LicenceStateError(`licence '${id}' was revoked concurrently`);
      if (this.opts.auditActor) await recordAdminAction(tx, { action: 'licence.revoked', actor: `${this.opts.auditActor} (${by})`, target: id, details: { why } });
      await bumpRevision(tx, LICENCES_TOPIC);
      return toRecord(updated[0]);
    });
    await this.opts.onChange?.(LICENCES_TOPIC);
    return record;
  }

  async get(id: string): Promise<LicenceRecord | undefined> {
    const rows = await this.db.query<Row>(`SELECT ${COLUMNS} FROM policy_licences WHERE id = $1`, [id]);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  async list(filter: { org?: string; account?: string } = {}): Promise<LicenceRecord[]> {
    if (filter.org !== undefined || filter.account !== undefined) {
      const rows = await this.db.query<Row>(`SELECT ${COLUMNS} FROM policy_licences WHERE licensee_type = $1 AND licensee = $2 ORDER BY granted_at, id`, [
        filter.org !== undefined ? 'org' : 'account',
        filter.org ?? filter.account,
      ]);
      return rows.map(toRecord);
    }
    return (await this.db.query<Row>(`SELECT ${COLUMNS} FROM policy_licences ORDER BY granted_at, id`)).map(toRecord);
  }

  /**
   * Records an export the licence covers (validated against it: recipient, model, destination, validity).
   * Audited as `licence.export_recorded` with the licence as target.
   */
  async recordExport(licenceId: string, input: unknown): Promise<LicenceExport> {
    const ctx = this.opts.context?.() ?? { groups: shippedGroups(), models: [] };
    const rec = await this.db.transaction(async (tx) => {
      const rows = await tx.query<Row>(`SELECT ${COLUMNS} FROM policy_licences WHERE id = $1`, [licenceId]);
      if (!rows[0]) throw new LicenceNotFoundError(licenceId);
      const p = parseExport(input, toRecord(rows[0]), ctx.groups);
      const e: LicenceExport = { ...p, id: p.id ?? `exp_${randomBytes(6).toString('hex')}`, recordedAt: this.now(), revokedAt: null, revokedBy: null, revokedReason: null };
      if ((await tx.query('SELECT id FROM policy_licence_exports WHERE id = $1', [e.id])).length) throw new PolicyValidationError([{ path: 'id', message: `an export with id '${e.id}' already exists` }]);
      await tx.query(`INSERT INTO policy_licence_exports (${EXPORT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, NULL, NULL)`, [e.id, e.licenceId, e.recipient, e.model, e.destination, e.validFrom, e.validTo, e.recordedAt, e.recordedBy]);
      if (this.opts.auditActor) await recordAdminAction(tx, { action: 'licence.export_recorded', actor: `${this.opts.auditActor} (${e.recordedBy})`, target: licenceId, details: { export: e.id, recipient: e.recipient, model: e.model, destination: e.destination, validFrom: e.validFrom, validTo: e.validTo } });
      await bumpRevision(tx, LICENCES_TOPIC);
      return e;
    });
    await this.opts.onChange?.(LICENCES_TOPIC);
    return rec;
  }

  /** Revokes one export of a licence (kept in the ledger). Audited as `licence.export_revoked`. */
  async revokeExport(licenceId: string, exportId: string, by: string, why: string): Promise<LicenceExport> {
    if (!by.trim() || !why.trim()) throw new PolicyValidationError([{ path: by.trim() ? 'why' : 'by', message: 'is required' }]);
    const rec = await this.db.transaction(async (tx) => {
      const rows = await tx.query<ExportRow>(`SELECT ${EXPORT_COLUMNS} FROM policy_licence_exports WHERE id = $1 AND licence_id = $2`, [exportId, licenceId]);
      if (!rows[0]) throw new ExportNotFoundError(licenceId, exportId);
      if (rows[0].revoked_at !== null) throw new LicenceStateError(`export '${exportId}' was already revoked at ${new Date(Number(rows[0].revoked_at)).toISOString()}`);
      const updated = await tx.query<ExportRow>(`UPDATE policy_licence_exports SET revoked_at = $2, revoked_by = $3, revoked_reason = $4 WHERE id = $1 AND revoked_at IS NULL RETURNING ${EXPORT_COLUMNS}`, [exportId, this.now(), by, why]);
      if (!updated[0]) throw new LicenceStateError(`export '${exportId}' was revoked concurrently`);
      if (this.opts.auditActor) await recordAdminAction(tx, { action: 'licence.export_revoked', actor: `${this.opts.auditActor} (${by})`, target: licenceId, details: { export: exportId, why } });
      await bumpRevision(tx, LICENCES_TOPIC);
      return toExport(updated[0]);
    });
    await this.opts.onChange?.(LICENCES_TOPIC);
    return rec;
  }

  /** The exports of one licence, or of every licence; oldest first, revoked ones included. */
  async exportsOf(licenceId?: string): Promise<LicenceExport[]> {
    const rows = licenceId
      ? await this.db.query<ExportRow>(`SELECT ${EXPORT_COLUMNS} FROM policy_licence_exports WHERE licence_id = $1 ORDER BY recorded_at, id`, [licenceId])
      : await this.db.query<ExportRow>(`SELECT ${EXPORT_COLUMNS} FROM policy_licence_exports ORDER BY licence_id, recorded_at, id`);
    return rows.map(toExport);
  }

  /** Licences that can still matter (not revoked, not expired), for the snapshot. */
  async loadCurrent(now = this.now()): Promise<LicenceRecord[]> {
    const rows = await this.db.query<Row>(`SELECT ${COLUMNS} FROM policy_licences WHERE revoked_at IS NULL AND valid_to > $1`, [now]);
    return rows.map(toRecord);
  }
}
