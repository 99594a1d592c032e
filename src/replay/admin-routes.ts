/**
 * Admin HTTP API for replay (mounted behind admin-token auth):
 *   POST /admin/v1/replay   a draft → what it would change in the gateway's recorded traffic (its audit log)
 * Body (all optional): `policy` (policy file text, YAML), `directives` (list in the directive issue shape),
 * `lift` (directive ids), `classify` (threshold fragment), `limits` (a whole limits section), `at` (`record`|`now`|ISO), `from`/`to`, `limit`
 * (default 1,000,000 requests), `examples`, `onError` (`continue`|`stop`), `principals` (list in the key-creation
 * shape plus `keyId`, instead of the key store). The baseline is what this gateway enforces at the time of the
 * call. Replay reads the log and the key store only; it yields to the event loop between 64 KiB chunks of the log
 * (about a hundred records, a few milliseconds of work), so the gateway keeps serving while it runs.
 * Errors: 400 `invalid_request` with `issues` (JSON paths) for a bad draft; 503 without an audit log.
 */
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { ClassifyConfig } from '../classify/config.ts';
import type { LimitsConfig } from '../limits/config.ts';
import type { PolicyConfig } from '../policy/config.ts';
import { loadGroups } from '../population/groups.ts';
import type { AccessSnapshot } from '../policy/snapshot.ts';
import { z } from 'zod';
import type { Principal } from '../core/types.ts';
import { parseTime } from '../audit/query.ts';
import { HttpError, installErrorHandler, prefixFor, requireBody } from '../admin/http.ts';
import { jsonSink, PolicyValidationError, zodIssues } from '../core/validation.ts';
import { createKeySchema } from '../identity/attributes.ts';
import type { KeyRecord } from '../identity/keys.ts';
import { buildDraft, type Baseline, type DraftInput } from './draft.ts';
import { ReplayEngine } from './engine.ts';
import { principalFromKey } from '../identity/principal.ts';
import { principalIndex } from './principals.ts';
import { auditLogFiles } from './reader.ts';
import { runReplay } from './run.ts';

export interface ReplayAdminDeps {
  /** The gateway's audit log (null: audit off, replay unavailable). */
  auditPath: string | null;
  /** What is enforced now. */
  baseline: () => Baseline;
  /** Every key's principal (read from the key store). */
  principals: () => Promise<Principal[]>;
  prefix?: string;
}

/**
 * The baseline of a running gateway: its live access snapshot (policy, directives, licences as enforced now),
 * its classify section, catalogue and country-group files (a draft policy is compiled against the latter).
 */
export function replayBaseline(live: { access: AccessSnapshot; classify: ClassifyConfig | null; models: readonly string[]; policy: PolicyConfig; baseDir: string; limits?: LimitsConfig | null }): Baseline {
  return {
    access: live.access,
    limits: live.limits ?? null,
    classify: live.classify,
    models: live.models,
    groups: loadGroups(live.policy.countryGroupFiles.map((f) => resolve(live.baseDir, f))),
    ...(live.policy.default ? { policyDefault: live.policy.default } : {}),
  };
}

const time = z.union([z.number().int().nonnegative(), z.string().min(1)]);
const bodySchema = z.strictObject({
  policy: z.string().min(1).max(5_000_000).optional(),
  directives: z.array(z.unknown()).max(1000).optional(),
  lift: z.array(z.string().min(1).max(100)).max(1000).optional(),
  classify: z.record(z.string(), z.unknown()).optional(),
  limits: z.record(z.string(), z.unknown()).optional(),
  at: time.optional(),
  from: time.optional(),
  to: time.optional(),
  limit: z.number().int().positive().max(100_000_000).default(1_000_000),
  examples: z.number().int().min(0).max(100).default(10),
  onError: z.enum(['continue', 'stop']).default('continue'),
  principals: z.array(createKeySchema.extend({ keyId: z.string().min(1).max(200).optional() })).max(1_000_000).optional(),
});

function instant(v: number | string, path: string): number {
  if (typeof v === 'number') return v;
  try {
    return parseTime(v, path);
  } catch (err) {
    throw new PolicyValidationError([{ path, message: (err as Error).message }]);
  }
}

export function registerReplayAdminRoutes(app: FastifyInstance, deps: ReplayAdminDeps): FastifyInstance {
  const prefix = prefixFor(app, deps.prefix);
  return app.register(
    async (scope) => {
      installErrorHandler(scope, 'replay');
      scope.post('/replay', async (request) => {
        const parsed = bodySchema.safeParse(requireBody(request.body, 'a replay draft'));
        if (!parsed.success) throw new PolicyValidationError(zodIssues(parsed.error, jsonSink()));
        const b = parsed.data;
        if (!deps.auditPath) throw new HttpError(503, 'unavailable', 'the audit log is off: there is no recorded traffic to replay');
        const input: DraftInput = {};
        if (b.policy !== undefined) input.policy = { text: b.policy, name: 'policy' };
        if (b.directives) input.directives = b.directives.map((value, i) => ({ value, name: `directives[${i}]` }));
        if (b.lift) input.lift = b.lift;
        if (b.classify) input.classify = { value: b.classify, name: 'classify' };
        if (b.limits) input.limits = { value: b.limits, name: 'limits' };
        const baseline = deps.baseline();
        const draft = buildDraft(baseline, input);
        const list = b.principals ? b.principals.map((p) => principalFromKey({ ...p, id: p.keyId ?? `account:${p.accountId}` } as unknown as KeyRecord)) : await deps.principals();
        const at = b.at === undefined || b.at === 'record' ? 'record' : b.at === 'now' ? Date.now() : instant(b.at, 'at');
        const engine = new ReplayEngine({ baseline: draft.baseline, draft: draft.scenario, principals: principalIndex(list), at, examples: b.examples });
        // A log not written yet is an empty recording, not an error.
        const files = await auditLogFiles(deps.auditPath).catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') return [];
          throw err;
        });
        const result = await runReplay(files, engine, {
          onError: b.onError,
          limit: b.limit,
          // ~100 records per chunk: the gateway keeps serving requests between them.
          chunkBytes: 64 * 1024,
          ...(b.from !== undefined ? { from: instant(b.from, 'from') } : {}),
          ...(b.to !== undefined ? { to: instant(b.to, 'to') } : {}),
        }).finally(() => draft.close());
        return { draft: draft.summary, warnings: draft.warnings, ...result };
      });
    },
    { prefix },
  );
}
