/**
 * Gates and decisions: the gate chain for a model (following routes, bounded), the decision for each fallback of
 * the plan before it is tried, and the per-model explanation a refusal carries.
 */
import type { CanonicalRequest } from '../../core/canonical.ts';
import type { GateInput } from '../../core/gates.ts';
import type { RequestEvent } from '../../core/types.ts';
import { truncateEcho } from '../../core/echo.ts';
import { GatewayError } from '../../protocol/errors.ts';
import type { CatalogueModel } from '../catalogue.ts';
import type { RequestPathDeps } from './context.ts';
import { verdictError, type Refusal } from './errors.ts';
import type { RequestState } from './state.ts';

const MAX_REROUTES = 4;

export type ModelDecision =
  | { ok: true; model: CatalogueModel; routeCode: string; routeRef: RequestEvent['ref']; allowRef: RequestEvent['ref'] }
  | { ok: false; verdict: Refusal; error?: undefined }
  | { ok: false; verdict?: undefined; error: GatewayError };

/** One model of a refused request's plan and what was decided for it (shown in the refusal body). */
export interface PlanEntry {
  model: string;
  decision: 'allow' | 'refuse' | 'route';
  code?: string;
  to?: string;
}

export class Decisions {
  constructor(private readonly deps: RequestPathDeps) {}

  /**
   * Runs the gate chain for `start` and follows routes (bounded), so the decision is for the model that would
   * serve. `explainOnly` skips gates that admit or charge (limits): used when a decision is reported, not acted on.
   */
  async decideModel(state: RequestState, req: CanonicalRequest, start: CatalogueModel, explainOnly: boolean): Promise<ModelDecision> {
    const catalogue = this.deps.catalogue();
    const principal = state.principal!;
    const memo = state.memo!;
    let model = start;
    let reroutes = 0;
    let routeCode = '';
    let routeRef: RequestEvent['ref'];
    // The first reference an allowing gate gives for the serving model (the policy rule, the licence that covers it).
    let allowRef: RequestEvent['ref'];
    gateLoop: for (;;) {
      allowRef = undefined;
      const input: GateInput = { requestId: state.requestId, principal, model: model.config.name, request: req, now: state.time, memo };
      for (const gate of this.deps.gates()) {
        if (explainOnly && gate.admits) continue;
        const span = state.span?.gate(gate.name, input.model);
        let v = gate.check(input);
        if (v instanceof Promise) v = await v;
        if (span) span.end(v.action === 'allow' ? { 'gatehouse.decision': 'allow' } : { 'gatehouse.decision': v.action, 'gatehouse.code': v.code });
        if (v.action === 'allow') {
          if (v.ref && !allowRef) allowRef = v.ref;
          continue;
        }
        if (v.action === 'refuse') return { ok: false, verdict: v };
        // route; a route to the model already chosen (a gate re-checking after an earlier route) is an allow
        if (v.model === model.config.name) continue;
        const target = catalogue.models.get(v.model);
        if (!target || ++reroutes > MAX_REROUTES) {
          return { ok: false, error: new GatewayError({ status: 503, kind: 'overloaded', code: 'route_failed', message: `The request was routed to '${truncateEcho(v.model)}', which cannot serve it.` }) };
        }
        routeCode = v.code;
        routeRef = v.ref;
        model = target;
        continue gateLoop;
      }
      return { ok: true, model, routeCode, routeRef, allowRef };
    }
  }

  /**
   * Decides a fallback of the plan for this principal before it is tried: the model that may serve in its place
   * (itself, or where a gate routes it), or null when it is refused — then it is recorded as skipped, never tried.
   */
  async admitFallback(state: RequestState, req: CanonicalRequest, target: CatalogueModel, tried: readonly CatalogueModel[]): Promise<CatalogueModel | null> {
    const d = await this.decideModel(state, req, target, false);
    if (d.ok) return tried.includes(d.model) ? null : d.model;
    (state.skipped ??= []).push({ model: target.config.name, code: d.verdict ? d.verdict.code : d.error.code });
    this.deps.metrics.fallbacksSkipped.labels(state.modelRequested, target.config.name).inc();
    return null;
  }

  /** The decision for every model of a refused request's plan (the refused one first), for the refusal body. */
  async explainPlan(state: RequestState, req: CanonicalRequest, requested: CatalogueModel, refusal: Refusal): Promise<PlanEntry[]> {
    const out: PlanEntry[] = [{ model: requested.config.name, decision: 'refuse', code: refusal.code }];
    for (const m of requested.plan) {
      if (m === requested) continue;
      const d = await this.decideModel(state, req, m, true);
      if (!d.ok) out.push({ model: m.config.name, decision: 'refuse', code: d.verdict ? d.verdict.code : d.error.code });
      else if (d.model !== m) out.push({ model: m.config.name, decision: 'route', to: d.model.config.name, code: d.routeCode });
      else out.push({ model: m.config.name, decision: 'allow' });
    }
    return out;
  }

  /**
   * Records a refusal on the state and builds its error; the refusal says what was decided for every model the
   * request could have been served by.
   */
  async refusalError(state: RequestState, req: CanonicalRequest, model: CatalogueModel, verdict: Refusal): Promise<GatewayError> {
    const err = verdictError(verdict);
    if (model.plan.length > 1) (err.detail as Record<string, unknown>).plan = await this.explainPlan(state, req, model, verdict);
    return err;
  }
}
