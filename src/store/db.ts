/**
 * The one SQL interface every capability uses. Two implementations: embedded SQLite (default, no server)
 * and PostgreSQL (DATABASE_URL, for several replicas). SQL is written once in the portable subset both
 * understand, with `$1, $2…` placeholders; the SQLite driver rewrites them.
 *
 * Portable subset: TEXT, INTEGER, BIGINT, REAL/DOUBLE PRECISION, BOOLEAN stored as INTEGER 0/1,
 * JSON stored as TEXT, times as BIGINT epoch milliseconds. No SERIAL/AUTOINCREMENT: ids are text
 * (random or derived) so both backends agree.
 */
export type Dialect = 'sqlite' | 'postgres';

export interface Db {
  readonly dialect: Dialect;
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs statements with no result; may hold several statements separated by `;` (no params). */
  exec(sql: string): Promise<void>;
  /** Runs fn in one transaction; fn must use the `tx` handle, not the outer Db. */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A schema migration owned by one capability. Ids sort lexically within a capability: `identity/0001_keys`. */
export interface Migration {
  id: string;
  /** Portable SQL, or per-dialect SQL when the two must differ. */
  sql: string | { sqlite: string; postgres: string };
}
