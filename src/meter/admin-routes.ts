/**
 * GET /admin/v1/usage?from=&to=&account=&org=&key=&model=&groupBy=day,model&format=json|csv
 * from/to: inclusive UTC days (YYYY-MM-DD, ISO time or epoch ms). groupBy: any of day, model, account, org, key
 * (comma-separated). JSON answer: `{ rows: [...] }`; CSV with a header row.
 */
import type { FastifyInstance } from 'fastify';
import type { Db } from '../store/db.ts';
import type { Meter } from './meter.ts';
import { parseDay, parseGroupBy, queryUsage, usageCsv, type UsageFilter } from './query.ts';

export interface UsageAdminDeps {
  db: Db;
  /** When given, buffered usage is flushed before answering so the answer includes the last second. */
  meter?: Meter;
}

const PARAMS = ['from', 'to', 'account', 'org', 'key', 'model', 'groupBy', 'format'] as const;

export function registerUsageAdminRoutes(app: FastifyInstance, deps: UsageAdminDeps): void {
  app.get('/admin/v1/usage', async (req, reply) => {
    const q = req.query as Record<string, string | string[] | undefined>;
    const bad = (message: string) => reply.code(400).send({ error: { type: 'invalid_request', message } });
    for (const k of Object.keys(q)) if (!(PARAMS as readonly string[]).includes(k)) return bad(`query.${k}: unknown parameter (expected one of ${PARAMS.join(', ')})`);
    const f: UsageFilter = {};
    let format = 'json';
    for (const name of PARAMS) {
      const v = q[name];
      if (v === undefined) continue;
      if (Array.isArray(v)) return bad(`query.${name}: given more than once`);
      if (v === '') return bad(`query.${name}: empty`);
      try {
        if (name === 'from' || name === 'to') f[name] = parseDay(v, `query.${name}`);
        else if (name === 'groupBy') f.groupBy = parseGroupBy(v, 'query.groupBy');
        else if (name === 'format') {
          if (v !== 'json' && v !== 'csv') throw new Error(`query.format: '${v}' is not one of json, csv`);
          format = v;
        } else f[name] = v;
      } catch (e) {
        return bad((e as Error).message);
      }
    }
    if (deps.meter) await deps.meter.flush().catch(() => {});
    const rows = await queryUsage(deps.db, f);
    if (format === 'csv') return reply.type('text/csv; charset=utf-8').send(usageCsv(rows, f.groupBy ?? []));
    return { rows };
  });
}
