/**
 * GET /admin/v1/export-control/report?from=&to=&licence=
 * The export-control record for a period (report.ts) from this gateway's audit log, its licence ledger (every
 * grant, revoked ones included) and its key store. from/to: epoch ms or ISO 8601. 400 for a bad query, 503 without
 * an audit log.
 */
import type { FastifyInstance } from 'fastify';
import { parseTime } from '../audit/query.ts';
import type { Principal } from '../core/types.ts';
import type { LicenceRecord } from '../policy/licences.ts';
import type { LicenceExport } from '../policy/licence-exports.ts';
import { LicenceIndex } from '../policy/licences.ts';
import type { AccessSnapshot } from '../policy/snapshot.ts';
import { principalIndex } from '../replay/principals.ts';
import { auditLogFiles } from '../replay/reader.ts';
import { licenceReport } from './report.ts';

export interface ExportControlAdminDeps {
  auditPath: string | null;
  access: () => AccessSnapshot;
  ledger: () => Promise<LicenceRecord[]>;
  /** The ledger's export records (every licence's, revoked ones included). */
  exports?: () => Promise<LicenceExport[]>;
  principals: () => Promise<Principal[]>;
}

export function registerExportControlAdminRoutes(app: FastifyInstance, deps: ExportControlAdminDeps): void {
  app.get('/admin/v1/export-control/report', async (req, reply) => {
    const q = req.query as Record<string, string | string[] | undefined>;
    const bad = (message: string) => reply.code(400).send({ error: { type: 'invalid_request_error', message } });
    const range: { from?: number; to?: number } = {};
    for (const [name, v] of Object.entries(q)) {
      if (!['from', 'to', 'licence'].includes(name)) return bad(`query.${name}: unknown parameter (expected from, to, licence)`);
      if (typeof v !== 'string' || v === '') return bad(`query.${name}: expected one non-empty value`);
      if (name === 'licence') continue;
      try {
        range[name as 'from' | 'to'] = parseTime(v, `query.${name}`);
      } catch (e) {
        return bad((e as Error).message);
      }
    }
    if (!deps.auditPath) return reply.code(503).send({ error: { type: 'unavailable', message: 'the audit log is off: there is no record of served requests' } });
    const ledger = await deps.ledger();
    const snap = deps.access();
    // The whole ledger, so a licence revoked since still covers the requests made before its revocation.
    const access = snap.with({ licences: LicenceIndex.build(ledger, snap.policy.groups) });
    const files = await auditLogFiles(deps.auditPath).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [];
      throw err;
    });
    const report = await licenceReport(files, access, ledger, principalIndex(await deps.principals()), { ...range, exports: deps.exports ? await deps.exports() : [] });
    if (typeof q.licence === 'string') report.licences = report.licences.filter((s) => s.licence.id === q.licence);
    return report;
  });
}
