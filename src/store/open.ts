/**
 * Opening a store from a URL, and deciding which URL a command should use.
 *   sqlite:PATH           embedded SQLite file (parent directory created)
 *   sqlite::memory:       private in-memory SQLite (tests)
 *   postgres://…  postgresql://…   PostgreSQL; an extra `?schema=NAME` query parameter sets search_path
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { resolveStoreUrlPath } from './config.ts';
import type { Db } from './db.ts';

export const DEFAULT_STORE_URL = 'sqlite:data/gatehouse.db';

export interface OpenOptions {
  /** PostgreSQL only: schema used as search_path (overrides `?schema=` in the URL). */
  schema?: string;
}

/** Each driver is loaded when a URL needs it (a SQLite gateway never loads the PostgreSQL client, nor the reverse). */
export async function openDb(url: string, opts: OpenOptions = {}): Promise<Db> {
  if (url.startsWith('sqlite:')) {
    const { SqliteDb } = await import('./sqlite.ts');
    const path = url.slice('sqlite:'.length);
    if (path === '') throw new Error(`invalid store URL '${url}': expected sqlite:PATH or sqlite::memory:`);
    if (path === ':memory:') return new SqliteDb(':memory:');
    mkdirSync(dirname(resolve(path)), { recursive: true });
    return new SqliteDb(path);
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const { PostgresDb, checkSchemaName } = await import('./postgres.ts');
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(`invalid store URL: not a valid PostgreSQL URL`); // never echo: it may hold a password
    }
    const urlSchema = parsed.searchParams.get('schema');
    parsed.searchParams.delete('schema');
    const schema = opts.schema ?? urlSchema ?? undefined;
    if (schema !== undefined) checkSchemaName(schema);
    const db = new PostgresDb(parsed.toString(), { schema });
    try {
      await db.query('SELECT 1');
    } catch (err) {
      await db.close().catch(() => {});
      throw new Error(`cannot connect to PostgreSQL at ${redactUrl(url)}: ${(err as Error).message}`);
    }
    return db;
  }
  throw new Error(`unsupported store URL '${redactUrl(url)}': expected sqlite:PATH, sqlite::memory: or postgres://…`);
}

/** A URL safe to print: any password is replaced by ***. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*:)[^@]*@/i, '$1***@');
}

export interface StoreUrlSources {
  /** Value of a `--store` flag. */
  flag?: string;
  /** A YAML config file whose `store.url` is used when neither the flag nor DATABASE_URL is set. */
  configPath?: string;
  /** Environment to read DATABASE_URL from (defaults to process.env). */
  env?: NodeJS.ProcessEnv;
}

/**
 * flag > env DATABASE_URL > `store.url` in the YAML config (a relative sqlite: path, or the default when the file has
 * none, resolves against the config file's directory, as `serve` does) > sqlite:data/gatehouse.db.
 */
export function resolveStoreUrl(sources: StoreUrlSources = {}): string {
  if (sources.flag) return sources.flag;
  const env = sources.env ?? process.env;
  if (env.DATABASE_URL) return env.DATABASE_URL;
  if (sources.configPath) {
    const fromConfig = readStoreUrlFromConfig(sources.configPath);
    return resolveStoreUrlPath(fromConfig ?? DEFAULT_STORE_URL, dirname(resolve(sources.configPath)));
  }
  return DEFAULT_STORE_URL;
}

function readStoreUrlFromConfig(path: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new Error(`${path}: invalid YAML: ${(err as Error).message}`);
  }
  const store = (doc as { store?: unknown } | null)?.store;
  if (store === undefined || store === null) return undefined;
  const url = (store as { url?: unknown }).url;
  if (url === undefined || url === null) return undefined;
  if (typeof url !== 'string' || url === '') throw new Error(`${path}: store.url: expected a non-empty string`);
  return url;
}
