/**
 * GET /admin/v1/ocsf?from=&to=&class=api,auth,finding,account&limit=
 * The audit log as OCSF 1.3.0 events, streamed as JSONL (`application/x-ndjson`), oldest first. from/to are epoch
 * ms or ISO 8601; limit defaults to 100,000 and is capped at 10,000,000. 400 for a bad query, 503 without an audit log.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { parseTime } from '../audit/query.ts';
import { ocsfEvents, parseClasses, type ExportFilter } from './export.ts';

export interface OcsfAdminDeps {
  auditPath: string | null;
  productVersion?: string;
}

const MAX_LIMIT = 10_000_000;

export function registerOcsfAdminRoutes(app: FastifyInstance, deps: OcsfAdminDeps): void {
  app.get('/admin/v1/ocsf', async (req, reply) => {
    const q = req.query as Record<string, string | string[] | undefined>;
    const filter: ExportFilter = { limit: 100_000 };
    const bad = (message: string) => reply.code(400).send({ error: { type: 'invalid_request_error', message } });
    for (const [name, v] of Object.entries(q)) {
      if (!['from', 'to', 'class', 'limit'].includes(name)) return bad(`query.${name}: unknown parameter (expected from, to, class, limit)`);
      if (Array.isArray(v)) return bad(`query.${name}: given more than once`);
      if (v === undefined || v === '') return bad(`query.${name}: empty`);
      try {
        if (name === 'from' || name === 'to') filter[name] = parseTime(v, `query.${name}`);
        else if (name === 'class') filter.classes = parseClasses(v);
        else {
          if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > MAX_LIMIT) throw new Error(`query.limit: '${v}' must be an integer from 1 to ${MAX_LIMIT}`);
          filter.limit = Number(v);
        }
      } catch (e) {
        return bad((e as Error).message);
      }
    }
    if (!deps.auditPath) return reply.code(503).send({ error: { type: 'unavailable', message: 'the audit log is off: there is nothing to export' } });
    const path = deps.auditPath;
    async function* lines() {
      try {
        for await (const ev of ocsfEvents(path, filter, deps.productVersion ? { productVersion: deps.productVersion } : {})) yield JSON.stringify(ev) + '\n';
      } catch (e) {
        // A log not written yet is empty; any other failure ends the stream (the status line is already sent).
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    return reply.type('application/x-ndjson').send(Readable.from(lines()));
  });
}
