/**
 * One chat request from parsed body to response. The phases live in `request/`, one file each:
 * authenticate and plan (`plan.ts`), gates and decisions (`decide.ts`), attempts (`attempts.ts`), the streaming
 * attempt (`stream-attempt.ts`), and the one outcome handler — durability, response, event (`outcome.ts`) — over
 * typed per-request state (`state.ts`). The HTTP framework stays outside: this module sees Node's raw
 * request/response only.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CanonicalRequest } from '../core/canonical.ts';
import type { GatewayError } from '../protocol/errors.ts';
import type { CatalogueModel } from './catalogue.ts';
import type { IngressProtocol } from './protocols.ts';
import { Cancellation } from '../providers/types.ts';
import { completeRequest } from './request/attempts.ts';
import { MetricChildren, type RequestPathDeps } from './request/context.ts';
import type { Attempting, PathParts } from './request/phases.ts';
import { Decisions } from './request/decide.ts';
import { overloaded } from './request/errors.ts';
import { Outcomes } from './request/outcome.ts';
import { authenticateAndPlan } from './request/plan.ts';
import { collectLabels, newRequestState, type RequestState } from './request/state.ts';
import { streamRequest } from './request/stream-attempt.ts';

export { bearerOrApiKey, type KeyLookup, type KeyLookupResult, type RequestPathDeps, type StreamModerator } from './request/context.ts';

export class RequestPath {
  /** Requests between arrival and their last byte; shutdown waits for this to reach zero. */
  inFlight = 0;
  private readonly parts: PathParts;

  constructor(private readonly deps: RequestPathDeps) {
    const children = new MetricChildren();
    this.parts = { deps, children, outcomes: new Outcomes(deps, children), decisions: new Decisions(deps) };
  }

  /** Sends a protocol-formatted error for failures that happen before the request path (parse, size, UTF-8). */
  sendEarlyError(protocol: IngressProtocol, raw: IncomingMessage, res: ServerResponse, err: GatewayError): void {
    const state = this.newState(protocol, raw);
    state.outcome = 'invalid';
    void this.parts.outcomes.finishWithError(state, res, err);
  }

  async handle(protocol: IngressProtocol, raw: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    this.inFlight++;
    const state = this.newState(protocol, raw);
    try {
      const overload = this.deps.overload?.();
      if (overload && this.inFlight > overload.maxInFlight) {
        state.outcome = 'refused';
        return await this.parts.outcomes.finishWithError(state, res, overloaded(overload.retryAfterSeconds));
      }
      await this.handleRequest(state, raw, res, body);
    } catch (err) {
      // The reply was taken over from the framework: nobody else would answer, log or record this request.
      await this.parts.outcomes.failUnexpectedly(state, res, err);
    } finally {
      this.inFlight--;
    }
  }

  private newState(protocol: IngressProtocol, raw: IncomingMessage): RequestState {
    const state = newRequestState(protocol, raw);
    const tracing = this.deps.tracing?.();
    if (tracing) {
      state.span = tracing.startRequest(raw.headers.traceparent, 'chat');
      state.traceId = state.span.traceId;
    }
    return state;
  }

  private async handleRequest(state: RequestState, raw: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const { outcomes } = this.parts;
    const planned = authenticateAndPlan(this.deps, state, raw, body);
    if (!('req' in planned)) return outcomes.finishWithError(state, res, planned);
    const { req } = planned;
    const model = await this.decide(state, req, planned.model, res);
    if (!model) return;
    const ctrl = new Cancellation();
    const onClose = () => {
      if (!res.writableFinished) ctrl.abort();
    };
    res.on('close', onClose);
    const deadline = setTimeout(() => ctrl.abort(), planned.catalogue.config.routing.deadlineMs);
    try {
      const moderator = this.deps.moderator?.({ requestId: state.requestId, principal: state.principal!, model: model.config.name, request: req, now: state.time, memo: state.memo! }) ?? null;
      const a: Attempting = { state, req, model, res, signal: ctrl, moderator };
      if (req.stream) await streamRequest(this.parts, a);
      else await completeRequest(this.parts, a);
    } finally {
      clearTimeout(deadline);
      res.off('close', onClose);
    }
  }

  /**
   * Gates: a route restarts the gate chain on the new model, so every gate sees the model that will serve. The
   * model to attempt, or null when the request was answered here (refusal, safe completion, failed route).
   */
  private async decide(state: RequestState, req: CanonicalRequest, model: CatalogueModel, res: ServerResponse): Promise<CatalogueModel | null> {
    const { outcomes, decisions } = this.parts;
    state.memo = new Map<string, unknown>();
    const decision = await decisions.decideModel(state, req, model, false);
    collectLabels(state);
    if (decision.ok) {
      // What allowed it (the policy rule, the licence) goes into the audit record: the export-control report and
      // replay read it instead of re-deciding.
      if (decision.allowRef) state.verdictRef = decision.allowRef;
      if (decision.model === model) return model;
      state.code = decision.routeCode;
      if (decision.routeRef) state.verdictRef = decision.routeRef;
      return decision.model;
    }
    state.outcome = 'refused';
    if (!decision.verdict) {
      state.code = decision.error.code;
      await outcomes.finishWithError(state, res, decision.error);
      return null;
    }
    const v = decision.verdict;
    state.code = v.code;
    if (v.ref) state.verdictRef = v.ref;
    if (v.safeCompletion !== undefined) await outcomes.safeCompletion(state, req, model, res, v.safeCompletion);
    else await outcomes.finishWithError(state, res, await decisions.refusalError(state, req, model, v));
    return null;
  }
}
