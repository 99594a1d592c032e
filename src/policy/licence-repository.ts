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
import { PolicyValidationError } from '../core/validation.ts';

export const LICENCES_TOPIC = 'licences';

/** Answered 404 not_found by the admin API. */
export class LicenceNotFoundError extends AdminNotFoundError {
  constructor(readonly id: string) {
    super(`no licence with id '${id}'`);
    this.name = 'LicenceNotFoundError';
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

  /** Licences that can still matter (not revoked, not expired), for the snapshot. */
  async loadCurrent(now = this.now()): Promise<LicenceRecord[]> {
    const rows = await this.db.query<Row>(`SELECT ${COLUMNS} FROM policy_licences WHERE revoked_at IS NULL AND valid_to > $1`, [now]);
    return rows.map(toRecord);
  }
}
