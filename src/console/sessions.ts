/**
 * Operator sessions in the store (so every replica honours a sign-out or a disabled account at once). The cookie
 * carries 32 random bytes; the row is keyed by their SHA-256, so a copy of the table yields no usable session.
 * A session ends when unused for idleTimeout, absoluteTimeout after sign-in, at sign-out, or when its operator is
 * disabled or expires. Each session has its own CSRF token, which the browser must echo in `x-csrf-token`.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from '../store/db.ts';
import type { Operator, Role } from './operators.ts';

export interface SessionInfo {
  id: string;
  operator: string;
  role: Role;
  csrf: string;
  createdAt: number;
  lastSeenAt: number;
}

export type SessionLookup = { ok: true; session: SessionInfo } | { ok: false; reason: 'unknown' | 'ended' | 'idle' | 'absolute' | 'operator-disabled' | 'operator-expired' };

const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');
/** Writes of last_seen_at are coalesced: at most one per session per this interval. */
const TOUCH_EVERY_MS = 10_000;

export class SessionStore {
  constructor(
    private readonly db: Db,
    private readonly timeouts: { idleMs: number; absoluteMs: number },
    private readonly now: () => number = Date.now,
  ) {}

  async create(op: Operator): Promise<{ token: string; csrf: string; session: SessionInfo }> {
    const token = randomBytes(32).toString('base64url');
    const csrf = randomBytes(24).toString('base64url');
    const now = this.now();
    const id = hashToken(token);
    await this.db.query('INSERT INTO operator_sessions (id, operator, csrf, created_at, last_seen_at, ended_at) VALUES ($1, $2, $3, $4, $4, NULL)', [id, op.name, csrf, now]);
    return { token, csrf, session: { id, operator: op.name, role: op.role, csrf, createdAt: now, lastSeenAt: now } };
  }

  async lookup(token: string): Promise<SessionLookup> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return { ok: false, reason: 'unknown' };
    const id = hashToken(token);
    const rows = await this.db.query<Record<string, unknown>>(
      'SELECT s.operator, s.csrf, s.created_at, s.last_seen_at, s.ended_at, o.role, o.disabled, o.expires_at FROM operator_sessions s JOIN operators o ON o.name = s.operator WHERE s.id = $1',
      [id],
    );
    const r = rows[0];
    if (!r) return { ok: false, reason: 'unknown' };
    const now = this.now();
    const created = Number(r.created_at);
    const lastSeen = Number(r.last_seen_at);
    if (r.ended_at !== null && r.ended_at !== undefined) return { ok: false, reason: 'ended' };
    let reason: SessionLookup extends infer L ? (L extends { ok: false; reason: infer R } ? R : never) : never;
    if (Number(r.disabled)) reason = 'operator-disabled';
    else if (r.expires_at !== null && now >= Number(r.expires_at)) reason = 'operator-expired';
    else if (now - created >= this.timeouts.absoluteMs) reason = 'absolute';
    else if (now - lastSeen >= this.timeouts.idleMs) reason = 'idle';
    else {
      if (now - lastSeen >= TOUCH_EVERY_MS) await this.db.query('UPDATE operator_sessions SET last_seen_at = $2 WHERE id = $1', [id, now]);
      return { ok: true, session: { id, operator: String(r.operator), role: r.role as Role, csrf: String(r.csrf), createdAt: created, lastSeenAt: now } };
    }
    await this.db.query('UPDATE operator_sessions SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL', [id, now]);
    return { ok: false, reason };
  }

  async end(id: string): Promise<void> {
    await this.db.query('UPDATE operator_sessions SET ended_at = $2 WHERE id = $1 AND ended_at IS NULL', [id, this.now()]);
  }
}

/** Constant-time comparison of the CSRF header with the session's token. */
export function csrfMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
