/**
 * The replay engine: decides each recorded request twice — under the baseline (what is in force) and under a
 * draft — with the gateway's own decision code (AccessSnapshot.decide for directives and policy, classify's
 * decideAction on the recorded scores), and tallies what the draft would change. Pure: it holds compiled
 * snapshots and counters, never touches the store or an upstream; `add` is synchronous so a million records cost
 * one JSON parse and two decisions each.
 *
 * The gate chain is the gateway's: abuse actions → access → classifier → limits, where a route restarts the chain
 * on the new model (at most MAX_REROUTES times) and the classifier's verdict is computed once per request. Abuse
 * actions and limits depend on state that a draft does not change (ring verdicts, counters), so a recorded abuse
 * refusal or limit refusal is carried over as recorded; everything else is decided afresh.
 */
import type { Principal, Verdict } from '../core/types.ts';
import { decideAction } from '../classify/decide.ts';
import type { ClassifyConfig } from '../classify/config.ts';
import type { AccessSnapshot } from '../policy/snapshot.ts';

/**
 * Limits replayed over the recording (a `limits:` draft): the limiter's own admit/settle (limits/memory.ts) driven by
 * a replay clock, so each request is admitted against what the requests before it used up.
 */
export interface ReplayLimits {
  admit(p: Principal, model: string, estimatedTokens: number, now: number): Verdict;
  settle(p: Principal, tokens: number, costUsd: number, admittedTokens: number, now: number): void;
}

/** The same bound as the gateway's request path: a chain of routes longer than this is a misconfiguration. */
export const MAX_REROUTES = 4;

/** One side of the comparison: the access snapshot, the classifier section (null = classifier off) and the catalogue. */
export interface Scenario {
  access: AccessSnapshot;
  classify: ClassifyConfig | null;
  /** Public model names that can serve; a route to anything else fails as in the gateway (`route_failed`). */
  models: ReadonlySet<string>;
  /** Limits replayed (null: a recorded limit refusal is carried over as recorded). */
  limits?: ReplayLimits | null;
}

/** What a request would get. `undetermined`: the decision needs something the record does not hold. */
export type Decision =
  | { kind: 'served'; model: string; code?: string }
  | { kind: 'refused'; code: string; status: number; by: string }
  | { kind: 'undetermined'; why: string };

/** The part of a request audit record replay reads (the JSONL sample format is the same shape). */
export interface ReplayRecord {
  requestId: string;
  requestTime?: number;
  time?: number;
  principal: { keyId: string | null; accountId: string | null; orgId: string | null };
  modelRequested: string;
  modelServed?: string | null;
  outcome: string;
  status?: number;
  code?: string;
  ref?: Record<string, string>;
  labels?: Record<string, number>;
  inputTokens?: number;
  outputTokens?: number;
  costUsd?: number;
}

/** Finds the principal a record stands for (attributes are not in the audit log). */
export type PrincipalLookup = (principal: ReplayRecord['principal']) => Principal | undefined;

export type Transition = 'served→refused' | 'refused→served' | 'rerouted' | 'reason-changed' | 'undetermined';
export const TRANSITIONS: readonly Transition[] = ['served→refused', 'refused→served', 'rerouted', 'reason-changed', 'undetermined'];

export interface ChangeGroup {
  count: number;
  examples: string[];
  byModel: Record<string, number>;
  byOrg: Record<string, number>;
  byReason: Record<string, number>;
  /** Population attributes of the principals affected: `kyc:none`, `nationality:CN`, `tier:general`… */
  byAttribute: Record<string, number>;
  /** Distinct API keys, accounts and organisations among these requests (`distinct()` lists them). */
  keys: number;
  accounts: number;
  orgs: number;
}

/** Who a set of changed requests came from. */
export interface Affected {
  keys: Set<string>;
  accounts: Set<string>;
  orgs: Set<string>;
}

export interface BadRecord {
  file: string;
  line: number;
  reason: string;
}

export interface ReplayReport {
  records: {
    /** Lines read (every kind). */
    read: number;
    requests: number;
    replayed: number;
    skipped: Record<string, number>;
    bad: number;
  };
  /** The first bad records (file:line and why), up to the configured number. */
  badRecords: BadRecord[];
  /** How often the baseline replay agrees with what was recorded: a low figure means the inputs are off (keys changed, log from another config). */
  fidelity: { agree: number; disagree: number; examples: Array<{ requestId: string; recorded: string; baseline: string }> };
  unchanged: number;
  changes: Record<Transition, ChangeGroup>;
  /** The time decisions were made at: `record` (each request's own time) or an ISO instant. */
  at: string;
}

export interface EngineOptions {
  baseline: Scenario;
  draft: Scenario;
  principals: PrincipalLookup;
  /** Decide at each request's own time (default) or at one fixed instant (epoch ms). */
  at?: number | 'record';
  /** Example request ids kept per transition (default 10). */
  examples?: number;
  /** Bad records listed in the report (all are counted; default 100). */
  maxBadListed?: number;
}

/** Distinct values kept per breakdown; the rest are counted under `(other)` so a report stays bounded. */
const MAX_KEYS = 500;

function emptyGroup(): ChangeGroup {
  return { count: 0, examples: [], byModel: {}, byOrg: {}, byReason: {}, byAttribute: {}, keys: 0, accounts: 0, orgs: 0 };
}

function bump(map: Record<string, number>, key: string): void {
  const v = map[key];
  if (v !== undefined) map[key] = v + 1;
  else if (Object.keys(map).length < MAX_KEYS) map[key] = 1;
  else map['(other)'] = (map['(other)'] ?? 0) + 1;
}

/** Who refused, from a verdict's reference. */
function refusedBy(v: Extract<Verdict, { action: 'refuse' }>): string {
  const r = v.ref;
  if (!r) return v.code === 'directives_stale' ? 'directives' : 'policy';
  if (r.directive) return 'directive';
  if (r.rule) return 'policy';
  if (r.classifier) return 'classifier';
  if (r.limit) return 'limits';
  if (r.ring) return 'abuse';
  return 'policy';
}

/**
 * The gate chain for one request under one scenario. `start` is the model the chain begins with; `carried` is a
 * recorded refusal of a gate replay does not re-decide (limits), applied when the replayed gates all allow.
 */
export function decideRequest(
  s: Scenario,
  p: Principal,
  start: string,
  labels: Record<string, number> | undefined,
  now: number,
  carriedLimit: Decision | null,
  usage?: { inputTokens: number; outputTokens: number; costUsd: number },
): Decision {
  let model = start;
  let reroutes = 0;
  let code: string | undefined;
  // Computed once per request, like the gateway's memoised classifier verdict.
  let classifierVerdict: Verdict | null = null;
  chain: for (;;) {
    // access: directives then policy
    const a = s.access.decide(p, model, now);
    if (a.action === 'refuse') return { kind: 'refused', code: a.code, status: a.status, by: refusedBy(a) };
    if (a.action === 'route' && a.model !== model) {
      if (!s.models.has(a.model) || ++reroutes > MAX_REROUTES) return { kind: 'refused', code: 'route_failed', status: 503, by: 'routing' };
      code = a.code;
      model = a.model;
      continue chain;
    }
    // classifier
    if (s.classify && s.classify.enabled) {
      if (classifierVerdict === null) {
        if (!labels) return { kind: 'undetermined', why: 'classifier scores not recorded' };
        classifierVerdict = decideAction(labels, p.tier, s.classify);
      }
      const c = classifierVerdict;
      if (c.action === 'refuse') return { kind: 'refused', code: c.code, status: c.status, by: 'classifier' };
      if (c.action === 'route' && c.model !== model) {
        if (!s.models.has(c.model) || ++reroutes > MAX_REROUTES) return { kind: 'refused', code: 'route_failed', status: 503, by: 'routing' };
        code = c.code;
        model = c.model;
        continue chain;
      }
    }
    break;
  }
  if (s.limits) {
    const v = s.limits.admit(p, model, usage?.inputTokens ?? 0, now);
    if (v.action === 'refuse') return { kind: 'refused', code: v.code, status: v.status, by: 'limits' };
    if (usage) s.limits.settle(p, usage.inputTokens + usage.outputTokens, usage.costUsd, usage.inputTokens, now);
  } else if (carriedLimit) return carriedLimit;
  return code === undefined ? { kind: 'served', model } : { kind: 'served', model, code };
}

/** What the record says happened, in the same terms (for the fidelity figure). */
function recordedDecision(r: ReplayRecord): Decision {
  if (r.outcome === 'refused') return { kind: 'refused', code: r.code ?? 'unknown', status: r.status ?? 403, by: 'recorded' };
  return { kind: 'served', model: r.modelServed ?? r.modelRequested };
}

function describe(d: Decision): string {
  if (d.kind === 'served') return `served ${d.model}`;
  if (d.kind === 'refused') return `refused ${d.code}`;
  return `undetermined (${d.why})`;
}

export class ReplayEngine {
  private readonly report: ReplayReport;
  private readonly examples: number;
  private readonly maxBad: number;
  private readonly fixedAt: number | null;
  private readonly who = new Map<Transition, Affected>();

  constructor(private readonly opts: EngineOptions) {
    this.examples = opts.examples ?? 10;
    this.maxBad = opts.maxBadListed ?? 100;
    this.fixedAt = opts.at === undefined || opts.at === 'record' ? null : opts.at;
    const changes = {} as Record<Transition, ChangeGroup>;
    for (const t of TRANSITIONS) changes[t] = emptyGroup();
    this.report = {
      records: { read: 0, requests: 0, replayed: 0, skipped: {}, bad: 0 },
      badRecords: [],
      fidelity: { agree: 0, disagree: 0, examples: [] },
      unchanged: 0,
      changes,
      at: this.fixedAt === null ? 'record' : new Date(this.fixedAt).toISOString(),
    };
  }

  /** A line that is not a record (unparseable, truncated, wrong shape). */
  bad(b: BadRecord): void {
    this.report.records.read++;
    this.report.records.bad++;
    if (this.report.badRecords.length < this.maxBad) this.report.badRecords.push(b);
  }

  /** Any parsed line of the log; only request records are replayed. Returns a problem string for a malformed request record. */
  add(rec: Record<string, unknown>): string | null {
    const rep = this.report;
    rep.records.read++;
    if (rec.kind !== undefined && rec.kind !== 'request') return this.skip(`kind:${String(rec.kind)}`);
    const problem = shapeProblem(rec);
    if (problem) {
      rep.records.read--; // counted by bad()
      return problem;
    }
    const r = rec as unknown as ReplayRecord;
    rep.records.requests++;
    if (r.outcome === 'invalid') return this.skip('invalid (never reached the gates)');
    if (r.code === 'audit_unavailable') return this.skip('refused before the gates (audit unavailable)');
    const p = this.opts.principals(r.principal);
    if (!p) return this.skip('principal not found');
    const now = this.fixedAt ?? r.requestTime ?? r.time ?? 0;
    // Abuse actions are carried over: a recorded abuse refusal stays, a degrade starts the chain at the degraded model.
    let start = r.modelRequested;
    let fixed: Decision | null = null;
    if (r.code !== undefined && r.code.startsWith('abuse_')) {
      if (r.outcome === 'refused') fixed = { kind: 'refused', code: r.code, status: r.status ?? 403, by: 'abuse' };
      else if (r.modelServed) start = r.modelServed;
    }
    const limit: Decision | null = r.outcome === 'refused' && (r.status === 429 || r.ref?.limit !== undefined) ? { kind: 'refused', code: r.code ?? 'rate_limited', status: r.status ?? 429, by: 'limits' } : null;
    // What the request used, as recorded (a request refused in the recording used nothing: it is charged its input only).
    const usage = { inputTokens: num(r.inputTokens), outputTokens: num(r.outputTokens), costUsd: num(r.costUsd) };
    const base = fixed ?? decideRequest(this.opts.baseline, p, start, r.labels, now, limit, usage);
    const draft = fixed ?? decideRequest(this.opts.draft, p, start, r.labels, now, limit, usage);
    if (base.kind === 'undetermined' && draft.kind === 'undetermined') return this.skip(`undetermined: ${base.why}`);
    rep.records.replayed++;
    this.fidelity(r, base);
    const t = transition(base, draft);
    if (t === null) {
      rep.unchanged++;
      return null;
    }
    this.tally(t, r, p, base, draft);
    return null;
  }

  result(): ReplayReport {
    for (const [t, a] of this.who) {
      const g = this.report.changes[t];
      g.keys = a.keys.size;
      g.accounts = a.accounts.size;
      g.orgs = a.orgs.size;
    }
    return this.report;
  }

  /** The distinct keys, accounts and organisations of the requests in these transitions (organisation-less principals are not counted as an organisation). */
  distinct(transitions: readonly Transition[]): Affected {
    const out: Affected = { keys: new Set(), accounts: new Set(), orgs: new Set() };
    for (const t of transitions) {
      const a = this.who.get(t);
      if (!a) continue;
      for (const k of a.keys) out.keys.add(k);
      for (const k of a.accounts) out.accounts.add(k);
      for (const k of a.orgs) out.orgs.add(k);
    }
    return out;
  }

  private skip(why: string): null {
    const s = this.report.records.skipped;
    s[why] = (s[why] ?? 0) + 1;
    return null;
  }

  private fidelity(r: ReplayRecord, base: Decision): void {
    if (base.kind === 'undetermined') return;
    const rec = recordedDecision(r);
    const agree = rec.kind === base.kind && (rec.kind !== 'refused' || rec.code === (base as { code: string }).code);
    const f = this.report.fidelity;
    if (agree) f.agree++;
    else {
      f.disagree++;
      if (f.examples.length < this.examples) f.examples.push({ requestId: r.requestId, recorded: describe(rec), baseline: describe(base) });
    }
  }

  private tally(t: Transition, r: ReplayRecord, p: Principal, base: Decision, draft: Decision): void {
    const g = this.report.changes[t];
    g.count++;
    if (g.examples.length < this.examples) g.examples.push(r.requestId);
    bump(g.byModel, r.modelRequested);
    bump(g.byOrg, p.orgId ?? '(none)');
    let who = this.who.get(t);
    if (!who) this.who.set(t, (who = { keys: new Set(), accounts: new Set(), orgs: new Set() }));
    who.keys.add(r.principal.keyId ?? p.keyId);
    who.accounts.add(r.principal.accountId ?? p.accountId);
    const org = p.orgId ?? r.principal.orgId;
    if (org) who.orgs.add(org);
    bump(g.byReason, reason(t, base, draft));
    const a = g.byAttribute;
    bump(a, `kyc:${p.kyc}`);
    bump(a, `tier:${p.tier}`);
    bump(a, `residence:${p.residence ?? '(unknown)'}`);
    for (const n of p.nationalities) bump(a, `nationality:${n}`);
    for (const pr of p.programmes) bump(a, `programme:${pr}`);
    if (p.staff) bump(a, 'staff');
  }
}

function transition(base: Decision, draft: Decision): Transition | null {
  if (draft.kind === 'undetermined' || base.kind === 'undetermined') return base.kind === draft.kind ? null : 'undetermined';
  if (base.kind === 'served' && draft.kind === 'served') return base.model === draft.model ? null : 'rerouted';
  if (base.kind === 'served') return 'served→refused';
  if (draft.kind === 'served') return 'refused→served';
  return base.code === draft.code ? null : 'reason-changed';
}

/** The reason a change is filed under: the code that now decides (or no longer does). */
function reason(t: Transition, base: Decision, draft: Decision): string {
  switch (t) {
    case 'served→refused':
      return (draft as { code: string }).code;
    case 'refused→served':
      return (base as { code: string }).code;
    case 'rerouted':
      return `${(base as { model: string }).model}→${(draft as { model: string }).model}`;
    case 'reason-changed':
      return `${(base as { code: string }).code}→${(draft as { code: string }).code}`;
    default:
      return draft.kind === 'undetermined' ? `draft: ${draft.why}` : `baseline: ${(base as { why: string }).why}`;
  }
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0;
}

function shapeProblem(rec: Record<string, unknown>): string | null {
  if (typeof rec.requestId !== 'string') return 'request record without a string requestId';
  if (typeof rec.modelRequested !== 'string') return 'request record without a string modelRequested';
  if (typeof rec.outcome !== 'string') return 'request record without a string outcome';
  const p = rec.principal;
  if (p === null || typeof p !== 'object') return 'request record without a principal object';
  if (rec.labels !== undefined && (rec.labels === null || typeof rec.labels !== 'object')) return 'request record with labels that are not an object';
  return null;
}
