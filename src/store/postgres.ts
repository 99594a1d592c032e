/**
 * PostgreSQL backend (pg Pool) for multi-replica deployments. BIGINT and NUMERIC come back as JS numbers
 * (epoch milliseconds and counters stay far below 2^53), so rows look the same as SQLite's.
 * `schema` sets search_path on every connection, which is how tests isolate themselves in one database.
 */
import { userInfo } from 'node:os';
import pg from 'pg';
import type { Db } from './db.ts';

export interface PostgresOptions {
  /** Schema to use as search_path (must already exist). */
  schema?: string;
  /** Pool size. Default 10. */
  max?: number;
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;

/** Per-pool type parsers, so we never change pg's process-wide defaults for other code. */
const typeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if ((oid === INT8_OID || oid === NUMERIC_OID) && format !== 'binary') return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as unknown as pg.CustomTypesConfig;

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export function checkSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`invalid PostgreSQL schema name '${schema}': expected letters, digits and _`);
  return schema;
}

/**
 * libpq falls back to the OS user when a URL names none; pg falls back to $USER, which is unset in some
 * service environments. Do what libpq does so `postgres://host/db` works everywhere.
 */
export function withDefaultUser(connectionString: string): string {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    return connectionString;
  }
  if (url.username) return connectionString;
  url.username = process.env.PGUSER || process.env.USER || userInfo().username;
  return url.toString();
}

function normaliseParams(params: readonly unknown[] | undefined): unknown[] | undefined {
  if (!params || params.length === 0) return undefined;
  // Booleans are stored as INTEGER 0/1 on both backends (portable subset).
  return params.map((v) => (v === true ? 1 : v === false ? 0 : v === undefined ? null : v));
}

class PgClientDb implements Db {
  readonly dialect = 'postgres' as const;
  private savepoints = 0;
  constructor(private readonly client: pg.PoolClient) {}

  async query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    const res = await this.client.query(sql, normaliseParams(params));
    return res.rows as T[];
  }
  async exec(sql: string): Promise<void> {
    await this.client.query(sql);
  }
  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    const name = `sp_${++this.savepoints}`;
    await this.client.query(`SAVEPOINT ${name}`);
    try {
      const result = await fn(this);
      await this.client.query(`RELEASE SAVEPOINT ${name}`);
      return result;
    } catch (err) {
      await this.client.query(`ROLLBACK TO SAVEPOINT ${name}`);
      throw err;
    }
  }
  async close(): Promise<void> {
    throw new Error('close() called on a transaction handle; close the outer Db instead');
  }
}

export interface Listener {
  close(): Promise<void>;
}

export class PostgresDb implements Db {
  readonly dialect = 'postgres' as const;
  readonly pool: pg.Pool;
  private readonly clientConfig: pg.ClientConfig;
  readonly schema: string | undefined;

  constructor(connectionString: string, opts: PostgresOptions = {}) {
    this.schema = opts.schema === undefined ? undefined : checkSchemaName(opts.schema);
    this.clientConfig = {
      connectionString: withDefaultUser(connectionString),
      types: typeParsers,
      ...(this.schema ? { options: `-c search_path=${this.schema}` } : {}),
    };
    this.pool = new pg.Pool({ ...this.clientConfig, max: opts.max ?? 10 });
    // An idle client dying (server restart) must not crash the process; the next query reconnects or fails loudly.
    this.pool.on('error', () => {});
  }

  async query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    const res = await this.pool.query(sql, normaliseParams(params));
    return res.rows as T[];
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    // A connection lost between two statements of the transaction (no query in flight to reject) is emitted as an
    // 'error' event; without a listener it would be an uncaught exception that ends the process. Note it instead:
    // the next statement fails, and the client is discarded rather than returned to the pool.
    const onError = (err: Error) => {
      broken = err;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      try {
        const result = await fn(new PgClientDb(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackErr) {
          broken = rollbackErr as Error;
        }
        throw err;
      }
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  /**
   * LISTEN on a channel with a dedicated connection (pooled connections cannot hold a LISTEN).
   * Reconnects after a second if the connection drops; `onReconnect` lets the caller re-check state it may have missed.
   */
  async listen(channel: string, onNotify: (payload: string) => void, onReconnect?: () => void): Promise<Listener> {
    checkSchemaName(channel);
    let closed = false;
    let client: pg.Client | undefined;
    let retry: NodeJS.Timeout | undefined;
    const connect = async (): Promise<void> => {
      const c = new pg.Client(this.clientConfig);
      c.on('notification', (msg) => {
        if (msg.channel === channel) onNotify(msg.payload ?? '');
      });
      const scheduleReconnect = () => {
        if (closed || client !== c) return;
        client = undefined;
        c.end().catch(() => {});
        retry = setTimeout(() => {
          connect().then(onReconnect, scheduleRetryLater);
        }, 1000);
        retry.unref();
      };
      c.on('error', scheduleReconnect);
      c.on('end', scheduleReconnect);
      await c.connect();
      client = c;
      await c.query(`LISTEN ${channel}`);
    };
    const scheduleRetryLater = () => {
      if (closed) return;
      retry = setTimeout(() => connect().then(onReconnect, scheduleRetryLater), 1000);
      retry.unref();
    };
    await connect();
    return {
      close: async () => {
        closed = true;
        if (retry) clearTimeout(retry);
        const c = client;
        client = undefined;
        if (c) await c.end().catch(() => {});
      },
    };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
