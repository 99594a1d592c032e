/**
 * GET /admin/v1/audit?account=&principal=&model=&action=&kind=&from=&to=&limit=
 * Returns `{ records: [...], truncated }`, oldest first. from/to are epoch ms or ISO 8601; limit defaults to
 * 1000 and is capped at 10000.
 *
 * GET /admin/v1/audit/text/:requestId[?time=] — the retained text of one request (when retention is on), for an
 * incident report. Every read is itself an audit record (`retention.read`). Both sit behind admin-token auth.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseTime, queryAudit, type AuditFilter } from './query.ts';
import type { TextVault } from './retention.ts';

export interface AuditAdminDeps {
  /** Path of the active audit file (AuditLog.path). */
  auditPath: string;
  /** The retained-text store, when `audit.retention.enabled`. */
  vault?: TextVault | null;
  /** Records an admin action in the audit log. */
  recordAdmin?: (action: string, actor: string, target?: string, details?: Record<string, unknown>) => void;
  /** Who made an admin request (the signed-in operator); `admin-api` when not given. */
  actorOf?: (request: FastifyRequest) => string;
}

const MAX_LIMIT = 10_000;

function badRequest(message: string) {
  return { error: { type: 'invalid_request', message } };
}

export function registerAuditAdminRoutes(app: FastifyInstance, deps: AuditAdminDeps): void {
  app.get('/admin/v1/audit', async (req, reply) => {
    const q = req.query as Record<string, string | string[] | undefined>;
    const filter: AuditFilter = { limit: 1000 };
    for (const name of ['account', 'principal', 'model', 'action', 'kind', 'from', 'to', 'limit'] as const) {
      const v = q[name];
      if (v === undefined) continue;
      if (Array.isArray(v)) return reply.code(400).send(badRequest(`query.${name}: given more than once`));
      if (v === '') return reply.code(400).send(badRequest(`query.${name}: empty`));
      try {
        if (name === 'from' || name === 'to') filter[name] = parseTime(v, `query.${name}`);
        else if (name === 'limit') {
          if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > MAX_LIMIT) throw new Error(`query.limit: '${v}' must be an integer from 1 to ${MAX_LIMIT}`);
          filter.limit = Number(v);
        } else filter[name] = v;
      } catch (e) {
        return reply.code(400).send(badRequest((e as Error).message));
      }
    }
    for (const k of Object.keys(q)) {
      if (!['account', 'principal', 'model', 'action', 'kind', 'from', 'to', 'limit'].includes(k)) return reply.code(400).send(badRequest(`query.${k}: unknown parameter`));
    }
    try {
      return await queryAudit(deps.auditPath, filter);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return { records: [], truncated: false };
      // Not the caller's fault: the admin mount logs it with the request id and answers 500.
      throw new Error(`audit log cannot be read: ${(e as Error).message}`, { cause: e });
    }
  });

  app.get('/admin/v1/audit/text/:requestId', async (req, reply) => {
    const { requestId } = req.params as { requestId: string };
    const q = req.query as Record<string, string | string[] | undefined>;
    if (!deps.vault) {
      return reply.code(404).send({ error: { type: 'not_found', message: 'Text retention is off (audit.retention.enabled: false): no request text is kept.' } });
    }
    for (const k of Object.keys(q)) if (k !== 'time') return reply.code(400).send(badRequest(`query.${k}: unknown parameter`));
    let time: number | undefined;
    try {
      if (Array.isArray(q.time)) throw new Error('query.time: given more than once');
      if (q.time !== undefined) time = parseTime(q.time, 'query.time');
    } catch (e) {
      return reply.code(400).send(badRequest((e as Error).message));
    }
    let text;
    try {
      text = await deps.vault.read(requestId, time);
    } catch (e) {
      deps.recordAdmin?.('retention.read', deps.actorOf?.(req) ?? 'admin-api', requestId, { found: false, error: (e as Error).message });
      throw new Error(`retained text cannot be read: ${(e as Error).message}`, { cause: e });
    }
    deps.recordAdmin?.('retention.read', deps.actorOf?.(req) ?? 'admin-api', requestId, { found: text !== null });
    if (!text) return reply.code(404).send({ error: { type: 'not_found', message: `No retained text for request ${requestId} (never retained, or purged after ${deps.vault.config.days} days).` } });
    return { requestId, ...text };
  });
}

/**
 * Every successful admin mutation (any method but GET, answered below 400) becomes an audit record
 * `admin.<method>`: who (`actorOf`: the signed-in operator, or admin-api for the shared token), which path, the
 * status and the credential used (`credentialOf`).
 */
export function auditAdminMutations(
  app: FastifyInstance,
  recordAdmin: NonNullable<AuditAdminDeps['recordAdmin']>,
  actorOf: NonNullable<AuditAdminDeps['actorOf']>,
  credentialOf: (request: FastifyRequest) => string | undefined,
): void {
  app.addHook('onResponse', async (request, reply) => {
    if (request.method === 'GET' || reply.statusCode >= 400) return;
    recordAdmin(`admin.${request.method.toLowerCase()}`, actorOf(request), request.url.split('?')[0]!, { status: reply.statusCode, credential: credentialOf(request) });
  });
}
