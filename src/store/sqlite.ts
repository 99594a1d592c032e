/**
 * Embedded SQLite backend (better-sqlite3). WAL mode lets the CLI write while a running gateway reads;
 * busy_timeout makes a writer wait for another process's write lock instead of failing at once;
 * synchronous=NORMAL is durable across application crashes in WAL mode and much faster than FULL.
 *
 * better-sqlite3 is synchronous, so one connection serves the whole process. Async transactions are made
 * safe by a small gate: while `transaction(fn)` is awaiting, statements issued through the outer handle
 * wait until it ends, so they never land inside someone else's transaction.
 *
 * The gate is shared by every SqliteDb open on the same file in this process: a second connection's
 * synchronous BEGIN IMMEDIATE would otherwise block the event loop for busy_timeout while the first
 * connection's transaction waits for that same event loop — a self-deadlock. Other processes are
 * handled by SQLite's own file locks and busy_timeout.
 */
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Db } from './db.ts';
import { rewritePlaceholders } from './sql-rewrite.ts';

type Statement = Database.Statement;

export interface SqliteOptions {
  /** Milliseconds to wait for another process's write lock before SQLITE_BUSY. Default 5000. */
  busyTimeoutMs?: number;
}

const STATEMENT_CACHE_LIMIT = 500;

class SqliteConnection {
  readonly raw: Database.Database;
  private readonly cache = new Map<string, Statement>();

  constructor(filename: string, opts: SqliteOptions) {
    this.raw = new Database(filename, { timeout: opts.busyTimeoutMs ?? 5000 });
    this.raw.pragma('journal_mode = WAL');
    this.raw.pragma('synchronous = NORMAL');
    this.raw.pragma('foreign_keys = ON');
  }

  private prepare(sql: string): Statement {
    let stmt = this.cache.get(sql);
    if (!stmt) {
      stmt = this.raw.prepare(rewritePlaceholders(sql).sql);
      if (this.cache.size >= STATEMENT_CACHE_LIMIT) this.cache.clear(); // crude bound; statements are cheap to re-prepare
      this.cache.set(sql, stmt);
    }
    return stmt;
  }

  query<T>(sql: string, params: readonly unknown[] | undefined): T[] {
    const stmt = this.prepare(sql);
    const bound = bindParams(params);
    if (stmt.reader) return (bound ? stmt.all(bound) : stmt.all()) as T[];
    if (bound) stmt.run(bound);
    else stmt.run();
    return [];
  }

  exec(sql: string): void {
    this.raw.exec(sql);
  }
}

/** `$n` becomes `?n`, bound by number through an object; booleans become 0/1 and undefined becomes NULL. */
function bindParams(params: readonly unknown[] | undefined): Record<number, unknown> | undefined {
  if (!params || params.length === 0) return undefined;
  const out: Record<number, unknown> = {};
  for (let i = 0; i < params.length; i++) {
    const v = params[i];
    out[i + 1] = v === true ? 1 : v === false ? 0 : v === undefined ? null : v;
  }
  return out;
}

/** Handle given to a transaction body: runs directly on the connection; nested transactions use savepoints. */
class SqliteTxDb implements Db {
  readonly dialect = 'sqlite' as const;
  private savepoints = 0;
  constructor(private readonly conn: SqliteConnection) {}

  async query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    return this.conn.query<T>(sql, params);
  }
  async exec(sql: string): Promise<void> {
    this.conn.exec(sql);
  }
  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    const name = `sp_${++this.savepoints}`;
    this.conn.exec(`SAVEPOINT ${name}`);
    try {
      const result = await fn(this);
      this.conn.exec(`RELEASE ${name}`);
      return result;
    } catch (err) {
      this.conn.exec(`ROLLBACK TO ${name}; RELEASE ${name}`);
      throw err;
    }
  }
  async close(): Promise<void> {
    throw new Error('close() called on a transaction handle; close the outer Db instead');
  }
}

/** Resolves `idle` when the current transaction (if any) ends; transactions queue behind each other. */
interface Gate {
  busy: boolean;
  idle: Promise<void>;
}

const gatesByFile = new Map<string, Gate>();

function gateFor(filename: string): Gate {
  if (filename === ':memory:') return { busy: false, idle: Promise.resolve() };
  const key = resolve(filename);
  let gate = gatesByFile.get(key);
  if (!gate) {
    gate = { busy: false, idle: Promise.resolve() };
    gatesByFile.set(key, gate);
  }
  return gate;
}

export class SqliteDb implements Db {
  readonly dialect = 'sqlite' as const;
  private readonly conn: SqliteConnection;
  private readonly gate: Gate;

  constructor(filename: string, opts: SqliteOptions = {}) {
    this.conn = new SqliteConnection(filename, opts);
    this.gate = gateFor(filename);
  }

  /** The underlying better-sqlite3 handle, for tools that need it (e.g. backups). */
  get raw(): Database.Database {
    return this.conn.raw;
  }

  private async waitForIdle(): Promise<void> {
    while (this.gate.busy) await this.gate.idle;
  }

  async query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    if (this.gate.busy) await this.waitForIdle();
    return this.conn.query<T>(sql, params);
  }

  async exec(sql: string): Promise<void> {
    if (this.gate.busy) await this.waitForIdle();
    this.conn.exec(sql);
  }

  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    // No await between this check and taking the gate, or two callers could both pass it.
    while (this.gate.busy) await this.gate.idle;
    let release!: () => void;
    this.gate.idle = new Promise<void>((done) => (release = done));
    this.gate.busy = true;
    try {
      // IMMEDIATE takes the write lock up front, so two processes cannot both read then deadlock on upgrade.
      this.conn.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(new SqliteTxDb(this.conn));
        this.conn.exec('COMMIT');
        return result;
      } catch (err) {
        if (this.conn.raw.inTransaction) this.conn.exec('ROLLBACK');
        throw err;
      }
    } finally {
      this.gate.busy = false;
      release();
    }
  }

  async close(): Promise<void> {
    await this.waitForIdle();
    if (this.conn.raw.open) this.conn.raw.close();
  }
}
