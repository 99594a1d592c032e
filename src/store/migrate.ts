/**
 * Versioned schema migrations. Each migration runs once, in list order, recorded in gh_schema_migrations.
 * Everything pending is applied in one transaction: a failure leaves the schema as it was.
 * On PostgreSQL an advisory transaction lock (keyed by the current schema) serialises replicas that start
 * together; on SQLite `BEGIN IMMEDIATE` takes the database write lock, which does the same across processes.
 */
import type { Db, Migration } from './db.ts';

export interface MigrateResult {
  applied: string[];
  alreadyApplied: number;
}

const CREATE_TABLE = 'CREATE TABLE IF NOT EXISTS gh_schema_migrations (id TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)';

export async function migrate(db: Db, migrations: readonly Migration[]): Promise<MigrateResult> {
  checkUniqueIds(migrations);
  return db.transaction(async (tx) => {
    if (tx.dialect === 'postgres') {
      // Held until commit. hashtext() gives a stable int per schema, so isolated schemas don't block each other.
      await tx.query("SELECT pg_advisory_xact_lock(hashtext('gatehouse-migrate:' || current_schema()))");
    }
    await tx.exec(CREATE_TABLE);
    const rows = await tx.query<{ id: string }>('SELECT id FROM gh_schema_migrations');
    const done = new Set(rows.map((r) => r.id));
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      const sql = typeof m.sql === 'string' ? m.sql : m.sql[tx.dialect];
      try {
        await tx.exec(sql);
      } catch (err) {
        throw new Error(`migration ${m.id} failed: ${(err as Error).message}`);
      }
      await tx.query('INSERT INTO gh_schema_migrations (id, applied_at) VALUES ($1, $2)', [m.id, Date.now()]);
      applied.push(m.id);
    }
    return { applied, alreadyApplied: done.size };
  });
}

function checkUniqueIds(migrations: readonly Migration[]): void {
  const seen = new Set<string>();
  for (const m of migrations) {
    if (seen.has(m.id)) throw new Error(`duplicate migration id '${m.id}'`);
    seen.add(m.id);
  }
}
