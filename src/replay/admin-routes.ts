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
 *
 *   POST /admin/v1/replay/preview   the blast radius of one directive change over the last `hours` (default 24)
 * Body: `directive` (the issue shape: a directive to issue, or, with the id of an active one, that directive as
 * amended), `lift` (the id of an active directive), `hours` (1–720), `examples` (default 5). At least one of `directive`/`lift`.
 * Answers the distinct keys, accounts and organisations affected and, for `refused` (served→refused), `rerouted`
 * and `served` (refused→served), the count, its share of the requests replayed in the window and example request
 * ids. Each recorded request is decided as if it were made now (the directives and licences in force now, the
 * draft applied now). The same engine and run as `/replay`. Errors: 400 `invalid_request` (bad draft, unknown field), 409
 * `no_recorded_traffic` without an audit log (a preview is a question the caller can fix by turning audit on).
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
import { ReplayEngine, type Transition } from './engine.ts';
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

const previewSchema = z.strictObject({
  directive: z.unknown().optional(),
  lift: z.string().min(1).max(100).optional(),
  hours: z.number().positive().max(720).default(24),
  examples: z.number().int().min(0).max(100).default(5),
});

interface RunInput {
  at: number | 'record';
  examples: number;
  onError: 'continue' | 'stop';
  limit: number;
  principals?: Principal[];
  from?: number;
  to?: number;
}

/** One replay of the audit log: the draft built against what is enforced now, run through the engine. */
async function replay(deps: ReplayAdminDeps, auditPath: string, input: DraftInput, o: RunInput) {
  const draft = buildDraft(deps.baseline(), input);
  try {
    const list = o.principals ?? (await deps.principals());
    const engine = new ReplayEngine({ baseline: draft.baseline, draft: draft.scenario, principals: principalIndex(list), at: o.at, examples: o.examples });
    // A log not written yet is an empty recording, not an error.
    const files = await auditLogFiles(auditPath).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [];
      throw err;
    });
    const result = await runReplay(files, engine, {
      onError: o.onError,
      limit: o.limit,
      // ~100 records per chunk: the gateway keeps serving requests between them.
      chunkBytes: 64 * 1024,
      ...(o.from !== undefined ? { from: o.from } : {}),
      ...(o.to !== undefined ? { to: o.to } : {}),
    });
    return { draft, engine, result };
  } finally {
    draft.close();
  }
}

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
        const principals = b.principals ? b.principals.map((p) => principalFromKey({ ...p, id: p.keyId ?? `account:${p.accountId}` } as unknown as KeyRecord)) : undefined;
        const at = b.at === undefined || b.at === 'record' ? 'record' : b.at === 'now' ? Date.now() : instant(b.at, 'at');
        const { draft, result } = await replay(deps, deps.auditPath, input, {
          at,
          examples: b.examples,
          onError: b.onError,
          limit: b.limit,
          ...(principals ? { principals } : {}),
          ...(b.from !== undefined ? { from: instant(b.from, 'from') } : {}),
          ...(b.to !== undefined ? { to: instant(b.to, 'to') } : {}),
        });
        return { draft: draft.summary, warnings: draft.warnings, ...result };
      });

      scope.post('/replay/preview', async (request) => {
        const parsed = previewSchema.safeParse(requireBody(request.body, 'a directive preview'));
        if (!parsed.success) throw new PolicyValidationError(zodIssues(parsed.error, jsonSink()));
        const b = parsed.data;
        if (b.directive === undefined && b.lift === undefined) throw new PolicyValidationError([{ path: '(root)', message: 'a preview needs `directive` (to issue or amend) or `lift` (a directive id), or both' }]);
        if (!deps.auditPath) throw new HttpError(409, 'no_recorded_traffic', 'the audit log is off (audit.path): there is no recorded traffic to preview a directive against');
        const input: DraftInput = {};
        if (b.directive !== undefined) input.directives = [{ value: b.directive, name: 'directive' }];
        if (b.lift !== undefined) input.lift = [b.lift];
        const to = Date.now();
        const from = to - b.hours * 3_600_000;
        // Decided as of now: what the change would do to traffic like the last hours', were it applied now.
        const { engine, result } = await replay(deps, deps.auditPath, input, { at: to, examples: b.examples, onError: 'continue', limit: 1_000_000, from, to });
        const r = result.report;
        const share = (n: number) => (r.records.replayed ? n / r.records.replayed : 0);
        const part = (t: Transition) => {
          const g = r.changes[t];
          return { count: g.count, share: share(g.count), keys: g.keys, accounts: g.accounts, orgs: g.orgs, byModel: g.byModel, byOrg: g.byOrg, byReason: g.byReason, examples: g.examples };
        };
        const who = engine.distinct(['served→refused', 'rerouted', 'refused→served']);
        const list = (s: Set<string>) => [...s].sort().slice(0, 100);
        return {
          window: { from, to, hours: b.hours },
          requests: r.records.replayed,
          skipped: r.records.requests - r.records.replayed,
          truncated: result.truncated,
          affected: { keys: who.keys.size, accounts: who.accounts.size, orgs: who.orgs.size, keyIds: list(who.keys), accountIds: list(who.accounts), orgIds: list(who.orgs) },
          refused: part('served→refused'),
          rerouted: part('rerouted'),
          served: part('refused→served'),
        };
      });
    },
    { prefix },
  );
}
