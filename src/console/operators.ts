/**
 * Local operator accounts: name, role, scrypt password hash. Passwords are hashed with scrypt (memory-hard:
 * N=2^15, r=8, p=1 — 32 MiB and ~0.1 s per guess), on libuv's thread pool so a sign-in never blocks the event loop.
 * The stored form carries its parameters (`scrypt$N$r$p$salt$hash`) so they can be raised without a migration.
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { Db } from '../store/db.ts';

export const ROLES = ['viewer', 'analyst', 'operator', 'admin', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export interface Operator {
  name: string;
  role: Role;
  disabled: boolean;
  expiresAt: number | null;
  createdAt: number;
  createdBy: string;
  updatedAt: number;
  /** `local` (password) or `oidc` (made at a single sign-on; no password). */
  source: 'local' | 'oidc';
}

const PARAMS = { N: 1 << 15, r: 8, p: 1 } as const;
const KEY_LEN = 32;

function scrypt(password: string, salt: Buffer, keyLen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password, salt, keyLen, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

const maxmem = (N: number, r: number) => 256 * N * r;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_LEN, { ...PARAMS, maxmem: maxmem(PARAMS.N, PARAMS.r) });
  return `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const salt = Buffer.from(parts[4]!, 'base64');
  const expected = Buffer.from(parts[5]!, 'base64');
  const key = await scrypt(password, salt, expected.length, { N, r, p, maxmem: maxmem(N, r) });
  return timingSafeEqual(key, expected);
}

/** A hash of a random password: checked against when the account does not exist, so timing does not reveal names. */
let dummyHash: Promise<string> | null = null;

export class OperatorError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/;
export const MIN_PASSWORD = 12;

interface Row {
  name: string;
  role: string;
  password_hash: string;
  disabled: number | boolean;
  expires_at: number | string | null;
  created_at: number | string;
  created_by: string;
  updated_at: number | string;
  source?: string | null;
  subject?: string | null;
}

function toOperator(r: Row): Operator {
  return {
    name: r.name,
    role: r.role as Role,
    disabled: Boolean(Number(r.disabled)),
    expiresAt: r.expires_at === null ? null : Number(r.expires_at),
    createdAt: Number(r.created_at),
    createdBy: r.created_by,
    updatedAt: Number(r.updated_at),
    source: r.source === 'oidc' ? 'oidc' : 'local',
  };
}

/** The stored password field of an account made by single sign-on: not a scrypt hash, so no password matches it. */
const NO_PASSWORD = '!sso';

export class OperatorRepository {
  constructor(private readonly db: Db, private readonly now: () => number = Date.now) {}

  async add(input: { name: string; role: string; password: string; expiresAt?: number | null; by: string }): Promise<Operator> {
    if (!NAME.test(input.name)) throw new OperatorError(400, 'invalid_request', `operator name '${input.name.slice(0, 100)}' must be 1–100 letters, digits, . _ @ - (starting with a letter or digit)`);
    if (!(ROLES as readonly string[]).includes(input.role)) throw new OperatorError(400, 'invalid_request', `role '${input.role}' is not one of ${ROLES.join(', ')}`);
    if (input.password.length < MIN_PASSWORD) throw new OperatorError(400, 'invalid_request', `the password must be at least ${MIN_PASSWORD} characters`);
    if (input.password.length > 1024) throw new OperatorError(400, 'invalid_request', 'the password must be at most 1024 characters');
    if (input.role === 'auditor' && (input.expiresAt === undefined || input.expiresAt === null)) throw new OperatorError(400, 'invalid_request', 'an auditor account is time-boxed: give it an expiry');
    const hash = await hashPassword(input.password);
    const now = this.now();
    const existing = await this.db.query('SELECT name FROM operators WHERE name = $1', [input.name]);
    if (existing.length) throw new OperatorError(409, 'conflict', `operator '${input.name}' already exists`);
    await this.db.query('INSERT INTO operators (name, role, password_hash, disabled, expires_at, created_at, created_by, updated_at) VALUES ($1, $2, $3, 0, $4, $5, $6, $5)', [
      input.name,
      input.role,
      hash,
      input.expiresAt ?? null,
      now,
      input.by,
    ]);
    return (await this.get(input.name))!;
  }

  async get(name: string): Promise<Operator | null> {
    const rows = await this.db.query<Row>('SELECT * FROM operators WHERE name = $1', [name]);
    return rows[0] ? toOperator(rows[0]) : null;
  }

  async list(): Promise<Operator[]> {
    return (await this.db.query<Row>('SELECT * FROM operators ORDER BY name')).map(toOperator);
  }

  async disable(name: string): Promise<Operator> {
    const op = await this.get(name);
    if (!op) throw new OperatorError(404, 'not_found', `no operator named '${name}'`);
    await this.db.query('UPDATE operators SET disabled = 1, updated_at = $2 WHERE name = $1', [name, this.now()]);
    // A disabled operator's sessions end at once, on every replica (sessions are read from the store).
    await this.db.query('UPDATE operator_sessions SET ended_at = $2 WHERE operator = $1 AND ended_at IS NULL', [name, this.now()]);
    return (await this.get(name))!;
  }

  /**
   * The operator row for a single sign-on: made on first sign-in, its role refreshed from the provider's claim at
   * each one. Refused when the name belongs to a local account or to another provider subject, or when the
   * account was disabled (`operators disable` works for these accounts too).
   */
  async signInFromProvider(input: { name: string; role: Role; subject: string }): Promise<{ ok: true; operator: Operator } | { ok: false; reason: 'name-taken' | 'disabled' | 'expired' }> {
    const now = this.now();
    return this.db.transaction(async (tx) => {
      const rows = await tx.query<Row>('SELECT * FROM operators WHERE name = $1', [input.name]);
      const row = rows[0];
      if (!row) {
        await tx.query("INSERT INTO operators (name, role, password_hash, disabled, expires_at, created_at, created_by, updated_at, source, subject) VALUES ($1, $2, $3, 0, NULL, $4, 'oidc', $4, 'oidc', $5)", [
          input.name,
          input.role,
          NO_PASSWORD,
          now,
          input.subject,
        ]);
      } else {
        if (row.source !== 'oidc' || row.subject !== input.subject) return { ok: false as const, reason: 'name-taken' as const };
        const op = toOperator(row);
        if (op.disabled) return { ok: false as const, reason: 'disabled' as const };
        if (op.expiresAt !== null && now >= op.expiresAt) return { ok: false as const, reason: 'expired' as const };
        if (op.role !== input.role) await tx.query('UPDATE operators SET role = $2, updated_at = $3 WHERE name = $1', [input.name, input.role, now]);
      }
      const after = await tx.query<Row>('SELECT * FROM operators WHERE name = $1', [input.name]);
      return { ok: true as const, operator: toOperator(after[0]!) };
    });
  }

  /** The operator when the password matches and the account is usable; otherwise why not (for the audit log only). */
  async authenticate(name: string, password: string): Promise<{ ok: true; operator: Operator } | { ok: false; reason: 'unknown' | 'password' | 'sso-only' | 'disabled' | 'expired' }> {
    const rows = NAME.test(name) ? await this.db.query<Row>('SELECT * FROM operators WHERE name = $1', [name]) : [];
    const row = rows[0];
    if (!row) {
      dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
      await verifyPassword(password, await dummyHash);
      return { ok: false, reason: 'unknown' };
    }
    if (row.source === 'oidc') {
      // An account made by single sign-on has no password: same work as a wrong one, so timing tells nothing.
      dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
      await verifyPassword(password, await dummyHash);
      return { ok: false, reason: 'sso-only' };
    }
    if (!(await verifyPassword(password, row.password_hash))) return { ok: false, reason: 'password' };
    const op = toOperator(row);
    if (op.disabled) return { ok: false, reason: 'disabled' };
    if (op.expiresAt !== null && this.now() >= op.expiresAt) return { ok: false, reason: 'expired' };
    return { ok: true, operator: op };
  }
}
