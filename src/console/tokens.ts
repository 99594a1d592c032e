/**
 * Admin bearer tokens per operator or per service, with scopes and an expiry: the machine credential of the admin
 * API. A token acts as its operator (whose current role bounds it, and whose disabling stops it) or as a named
 * service with a role of its own (`service:<name>` in the audit records); its scopes narrow what that role may
 * call (scopes.ts). The secret (`ghadm_` + 32 random bytes) is shown once; the store keeps its SHA-256 only.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../store/db.ts';
import { OperatorError, ROLES, type Role } from './operators.ts';
import { scopeProblems } from './scopes.ts';

export const TOKEN_PREFIX = 'ghadm_';
export const DEFAULT_TOKEN_DAYS = 90;
export const MAX_TOKEN_DAYS = 366;
const DAY = 86_400_000;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/;
/** Writes of last_used_at are coalesced: at most one per token per minute. */
const TOUCH_EVERY_MS = 60_000;

export interface AdminToken {
  id: string;
  name: string;
  /** The operator the token acts as, or null for a service token. */
  operator: string | null;
  service: string | null;
  /** A service token's role; an operator token follows its operator's role (null here). */
  role: Role | null;
  scopes: string[];
  createdAt: number;
  createdBy: string;
  expiresAt: number;
  revokedAt: number | null;
  revokedBy: string | null;
  lastUsedAt: number | null;
}

/** Who a valid token speaks for. */
export interface TokenIdentity {
  name: string;
  role: Role;
  token: AdminToken;
}

export type TokenCheck = { ok: true; identity: TokenIdentity } | { ok: false; reason: 'unknown' | 'expired' | 'revoked' | 'owner-disabled' | 'owner-expired'; token?: AdminToken };

interface Row {
  id: string;
  name: string;
  operator: string | null;
  service: string | null;
  role: string | null;
  scopes: string;
  created_at: number | string;
  created_by: string;
  expires_at: number | string;
  revoked_at: number | string | null;
  revoked_by: string | null;
  last_used_at: number | string | null;
}

const num = (v: number | string | null) => (v === null ? null : Number(v));
const hashSecret = (secret: string) => createHash('sha256').update(secret, 'utf8').digest('hex');

function toToken(r: Row): AdminToken {
  return {
    id: r.id,
    name: r.name,
    operator: r.operator,
    service: r.service,
    role: r.role as Role | null,
    scopes: JSON.parse(r.scopes) as string[],
    createdAt: Number(r.created_at),
    createdBy: r.created_by,
    expiresAt: Number(r.expires_at),
    revokedAt: num(r.revoked_at),
    revokedBy: r.revoked_by,
    lastUsedAt: num(r.last_used_at),
  };
}

const COLUMNS = 'id, name, operator, service, role, scopes, created_at, created_by, expires_at, revoked_at, revoked_by, last_used_at';

export interface CreateTokenInput {
  name: string;
  operator?: string | undefined;
  service?: string | undefined;
  role?: string | undefined;
  scopes: unknown;
  expiresAt?: number | undefined;
  by: string;
}

export type TokenStatus = 'active' | 'expired' | 'revoked';

export function statusOf(t: AdminToken, now: number): TokenStatus {
  return t.revokedAt !== null ? 'revoked' : now >= t.expiresAt ? 'expired' : 'active';
}

export class AdminTokenRepository {
  constructor(private readonly db: Db, private readonly now: () => number = Date.now) {}

  async create(input: CreateTokenInput): Promise<{ token: AdminToken; secret: string }> {
    const bad = (m: string) => new OperatorError(400, 'invalid_request', m);
    if (typeof input.name !== 'string' || !NAME.test(input.name)) throw bad('name: 1–100 letters, digits, . _ @ - (starting with a letter or digit)');
    if ((input.operator === undefined) === (input.service === undefined)) throw bad('give exactly one of operator (the token acts as that operator) or service (a service identity with its own role)');
    const problems = scopeProblems(input.scopes);
    if (problems.length) throw bad(problems.join('; '));
    const scopes = [...new Set(input.scopes as string[])];
    const now = this.now();
    const expiresAt = input.expiresAt ?? now + DEFAULT_TOKEN_DAYS * DAY;
    if (!Number.isFinite(expiresAt) || expiresAt <= now) throw bad('expiresAt must be in the future');
    if (expiresAt > now + MAX_TOKEN_DAYS * DAY) throw bad(`expiresAt must be within ${MAX_TOKEN_DAYS} days`);
    let role: Role | null = null;
    if (input.operator !== undefined) {
      if (input.role !== undefined) throw bad('role: an operator token has its operator\'s role; give role only with service');
      const rows = await this.db.query<{ disabled: number | boolean }>('SELECT disabled FROM operators WHERE name = $1', [input.operator]);
      if (!rows[0]) throw new OperatorError(404, 'not_found', `no operator named '${String(input.operator).slice(0, 100)}'`);
      if (Number(rows[0].disabled)) throw bad(`operator '${input.operator}' is disabled`);
    } else {
      if (typeof input.service !== 'string' || !NAME.test(input.service)) throw bad('service: 1–100 letters, digits, . _ @ - (starting with a letter or digit)');
      if (input.role === undefined || !(ROLES as readonly string[]).includes(input.role)) throw bad(`role: a service token needs a role, one of ${ROLES.join(', ')}`);
      role = input.role as Role;
    }
    const id = `tok_${randomBytes(8).toString('hex')}`;
    const secret = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    await this.db.query(
      'INSERT INTO admin_tokens (id, hash, name, operator, service, role, scopes, created_at, created_by, expires_at, revoked_at, revoked_by, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, NULL, NULL)',
      [id, hashSecret(secret), input.name, input.operator ?? null, input.service ?? null, role, JSON.stringify(scopes), now, input.by, expiresAt],
    );
    return { token: (await this.get(id))!, secret };
  }

  async get(id: string): Promise<AdminToken | null> {
    const rows = await this.db.query<Row>(`SELECT ${COLUMNS} FROM admin_tokens WHERE id = $1`, [id]);
    return rows[0] ? toToken(rows[0]) : null;
  }

  async list(filter: { status?: TokenStatus; operator?: string } = {}): Promise<AdminToken[]> {
    const rows = filter.operator !== undefined
      ? await this.db.query<Row>(`SELECT ${COLUMNS} FROM admin_tokens WHERE operator = $1 ORDER BY created_at DESC, id`, [filter.operator])
      : await this.db.query<Row>(`SELECT ${COLUMNS} FROM admin_tokens ORDER BY created_at DESC, id`);
    const now = this.now();
    return rows.map(toToken).filter((t) => filter.status === undefined || statusOf(t, now) === filter.status);
  }

  async revoke(id: string, by: string): Promise<AdminToken> {
    const rows = await this.db.query<Row>(`UPDATE admin_tokens SET revoked_at = $2, revoked_by = $3 WHERE id = $1 AND revoked_at IS NULL RETURNING ${COLUMNS}`, [id, this.now(), by]);
    if (rows[0]) return toToken(rows[0]);
    const t = await this.get(id);
    if (!t) throw new OperatorError(404, 'not_found', `no admin token '${id.slice(0, 100)}'`);
    throw new OperatorError(409, 'conflict', `admin token '${id}' was already revoked`);
  }

  /** Who a presented secret speaks for, or why it does not. */
  async authenticate(secret: string): Promise<TokenCheck> {
    if (!secret.startsWith(TOKEN_PREFIX) || secret.length !== TOKEN_PREFIX.length + 43) return { ok: false, reason: 'unknown' };
    const rows = await this.db.query<Row & { op_role: string | null; op_disabled: number | boolean | null; op_expires: number | string | null }>(
      `SELECT t.id, t.name, t.operator, t.service, t.role, t.scopes, t.created_at, t.created_by, t.expires_at, t.revoked_at, t.revoked_by, t.last_used_at,
              o.role AS op_role, o.disabled AS op_disabled, o.expires_at AS op_expires
         FROM admin_tokens t LEFT JOIN operators o ON o.name = t.operator WHERE t.hash = $1`,
      [hashSecret(secret)],
    );
    const r = rows[0];
    if (!r) return { ok: false, reason: 'unknown' };
    const token = toToken(r);
    const now = this.now();
    if (token.revokedAt !== null) return { ok: false, reason: 'revoked', token };
    if (now >= token.expiresAt) return { ok: false, reason: 'expired', token };
    let role: Role;
    let name: string;
    if (token.operator !== null) {
      if (r.op_role === null || Number(r.op_disabled)) return { ok: false, reason: 'owner-disabled', token };
      if (r.op_expires !== null && now >= Number(r.op_expires)) return { ok: false, reason: 'owner-expired', token };
      role = r.op_role as Role;
      name = token.operator;
    } else {
      role = token.role!;
      name = `service:${token.service}`;
    }
    if (token.lastUsedAt === null || now - token.lastUsedAt >= TOUCH_EVERY_MS) {
      await this.db.query('UPDATE admin_tokens SET last_used_at = $2 WHERE id = $1', [token.id, now]);
      token.lastUsedAt = now;
    }
    return { ok: true, identity: { name, role, token } };
  }
}
