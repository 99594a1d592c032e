/**
 * KeyRepository: the only code that reads or writes identity_keys. Every mutation bumps the 'identity'
 * revision in the same transaction, so every replica's KeyRegistry reloads (see store/changes.ts).
 */
import { AdminConflictError, AdminNotFoundError } from '../admin/http.ts';
import type { Db } from '../store/db.ts';
import { bumpRevision } from '../store/changes.ts';
import { recordAdminAction } from '../core/admin-actions.ts';
import type { KycLevel, Principal } from '../core/types.ts';
import { parseCreate, parseUpdate, type KeyAttributes } from './attributes.ts';
import { displayPrefix, generateKeyId, generateSecret, hashSecret } from './secrets.ts';

export const IDENTITY_TOPIC = 'identity';

/** A key as listed to operators: never the secret, never its hash. */
export interface KeyRecord extends KeyAttributes {
  id: string;
  /** First 8 characters of the secret, to recognise it. */
  prefix: string;
  status: 'active' | 'revoked';
  createdAt: number;
  updatedAt: number;
  revokedAt: number | null;
  revokedReason: string | null;
}

/** What the registry needs: the hash, the principal it maps to, and whether it is revoked. */
export interface KeyEntry {
  hash: string;
  principal: Principal;
  revoked: boolean;
}

/** Keys changed after a revision, and the highest revision among them (or the input when none changed). */
export interface KeyChanges {
  entries: KeyEntry[];
  rev: number;
}

/** Answered 404 not_found by the admin API. */
export class KeyNotFoundError extends AdminNotFoundError {
  constructor(readonly keyId: string) {
    super(`no key with id '${keyId}'`);
    this.name = 'KeyNotFoundError';
  }
}

/** Answered 409 conflict by the admin API. */
export class KeyStateError extends AdminConflictError {
  constructor(message: string) {
    super(message);
    this.name = 'KeyStateError';
  }
}

interface KeyRow {
  id: string;
  hash: string;
  prefix: string;
  account_id: string;
  org_id: string | null;
  nationalities: string;
  residence: string | null;
  kyc: string;
  programmes: string;
  tier: string;
  staff: number;
  created_at: number;
  updated_at: number;
  revoked_at: number | null;
  revoked_reason: string | null;
  rev: number;
  label: string | null;
  account_created_at: number | null;
  payment_fingerprint: string | null;
}

const RECORD_COLUMNS =
  'id, prefix, account_id, org_id, nationalities, residence, kyc, programmes, tier, staff, created_at, updated_at, revoked_at, revoked_reason, label, account_created_at, payment_fingerprint';

function toRecord(row: Omit<KeyRow, 'hash'>): KeyRecord {
  return {
    id: row.id,
    prefix: row.prefix,
    status: row.revoked_at === null ? 'active' : 'revoked',
    accountId: row.account_id,
    orgId: row.org_id,
    nationalities: JSON.parse(row.nationalities) as string[],
    residence: row.residence,
    kyc: row.kyc as KycLevel,
    programmes: JSON.parse(row.programmes) as string[],
    tier: row.tier,
    staff: Number(row.staff) === 1,
    label: row.label,
    accountCreatedAt: row.account_created_at === null ? null : Number(row.account_created_at),
    paymentFingerprint: row.payment_fingerprint,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
    revokedReason: row.revoked_reason,
  };
}

export interface KeyRepositoryOptions {
  /** Called after a mutation commits (e.g. `watcher.publish`) so this process's registry reloads at once. */
  onChange?: (topic: string) => void | Promise<void>;
  now?: () => number;
  /**
   * Who makes the changes, for the audit log: each mutation then also writes an audit inbox row in its own
   * transaction (src/audit/inbox.ts). The CLI sets it; the gateway records its admin API calls itself.
   */
  auditActor?: string;
}

export interface ListFilter {
  accountId?: string;
  status?: 'active' | 'revoked';
}

export class KeyRepository {
  private readonly now: () => number;

  constructor(
    private readonly db: Db,
    private readonly opts: KeyRepositoryOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** Validates `input` (see createKeySchema), stores the key, and returns the secret — the only time it exists. */
  async create(input: unknown): Promise<{ key: KeyRecord; secret: string }> {
    const attrs = parseCreate(input);
    const secret = generateSecret();
    const id = generateKeyId();
    const now = this.now();
    let committed = 0;
    await this.db.transaction(async (tx) => {
      const rev = (committed = await bumpRevision(tx, IDENTITY_TOPIC));
      await tx.query(
        `INSERT INTO identity_keys (id, hash, prefix, account_id, org_id, nationalities, residence, kyc, programmes, tier, staff,
           created_at, updated_at, revoked_at, revoked_reason, label, account_created_at, payment_fingerprint, rev)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, NULL, NULL, $13, $14, $15, $16)`,
        [
          id,
          hashSecret(secret),
          displayPrefix(secret),
          attrs.accountId,
          attrs.orgId,
          JSON.stringify(attrs.nationalities),
          attrs.residence,
          attrs.kyc,
          JSON.stringify(attrs.programmes),
          attrs.tier,
          attrs.staff,
          now,
          attrs.label,
          attrs.accountCreatedAt,
          attrs.paymentFingerprint,
          rev,
        ],
      );
      if (this.opts.auditActor) await recordAdminAction(tx, { action: 'key.created', actor: this.opts.auditActor, target: id, details: { accountId: attrs.accountId, orgId: attrs.orgId, kyc: attrs.kyc, tier: attrs.tier } }, now);
    });
    await this.changed(committed);
    const key: KeyRecord = { id, prefix: displayPrefix(secret), status: 'active', ...attrs, createdAt: now, updatedAt: now, revokedAt: null, revokedReason: null };
    return { key, secret };
  }

  async list(filter: ListFilter = {}): Promise<KeyRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.accountId !== undefined) {
      params.push(filter.accountId);
      where.push(`account_id = $${params.length}`);
    }
    if (filter.status === 'active') where.push('revoked_at IS NULL');
    if (filter.status === 'revoked') where.push('revoked_at IS NOT NULL');
    const sql = `SELECT ${RECORD_COLUMNS} FROM identity_keys${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY created_at, id`;
    const rows = await this.db.query<KeyRow>(sql, params);
    return rows.map(toRecord);
  }

  async get(id: string): Promise<KeyRecord | undefined> {
    const rows = await this.db.query<KeyRow>(`SELECT ${RECORD_COLUMNS} FROM identity_keys WHERE id = $1`, [id]);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  /** Revokes a key. Throws KeyNotFoundError, or KeyStateError when it is already revoked. */
  async revoke(id: string, reason?: string): Promise<KeyRecord> {
    if (reason !== undefined && (reason.length > 500 || /[\u0000-\u001f\u007f]/.test(reason))) {
      throw new KeyStateError('reason must be at most 500 printable characters');
    }
    let committed = 0;
    const record = await this.db.transaction(async (tx) => {
      const rows = await tx.query<KeyRow>(`SELECT ${RECORD_COLUMNS} FROM identity_keys WHERE id = $1`, [id]);
      const row = rows[0];
      if (!row) throw new KeyNotFoundError(id);
      if (row.revoked_at !== null) {
        throw new KeyStateError(`key '${id}' was already revoked at ${new Date(Number(row.revoked_at)).toISOString()}`);
      }
      const now = this.now();
      const rev = (committed = await bumpRevision(tx, IDENTITY_TOPIC));
      // The revoked_at IS NULL guard makes two concurrent revocations produce one winner.
      const updated = await tx.query<KeyRow>(
        `UPDATE identity_keys SET revoked_at = $2, revoked_reason = $3, updated_at = $2, rev = $4 WHERE id = $1 AND revoked_at IS NULL RETURNING ${RECORD_COLUMNS}`,
        [id, now, reason ?? null, rev],
      );
      if (!updated[0]) throw new KeyStateError(`key '${id}' was revoked concurrently`);
      if (this.opts.auditActor) await recordAdminAction(tx, { action: 'key.revoked', actor: this.opts.auditActor, target: id, details: { reason: reason ?? null } }, now);
      return toRecord(updated[0]);
    });
    await this.changed(committed);
    return record;
  }

  /** Changes attributes (see updateKeySchema). Revoked keys cannot be changed. */
  async update(id: string, patchInput: unknown): Promise<KeyRecord> {
    const patch = parseUpdate(patchInput);
    let committed = 0;
    const record = await this.db.transaction(async (tx) => {
      const rows = await tx.query<KeyRow>(`SELECT ${RECORD_COLUMNS} FROM identity_keys WHERE id = $1`, [id]);
      const row = rows[0];
      if (!row) throw new KeyNotFoundError(id);
      if (row.revoked_at !== null) throw new KeyStateError(`key '${id}' is revoked; its attributes can no longer change`);
      const next = { ...toRecord(row), ...patch };
      const rev = (committed = await bumpRevision(tx, IDENTITY_TOPIC));
      const updated = await tx.query<KeyRow>(
        `UPDATE identity_keys SET account_id = $2, org_id = $3, nationalities = $4, residence = $5, kyc = $6, programmes = $7, tier = $8,
           staff = $9, label = $10, account_created_at = $11, payment_fingerprint = $12, updated_at = $13, rev = $14
         WHERE id = $1 RETURNING ${RECORD_COLUMNS}`,
        [
          id,
          next.accountId,
          next.orgId,
          JSON.stringify(next.nationalities),
          next.residence,
          next.kyc,
          JSON.stringify(next.programmes),
          next.tier,
          next.staff,
          next.label,
          next.accountCreatedAt,
          next.paymentFingerprint,
          this.now(),
          rev,
        ],
      );
      if (this.opts.auditActor) await recordAdminAction(tx, { action: 'key.updated', actor: this.opts.auditActor, target: id, details: { changed: Object.keys(patch).sort() } });
      return toRecord(updated[0]!);
    });
    await this.changed(committed);
    return record;
  }

  /**
   * Keys with their hashes, for KeyRegistry: every key when `sinceRev` is null, else only those changed after
   * that revision. Arrays that repeat across keys are shared, to save memory.
   */
  async loadEntries(sinceRev: number | null = null): Promise<KeyChanges> {
    const columns = 'id, hash, account_id, org_id, nationalities, residence, kyc, programmes, tier, staff, revoked_at, account_created_at, payment_fingerprint, rev';
    const rows =
      sinceRev === null
        ? await this.db.query<KeyRow>(`SELECT ${columns} FROM identity_keys`)
        : await this.db.query<KeyRow>(`SELECT ${columns} FROM identity_keys WHERE rev > $1`, [sinceRev]);
    const interned = new Map<string, readonly string[]>();
    const list = (json: string): readonly string[] => {
      let v = interned.get(json);
      if (!v) {
        v = Object.freeze(JSON.parse(json) as string[]);
        interned.set(json, v);
      }
      return v;
    };
    let rev = sinceRev ?? 0;
    const entries = new Array<KeyEntry>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const r = Number(row.rev);
      if (r > rev) rev = r;
      entries[i] = { hash: row.hash, revoked: row.revoked_at !== null, principal: principalOf(row.id, row, list) };
    }
    return { entries, rev };
  }

  /** The identity revision of the last change this repository committed (0 before any). */
  get lastRevision(): number {
    return this.lastRev;
  }

  private lastRev = 0;

  private async changed(rev: number): Promise<void> {
    if (rev > this.lastRev) this.lastRev = rev;
    try {
      await this.opts.onChange?.(IDENTITY_TOPIC);
    } catch {
      // The change is committed and bumped; a failed wake-up only delays other replicas until their next poll.
    }
  }
}

function principalOf(keyId: string, row: KeyRow, list: (json: string) => readonly string[]): Principal {
  const p: { -readonly [K in keyof Principal]: Principal[K] } = {
    keyId,
    accountId: row.account_id,
    orgId: row.org_id,
    nationalities: list(row.nationalities),
    residence: row.residence,
    kyc: row.kyc as KycLevel,
    programmes: list(row.programmes),
    tier: row.tier,
    staff: Number(row.staff) === 1,
  };
  if (row.account_created_at !== null) p.accountCreatedAt = Number(row.account_created_at);
  if (row.payment_fingerprint !== null) p.paymentFingerprint = row.payment_fingerprint;
  return Object.freeze(p);
}
