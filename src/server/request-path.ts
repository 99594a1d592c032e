/**
 * One chat request from parsed body to response: authenticate, look up the model, run the gates, try the
 * attempt plan with fallbacks, write the response (or stream), and emit one RequestEvent. The HTTP framework
 * stays outside: this module sees Node's raw request/response only.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { CanonicalRequest, CanonicalResponse, StreamEvent } from '../core/canonical.ts';
import type { DurableSink, EventSink, GateInput, RequestGate } from '../core/gates.ts';
import type { Outcome, Principal, RequestEvent, SkippedModel, Verdict } from '../core/types.ts';
import { truncateEcho } from '../core/echo.ts';
import { GatewayError, kindForStatus } from '../protocol/errors.ts';
import { UpstreamFailure } from '../providers/types.ts';
import type { GatewayMetrics } from '../observability/metrics.ts';
import { charsCounter, countRequestTokens, type TokenCounter } from '../meter/tokenizer.ts';
import type { Catalogue, CatalogueModel } from './catalogue.ts';
import type { IngressProtocol } from './protocols.ts';

import type { KeyLookupResult } from '../core/types.ts';
export type { KeyLookupResult };

export interface KeyLookup {
  lookup(secret: string | undefined): KeyLookupResult;
}

export interface RequestPathDeps {
  catalogue(): Catalogue;
  keys: KeyLookup;
  gates(): readonly RequestGate[];
  sinks(): readonly EventSink[];
  durable(): DurableSink | null;
  /** When the durable sink is unhealthy: refuse (503) or serve unaudited. */
  refuseWhenUnaudited: boolean;
  metrics: GatewayMetrics;
  logger: Logger;
  /** Optional prompt hashing/sketching for audit and abuse (keyed hash; never the text). */
  fingerprint?(req: CanonicalRequest): { promptHash?: string; promptSketch?: string; promptShape?: string; reasoningRequested?: boolean };
  /** Optional hook to wrap streamed text (output moderation). */
  moderator?(input: GateInput): StreamModerator | null;
  /** Counts tokens when an upstream reports no usage (default: characters / 4). */
  tokens?: TokenCounter;
  /** Requests handled at once before new ones are answered 503 overloaded, and the retry-after sent then. */
  overload?: () => { maxInFlight: number; retryAfterSeconds: number };
}

/** Incremental output moderation: text goes out only as `release` says; a verdict ends the stream. */
export interface StreamModerator {
  push(text: string): { release: string; verdict?: Verdict };
  end(): { release: string; verdict?: Verdict };
}

const MAX_REROUTES = 4;

type ModelDecision =
  | { ok: true; model: CatalogueModel; routeCode: string; routeRef: RequestEvent['ref'] }
  | { ok: false; verdict: Extract<Verdict, { action: 'refuse' }>; error?: undefined }
  | { ok: false; verdict?: undefined; error: GatewayError };

/** One model of a refused request's plan and what was decided for it (shown in the refusal body). */
interface PlanEntry {
  model: string;
  decision: 'allow' | 'refuse' | 'route';
  code?: string;
  to?: string;
}

interface RequestState {
  requestId: string;
  started: number; // performance.now()
  time: number; // epoch ms
  protocol: IngressProtocol;
  principal: Principal | null;
  modelRequested: string;
  modelServed: string | null;
  stream: boolean;
  upstreamMs: number;
  inputTokens: number;
  outputTokens: number;
  usageEstimated: boolean;
  costUsd: number;
  outcome: Outcome;
  status: number;
  code?: string;
  verdictRef?: RequestEvent['ref'];
  labels?: Record<string, number>;
  promptHash?: string;
  promptSketch?: string;
  promptShape?: string;
  reasoningRequested?: boolean;
  netPrefix?: string;
  userAgent?: string;
  /** Scratch space the gates share across the decisions of one request (classifier scores, admitted limits). */
  memo?: Map<string, unknown>;
  /** Fallbacks decided against for this principal, skipped. */
  skipped?: SkippedModel[];
  /** The event as made durable; emitted as is (with the final latency) so audit and sinks see the same record. */
  event?: RequestEvent;
  /** Parsed request, kept for the durable sink when it wants the text. */
  request?: CanonicalRequest;
  /** The reply's text as it passes, collected only when the durable sink wants text; null otherwise. */
  responseText: string | null;
  /** The stream writer once a stream has started (its error event ends a stream that fails unexpectedly). */
  writer?: ReturnType<IngressProtocol['streamWriter']>;
  /** Set once the request's event went to the sinks: it is never emitted twice. */
  emitted?: boolean;
}

const AUDIT_UNAVAILABLE_MESSAGE = 'The gateway could not record this request and refuses to serve unaudited ones. Try again later.';

export function bearerOrApiKey(req: IncomingMessage): string | undefined {
  const x = req.headers['x-api-key'];
  if (typeof x === 'string' && x) return x;
  const a = req.headers.authorization;
  if (typeof a === 'string' && a.length > 7 && a.slice(0, 7).toLowerCase() === 'bearer ') return a.slice(7).trim();
  return undefined;
}

function netPrefixOf(ip: string | undefined): string | undefined {
  if (!ip) return undefined;
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(v4)) return v4.slice(0, v4.lastIndexOf('.')) + '.0/24';
  const parts = ip.split(':');
  return parts.slice(0, 3).join(':') + '::/48';
}

function verdictError(v: Extract<Verdict, { action: 'refuse' }>): GatewayError {
  const detail: Record<string, unknown> = { code: v.code };
  if (v.ref) Object.assign(detail, v.ref);
  if (v.requires?.length) detail.requires = v.requires;
  return new GatewayError({
    status: v.status,
    kind: kindForStatus(v.status),
    code: v.code,
    message: v.message,
    detail,
    ...(v.retryAfter !== undefined ? { retryAfter: v.retryAfter } : {}),
  });
}

/** The error for a request whose every allowed attempt failed; skipped fallbacks are named in its detail. */
function failureError(f: UpstreamFailure | null, skipped?: SkippedModel[]): GatewayError {
  const err = upstreamFailureError(f);
  if (!skipped) return err;
  return new GatewayError({ status: err.status, kind: err.kind, code: err.code, message: `${err.message} Fallbacks not allowed for this key were skipped: ${skipped.map((s) => s.model).join(', ')}.`, detail: { code: err.code, skipped } });
}

function upstreamFailureError(f: UpstreamFailure | null): GatewayError {
  if (!f) return new GatewayError({ status: 502, kind: 'upstream', code: 'upstream_unavailable', message: 'No upstream attempt could be made.' });
  if (f.kind === 'timeout') return new GatewayError({ status: 504, kind: 'timeout', code: 'upstream_timeout', message: 'Every upstream attempt timed out.' });
  if (f.kind === 'status' && f.status !== undefined && f.status < 500 && f.status !== 408 && f.status !== 429) {
    return new GatewayError({ status: 400, kind: 'invalid_request', code: 'upstream_rejected', message: `The upstream rejected the request (status ${f.status}).` });
  }
  if (f.kind === 'status' && (f.status === 503 || f.status === 429 || f.status === 529)) {
    return new GatewayError({ status: 503, kind: 'overloaded', code: 'upstream_overloaded', message: 'Every upstream attempt failed: the upstream is overloaded or unavailable.' });
  }
  return new GatewayError({ status: 502, kind: 'upstream', code: 'upstream_failed', message: `Every upstream attempt failed (last: ${f.kind}${f.status ? ` ${f.status}` : ''}).` });
}

export class RequestPath {
  /** Requests between arrival and their last byte; shutdown waits for this to reach zero. */
  inFlight = 0;
  constructor(private readonly deps: RequestPathDeps) {}

  /** Sends a protocol-formatted error for failures that happen before the request path (parse, size, UTF-8). */
  sendEarlyError(protocol: IngressProtocol, raw: IncomingMessage, res: ServerResponse, err: GatewayError): void {
    const state = this.newState(protocol, raw);
    state.outcome = 'invalid';
    void this.finishWithError(state, res, err);
  }

  private newState(protocol: IngressProtocol, raw: IncomingMessage): RequestState {
    return {
      requestId: randomUUID(),
      started: performance.now(),
      time: Date.now(),
      protocol,
      principal: null,
      modelRequested: '',
      modelServed: null,
      stream: false,
      upstreamMs: 0,
      inputTokens: 0,
      outputTokens: 0,
      usageEstimated: false,
      costUsd: 0,
      outcome: 'ok',
      status: 200,
      responseText: null,
      netPrefix: netPrefixOf(raw.socket.remoteAddress),
      userAgent: typeof raw.headers['user-agent'] === 'string' ? raw.headers['user-agent'].slice(0, 200) : undefined,
    };
  }

  async handle(protocol: IngressProtocol, raw: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    this.inFlight++;
    const state = this.newState(protocol, raw);
    try {
      const overload = this.deps.overload?.();
      if (overload && this.inFlight > overload.maxInFlight) {
        // Shed at once rather than queue: every queued request would wait behind the backlog and time out anyway.
        state.outcome = 'refused';
        return await this.finishWithError(state, res, new GatewayError({ status: 503, kind: 'overloaded', code: 'overloaded', message: 'The gateway is handling too many requests right now. Retry shortly.', retryAfter: overload.retryAfterSeconds }));
      }
      await this.handleRequest(state, raw, res, body);
    } catch (err) {
      // The reply was taken over from the framework: nobody else would answer, log or record this request.
      await this.failUnexpectedly(state, res, err);
    } finally {
      this.inFlight--;
    }
  }

  /**
   * Last resort for an exception anywhere on the request path: a log line with the request id, the caller's
   * protocol error (500, or the stream's error event once a stream has started), and the request's audit record.
   */
  private async failUnexpectedly(state: RequestState, res: ServerResponse, err: unknown): Promise<void> {
    try {
      const e = err as Error;
      this.deps.logger.error({ requestId: state.requestId, err: { type: e?.name, message: e?.message, stack: e?.stack } }, 'request failed unexpectedly');
      if (state.emitted) {
        if (!res.writableEnded) res.destroy();
        return;
      }
      state.outcome = 'internal_error';
      state.code = 'internal_error';
      const error = new GatewayError({ status: 500, kind: 'internal', code: 'internal_error', message: `The gateway failed to handle this request (request id ${state.requestId}).` });
      state.status = 500;
      if (res.headersSent) {
        // Mid-stream: the stream ends with the protocol's error event instead of its stop event.
        await this.durableAppend(state);
        if (state.writer && !res.destroyed && !res.writableEnded) res.end(state.writer.error(error));
        else if (!res.writableEnded) res.destroy();
        return this.emit(state);
      }
      return await this.finishWithError(state, res, error);
    } catch (again) {
      this.deps.logger.error({ requestId: state.requestId, err: (again as Error)?.message }, 'request failure could not be reported');
      if (!res.writableEnded) res.destroy();
    }
  }

  private async handleRequest(state: RequestState, raw: IncomingMessage, res: ServerResponse, body: unknown): Promise<void> {
    const protocol = state.protocol;
    const auth = this.deps.keys.lookup(bearerOrApiKey(raw));
    if (!auth.ok) {
      state.outcome = 'invalid';
      const message =
        auth.reason === 'missing'
          ? 'Missing API key. Send it as `Authorization: Bearer <key>` or `x-api-key: <key>`.'
          : auth.reason === 'revoked'
            ? 'This API key has been revoked.'
            : 'Invalid API key.';
      return this.finishWithError(state, res, new GatewayError({ status: 401, kind: 'authentication', code: auth.reason === 'revoked' ? 'key_revoked' : auth.reason === 'missing' ? 'missing_api_key' : 'invalid_api_key', message }));
    }
    state.principal = auth.principal;

    let req: CanonicalRequest;
    try {
      req = protocol.parseRequest(body);
    } catch (err) {
      state.outcome = 'invalid';
      if (body && typeof body === 'object' && typeof (body as { model?: unknown }).model === 'string') state.modelRequested = truncateEcho((body as { model: string }).model);
      return this.finishWithError(state, res, err instanceof GatewayError ? err : new GatewayError({ status: 400, kind: 'invalid_request', code: 'invalid_request', message: 'Invalid request.' }));
    }
    state.modelRequested = truncateEcho(req.model);
    state.stream = req.stream;
    const catalogue = this.deps.catalogue();
    let model = catalogue.models.get(req.model);
    if (!model || model.config.hidden) {
      state.outcome = 'invalid';
      return this.finishWithError(state, res, new GatewayError({ status: 404, kind: 'not_found', code: 'model_not_found', param: 'model', message: `The model '${state.modelRequested}' does not exist or you do not have access to it.` }));
    }
    if (this.deps.fingerprint) Object.assign(state, this.deps.fingerprint(req));

    const durable = this.deps.durable();
    if (durable?.wantsText) {
      state.request = req;
      state.responseText = '';
    }
    if (durable && !durable.healthy && this.deps.refuseWhenUnaudited) {
      state.outcome = 'refused';
      return this.finishWithError(state, res, new GatewayError({ status: 503, kind: 'overloaded', code: 'audit_unavailable', message: 'The gateway cannot record requests right now and refuses to serve unaudited ones. Try again later.' }));
    }

    // Gates: a route restarts the gate chain on the new model, so every gate sees the model that will serve.
    const memo = new Map<string, unknown>();
    state.memo = memo;
    const decision = await this.decideModel(state, req, model, false);
    if (!decision.ok) {
      this.collectLabels(state, memo);
      if (decision.verdict) {
        state.outcome = 'refused';
        state.code = decision.verdict.code;
        if (decision.verdict.ref) state.verdictRef = decision.verdict.ref;
        if (decision.verdict.safeCompletion !== undefined) return this.answerWithSafeCompletion(state, req, model, res, decision.verdict.safeCompletion);
        const err = verdictError(decision.verdict);
        // The refusal says what was decided for every model the request could have been served by.
        if (model.plan.length > 1) (err.detail as Record<string, unknown>).plan = await this.explainPlan(state, req, model, decision.verdict);
        return this.finishWithError(state, res, err);
      }
      state.outcome = 'refused';
      state.code = decision.error.code;
      return this.finishWithError(state, res, decision.error);
    }
    if (decision.model !== model) {
      state.code = decision.routeCode;
      if (decision.routeRef) state.verdictRef = decision.routeRef;
      model = decision.model;
    }
    this.collectLabels(state, memo);

    const ctrl = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) ctrl.abort();
    };
    res.on('close', onClose);
    const deadline = setTimeout(() => ctrl.abort(), catalogue.config.routing.deadlineMs);
    try {
      const moderator = this.deps.moderator?.({ requestId: state.requestId, principal: auth.principal, model: model.config.name, request: req, now: state.time, memo }) ?? null;
      if (req.stream) await this.stream(state, req, model, res, ctrl.signal, moderator);
      else await this.complete(state, req, model, res, ctrl.signal, moderator);
    } finally {
      clearTimeout(deadline);
      res.off('close', onClose);
    }
  }

  /**
   * Runs the gate chain for `start` and follows routes (bounded), so the decision is for the model that would
   * serve. `explainOnly` skips gates that admit or charge (limits): used when a decision is reported, not acted on.
   */
  private async decideModel(state: RequestState, req: CanonicalRequest, start: CatalogueModel, explainOnly: boolean): Promise<ModelDecision> {
    const catalogue = this.deps.catalogue();
    const principal = state.principal!;
    const memo = state.memo!;
    let model = start;
    let reroutes = 0;
    let routeCode = '';
    let routeRef: RequestEvent['ref'];
    gateLoop: for (;;) {
      const input: GateInput = { requestId: state.requestId, principal, model: model.config.name, request: req, now: state.time, memo };
      for (const gate of this.deps.gates()) {
        if (explainOnly && gate.admits) continue;
        let v = gate.check(input);
        if (v instanceof Promise) v = await v;
        if (v.action === 'allow') continue;
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
      return { ok: true, model, routeCode, routeRef };
    }
  }

  /**
   * Decides a fallback of the plan for this principal before it is tried: the model that may serve in its place
   * (itself, or where a gate routes it), or null when it is refused — then it is recorded as skipped, never tried.
   */
  private async admitFallback(state: RequestState, req: CanonicalRequest, target: CatalogueModel, tried: readonly CatalogueModel[]): Promise<CatalogueModel | null> {
    const d = await this.decideModel(state, req, target, false);
    if (d.ok) return tried.includes(d.model) ? null : d.model;
    (state.skipped ??= []).push({ model: target.config.name, code: d.verdict ? d.verdict.code : d.error.code });
    this.deps.metrics.fallbacksSkipped.labels(state.modelRequested, target.config.name).inc();
    return null;
  }

  /** The decision for every model of a refused request's plan (the refused one first), for the refusal body. */
  private async explainPlan(state: RequestState, req: CanonicalRequest, requested: CatalogueModel, refusal: Extract<Verdict, { action: 'refuse' }>): Promise<PlanEntry[]> {
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
   * A refusal that carries a safe completion (e.g. a supportive reply to a self-harm request): the caller gets it as
   * a normal assistant reply (200, streaming or not) without any model being called. The outcome stays `refused`
   * with the verdict's code, so audit, metering and metrics count it as the refusal it is;
   * `x-gatehouse-safe-completion` carries the code.
   */
  private async answerWithSafeCompletion(state: RequestState, req: CanonicalRequest, model: CatalogueModel, res: ServerResponse, text: string): Promise<void> {
    if (state.responseText !== null) state.responseText = text;
    if (!(await this.durableAppend(state))) return this.refuseUnaudited(state, res);
    if (res.destroyed) {
      state.outcome = 'client_closed';
      state.status = 499;
      return this.emit(state);
    }
    const created = Math.floor(state.time / 1000);
    const name = model.config.name;
    const headers = { 'x-request-id': state.requestId, 'x-gatehouse-safe-completion': state.code ?? 'safe_completion' };
    if (req.stream) {
      const w = state.protocol.streamWriter(state.protocol.responseId(state.requestId), name, created, req.includeUsage);
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...headers });
      res.end(
        w.write({ type: 'start', id: state.requestId, model: name, inputTokens: 0 }) +
          w.write({ type: 'text_delta', index: 0, text }) +
          w.write({ type: 'block_stop', index: 0 }) +
          w.write({ type: 'stop', stopReason: 'end_turn', usage: { inputTokens: 0, outputTokens: 0 } }),
      );
      return this.emit(state);
    }
    const response: CanonicalResponse = { id: state.requestId.replace(/-/g, ''), model: name, content: [{ type: 'text', text }], stopReason: 'end_turn', usage: { inputTokens: 0, outputTokens: 0 } };
    const body = state.protocol.responseBody(response, name, created);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
    res.end(body);
    return this.emit(state);
  }

  private collectLabels(state: RequestState, memo: Map<string, unknown>): void {
    const labels = memo.get('labels');
    if (labels && typeof labels === 'object') state.labels = labels as Record<string, number>;
  }

  private async complete(state: RequestState, req: CanonicalRequest, model: CatalogueModel, res: ServerResponse, signal: AbortSignal, moderator: StreamModerator | null): Promise<void> {
    let lastFailure: UpstreamFailure | null = null;
    const deadlineAt = state.started + this.deps.catalogue().config.routing.deadlineMs;
    let tried: CatalogueModel[] | null = null; // only once a fallback is reached: the common path allocates nothing
    for (const planned of model.plan) {
      if (deadlineAt - performance.now() <= 0 || signal.aborted) break;
      let target: CatalogueModel | null = model;
      if (planned !== model) {
        tried ??= [model];
        target = await this.admitFallback(state, req, planned, tried);
        if (!target) continue;
        tried.push(target);
      }
      const remaining = deadlineAt - performance.now();
      if (remaining <= 0 || signal.aborted) break;
      const t0 = performance.now();
      try {
        const response = await target.provider.complete(req, { upstreamModel: target.config.upstreamModel, signal, timeoutMs: Math.min(target.config.timeoutMs, remaining) });
        state.upstreamMs += performance.now() - t0;
        this.child(this.deps.metrics.upstreamDuration, `${target.provider.name}\0false`, () => [target.provider.name, 'false']).observe((performance.now() - t0) / 1000);
        if (target !== model) this.deps.metrics.fallbacks.labels(model.config.name, target.config.name).inc();
        state.modelServed = target.config.name;
        this.account(state, target, req, response.usage.inputTokens, response.usage.outputTokens, response);
        response.usage.inputTokens = state.inputTokens;
        response.usage.outputTokens = state.outputTokens;
        if (state.responseText !== null) state.responseText = responseTextOf(response);
        if (moderator) this.moderateWhole(state, response, moderator);
        return this.finishWithBody(state, res, response, target);
      } catch (err) {
        state.upstreamMs += performance.now() - t0;
        const f = err instanceof UpstreamFailure ? err : new UpstreamFailure('bad_response', 'Unexpected upstream error.');
        if (f.kind !== 'aborted') this.deps.metrics.upstreamErrors.labels(target.provider.name, f.kind).inc();
        lastFailure = f;
        if (!f.retryable) break;
      }
    }
    if (signal.aborted && !res.writableEnded && res.destroyed) {
      state.outcome = 'client_closed';
      state.status = 499;
      res.destroy();
      return this.emit(state);
    }
    state.outcome = 'upstream_error';
    return this.finishWithError(state, res, failureError(lastFailure, state.skipped));
  }

  private async stream(state: RequestState, req: CanonicalRequest, model: CatalogueModel, res: ServerResponse, signal: AbortSignal, moderator: StreamModerator | null): Promise<void> {
    let lastFailure: UpstreamFailure | null = null;
    const deadlineAt = state.started + this.deps.catalogue().config.routing.deadlineMs;
    const created = Math.floor(state.time / 1000);
    // What the upstream streamed, for the output count when its usage never arrives (a disconnect, a break).
    let streamedText = '';
    let usageIn: number | undefined;
    let usageOut: number | undefined;
    let moderatedStop: Verdict | undefined;

    let tried: CatalogueModel[] | null = null; // only once a fallback is reached: the common path allocates nothing
    for (const planned of model.plan) {
      if (deadlineAt - performance.now() <= 0 || signal.aborted) break;
      let target: CatalogueModel | null = model;
      if (planned !== model) {
        tried ??= [model];
        target = await this.admitFallback(state, req, planned, tried);
        if (!target) continue;
        tried.push(target);
      }
      const remaining = deadlineAt - performance.now();
      if (remaining <= 0 || signal.aborted) break;
      const t0 = performance.now();
      let writer: ReturnType<IngressProtocol['streamWriter']> | null = null;
      let stopEvent: Extract<StreamEvent, { type: 'stop' }> | null = null;
      let heldStart: StreamEvent | null = null;
      // Events parsed from one upstream read go out as one string in one res.write, not one write per event:
      // every res.write costs the Writable machinery and its own chunked-encoding frame.
      let pending = '';
      const flush = () => {
        if (!pending) return;
        const s = pending;
        pending = '';
        res.write(s);
      };
      const send = (s: string) => {
        if (!s) return;
        if (!pending) queueMicrotask(flush);
        pending += s;
      };
      const onEvent = (ev: StreamEvent) => {
        if (state.responseText !== null) {
          if (ev.type === 'text_delta') state.responseText += ev.text;
          else if (ev.type === 'tool_start') state.responseText += `\n[tool ${ev.name}] `;
          else if (ev.type === 'tool_delta') state.responseText += ev.json;
        }
        if (moderatedStop) return;
        // Commit to this attempt only when content arrives: an upstream that opens a stream and dies before
        // saying anything can still fall back, and the client never sees a half-started message.
        if (!writer && ev.type === 'start') {
          heldStart = ev;
          if (ev.inputTokens !== undefined) usageIn = ev.inputTokens;
          return;
        }
        if (!writer) {
          // First event: commit to this attempt and send headers now (no fallback after this point).
          this.child(this.deps.metrics.upstreamDuration, `${target.provider.name}\0true`, () => [target.provider.name, 'true']).observe((performance.now() - t0) / 1000);
          state.upstreamMs += performance.now() - t0;
          state.modelServed = target.config.name;
          if (target !== model) this.deps.metrics.fallbacks.labels(model.config.name, target.config.name).inc();
          writer = state.protocol.streamWriter(state.protocol.responseId(state.requestId), target.config.name, created, req.includeUsage);
          state.writer = writer;
          res.writeHead(200, {
            'content-type': 'text/event-stream; charset=utf-8',
            'cache-control': 'no-cache',
            'x-request-id': state.requestId,
            'x-gatehouse-served-model': target.config.name,
          });
          send(writer.write(heldStart ?? { type: 'start', id: state.requestId, model: target.config.name }));
        }
        if (ev.type === 'start') {
          if (ev.inputTokens !== undefined) usageIn = ev.inputTokens;
        } else if (ev.type === 'text_delta') {
          streamedText += ev.text;
          if (moderator) {
            const r = moderator.push(ev.text);
            if (r.release) send(writer.write({ type: 'text_delta', index: ev.index, text: r.release }));
            if (r.verdict && r.verdict.action !== 'allow') {
              moderatedStop = r.verdict;
            }
            return;
          }
        } else if (ev.type === 'stop') {
          stopEvent = ev;
          if (ev.usage.inputTokens !== undefined) usageIn = ev.usage.inputTokens;
          if (ev.usage.outputTokens !== undefined) usageOut = ev.usage.outputTokens;
          return; // written after accounting + audit, below
        }
        send(writer.write(ev));
      };
      try {
        await target.provider.stream(req, { upstreamModel: target.config.upstreamModel, signal, timeoutMs: Math.min(target.config.timeoutMs, remaining), idleTimeoutMs: target.config.idleTimeoutMs }, onEvent);
      } catch (err) {
        flush(); // what was streamed goes out before anything written below
        const f = err instanceof UpstreamFailure ? err : new UpstreamFailure('bad_response', 'Unexpected upstream error.');
        if (!writer) {
          state.upstreamMs += performance.now() - t0;
          if (f.kind !== 'aborted') this.deps.metrics.upstreamErrors.labels(target.provider.name, f.kind).inc();
          lastFailure = f;
          if (!f.retryable) break;
          continue;
        }
        // Broke after the first byte: no fallback is possible; end the stream with a protocol error event.
        if (f.kind !== 'aborted') this.deps.metrics.upstreamErrors.labels(target.provider.name, f.kind).inc();
        this.account(state, target, req, usageIn ?? -1, usageOut ?? -1, streamedText);
        if (signal.aborted || res.destroyed) {
          state.outcome = 'client_closed';
          state.status = 499;
          res.destroy();
          return this.emit(state);
        }
        state.outcome = 'stream_error';
        state.status = 502;
        state.code = 'upstream_stream_broken';
        if (!(await this.durableAppend(state))) return this.endStreamUnaudited(state, res, writer);
        res.end((writer as ReturnType<IngressProtocol['streamWriter']>).error(new GatewayError({ status: 502, kind: 'upstream', code: 'upstream_stream_broken', message: 'The upstream stream broke before completion.' })));
        return this.emit(state);
      }
      flush();
      if (!writer) {
        lastFailure = new UpstreamFailure('bad_response', 'The upstream stream was empty.');
        continue;
      }
      const w = writer as ReturnType<IngressProtocol['streamWriter']>;
      if (moderator && !moderatedStop) {
        const r = moderator.end();
        if (r.release) res.write(w.write({ type: 'text_delta', index: 0, text: r.release }));
        if (r.verdict && r.verdict.action !== 'allow') moderatedStop = r.verdict;
      }
      this.account(state, target, req, usageIn ?? -1, usageOut ?? -1, streamedText);
      if (moderatedStop) {
        state.outcome = 'moderated';
        state.code = moderatedStop.action === 'refuse' ? moderatedStop.code : 'output_moderated';
        if (moderatedStop.ref) state.verdictRef = moderatedStop.ref;
        if (!(await this.durableAppend(state))) return this.endStreamUnaudited(state, res, w);
        res.end(w.write({ type: 'stop', stopReason: 'content_filter', usage: { inputTokens: state.inputTokens, outputTokens: state.outputTokens } }));
        return this.emit(state);
      }
      if (!(await this.durableAppend(state))) return this.endStreamUnaudited(state, res, w);
      const stop = stopEvent as Extract<StreamEvent, { type: 'stop' }> | null;
      res.end(w.write({ type: 'stop', stopReason: stop?.stopReason ?? 'end_turn', usage: { inputTokens: state.inputTokens, outputTokens: state.outputTokens } }));
      return this.emit(state);
    }
    if (signal.aborted && res.destroyed) {
      state.outcome = 'client_closed';
      state.status = 499;
      res.destroy();
      return this.emit(state);
    }
    state.outcome = 'upstream_error';
    return this.finishWithError(state, res, failureError(lastFailure, state.skipped));
  }

  /**
   * Non-streaming output moderation: the whole text is checked before anything is sent. A violation withholds the
   * text and answers with the protocol's content-filter stop (OpenAI `finish_reason: content_filter`, Anthropic
   * `stop_reason: refusal`); the audit record carries the code.
   */
  private moderateWhole(state: RequestState, response: CanonicalResponse, moderator: StreamModerator): void {
    let text = '';
    for (const b of response.content) if (b.type === 'text') text += b.text;
    const first = moderator.push(text);
    const verdict = first.verdict ?? moderator.end().verdict;
    if (!verdict || verdict.action === 'allow') return;
    response.content = [];
    response.stopReason = 'content_filter';
    state.outcome = 'moderated';
    state.code = verdict.action === 'refuse' ? verdict.code : 'output_moderated';
    if (verdict.ref) state.verdictRef = verdict.ref;
  }

  /** Fills token counts (upstream-reported, or counted with the configured tokenizer and marked estimated) and cost. */
  private account(state: RequestState, target: CatalogueModel, req: CanonicalRequest, inputTokens: number, outputTokens: number, output: CanonicalResponse | string): void {
    let estimated = false;
    const tokens = this.deps.tokens ?? charsCounter;
    if (inputTokens < 0) {
      estimated = true;
      inputTokens = Math.max(1, countRequestTokens(tokens, req));
    }
    if (outputTokens < 0) {
      estimated = true;
      outputTokens = tokens.count(typeof output === 'string' ? output : responseTextOf(output));
    }
    state.inputTokens = inputTokens;
    state.outputTokens = outputTokens;
    state.usageEstimated = estimated;
    state.costUsd = inputTokens * target.inputPricePerToken + outputTokens * target.outputPricePerToken;
  }

  private async finishWithBody(state: RequestState, res: ServerResponse, response: CanonicalResponse, target: CatalogueModel): Promise<void> {
    const body = state.protocol.responseBody({ ...response, id: state.requestId.replace(/-/g, '') }, target.config.name, Math.floor(state.time / 1000));
    if (!(await this.durableAppend(state))) {
      // The reply is withheld: a client must never receive a response the log has no record of.
      state.outcome = 'refused';
      return this.refuseUnaudited(state, res);
    }
    if (res.destroyed) {
      state.outcome = 'client_closed';
      state.status = 499;
      res.destroy();
      return this.emit(state);
    }
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'x-request-id': state.requestId,
      'x-gatehouse-served-model': target.config.name,
    });
    res.end(body);
    return this.emit(state);
  }

  private async finishWithError(state: RequestState, res: ServerResponse, err: GatewayError): Promise<void> {
    state.status = err.status;
    if (!state.code) state.code = err.code;
    if (!(await this.durableAppend(state))) return this.refuseUnaudited(state, res);
    return this.sendError(state, res, err);
  }

  /** The response this request was going to get is replaced by 503 audit_unavailable: its record failed. */
  private refuseUnaudited(state: RequestState, res: ServerResponse): void {
    state.status = 503;
    state.code = 'audit_unavailable';
    return this.sendError(state, res, auditUnavailable());
  }

  /** A stream whose record could not be made durable ends with an error event instead of its stop event. */
  private endStreamUnaudited(state: RequestState, res: ServerResponse, writer: ReturnType<IngressProtocol['streamWriter']>): void {
    state.outcome = 'stream_error';
    state.status = 503;
    state.code = 'audit_unavailable';
    if (!res.destroyed) res.end(writer.error(auditUnavailable()));
    return this.emit(state);
  }

  /** Writes an error response (no audit append: the caller has done it or it has just failed). */
  private sendError(state: RequestState, res: ServerResponse, err: GatewayError): void {
    if (!res.headersSent && !res.destroyed) {
      const body = state.protocol.errorBody(err);
      const headers: Record<string, string | number> = {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'x-request-id': state.requestId,
      };
      if (err.retryAfter !== undefined) headers['retry-after'] = Math.max(1, Math.ceil(err.retryAfter));
      if (state.protocol.name === 'anthropic') headers['x-should-retry'] = err.status >= 500 || err.status === 429 ? 'true' : 'false';
      res.writeHead(err.status, headers);
      res.end(body);
    }
    return this.emit(state);
  }

  private toEvent(state: RequestState): RequestEvent {
    const p = state.principal;
    const ev: RequestEvent = {
      requestId: state.requestId,
      time: state.time,
      keyId: p?.keyId ?? null,
      accountId: p?.accountId ?? null,
      orgId: p?.orgId ?? null,
      protocol: state.protocol.name,
      stream: state.stream,
      modelRequested: state.modelRequested,
      modelServed: state.modelServed,
      outcome: state.outcome,
      status: state.status,
      inputTokens: state.inputTokens,
      outputTokens: state.outputTokens,
      usageEstimated: state.usageEstimated,
      costUsd: state.costUsd,
      latencyMs: performance.now() - state.started,
    };
    if (state.code) ev.code = state.code;
    if (state.verdictRef) ev.ref = state.verdictRef;
    if (state.skipped) ev.skipped = state.skipped;
    if (state.labels) ev.labels = state.labels;
    if (state.promptHash) ev.promptHash = state.promptHash;
    if (state.promptSketch) ev.promptSketch = state.promptSketch;
    if (state.promptShape) ev.promptShape = state.promptShape;
    if (state.reasoningRequested !== undefined) ev.reasoningRequested = state.reasoningRequested;
    if (state.netPrefix) ev.netPrefix = state.netPrefix;
    if (state.userAgent) ev.userAgent = state.userAgent;
    return ev;
  }

  /**
   * prom-client's labels() hashes its arguments into a key on every call; the label sets here are few and
   * bounded (config model names, fixed enums), so the children are cached per metric and label tuple.
   */
  private readonly children = new Map<object, Map<string, unknown>>();
  private child<T>(metric: { labels(...values: string[]): T }, key: string, values: () => string[]): T {
    let byKey = this.children.get(metric);
    if (!byKey) this.children.set(metric, (byKey = new Map()));
    let c = byKey.get(key) as T | undefined;
    if (c === undefined) {
      c = metric.labels(...values());
      byKey.set(key, c);
    }
    return c;
  }

  /**
   * The durability point: resolves true once the audit record of this request is durable (or when audit is off).
   * False means the record could not be written and the caller must not complete the response — unless the
   * operator chose `onWriteFailure: serve`, in which case it is true and the failure is only logged.
   */
  private async durableAppend(state: RequestState): Promise<boolean> {
    const durable = this.deps.durable();
    if (!durable) return true;
    const ev = this.toEvent(state);
    state.event = ev;
    try {
      if (state.request && state.responseText !== null) await durable.append(ev, { request: state.request, response: state.responseText });
      else await durable.append(ev);
      return true;
    } catch (err) {
      this.deps.logger.error({ requestId: state.requestId, err: (err as Error).message }, 'audit append failed');
      return !this.deps.refuseWhenUnaudited;
    }
  }

  private emit(state: RequestState): void {
    if (state.emitted) return;
    state.emitted = true;
    const ev = state.event ?? this.toEvent(state);
    ev.latencyMs = performance.now() - state.started;
    const { metrics } = this.deps;
    const streamLabel = state.stream ? 'true' : 'false';
    const model = state.modelServed ?? (this.deps.catalogue().models.has(state.modelRequested) ? state.modelRequested : 'unknown');
    this.child(metrics.requests, `${state.protocol.name}\0${state.outcome}\0${model}\0${state.status}`, () => [state.protocol.name, state.outcome, model, String(state.status)]).inc();
    const pk = `${state.protocol.name}\0${streamLabel}`;
    this.child(metrics.duration, pk, () => [state.protocol.name, streamLabel]).observe(ev.latencyMs / 1000);
    this.child(metrics.overhead, pk, () => [state.protocol.name, streamLabel]).observe(Math.max(0, ev.latencyMs - state.upstreamMs) / 1000);
    const log = {
      requestId: state.requestId,
      principal: ev.accountId,
      keyId: ev.keyId,
      protocol: ev.protocol,
      stream: ev.stream,
      modelRequested: ev.modelRequested || undefined,
      modelServed: ev.modelServed ?? undefined,
      outcome: ev.outcome,
      status: ev.status,
      code: ev.code,
      latencyMs: Math.round(ev.latencyMs * 100) / 100,
      inputTokens: ev.inputTokens,
      outputTokens: ev.outputTokens,
    };
    if (ev.status >= 500) this.deps.logger.warn(log, 'request');
    else this.deps.logger.info(log, 'request');
    for (const sink of this.deps.sinks()) {
      try {
        sink.onEvent(ev);
      } catch (err) {
        this.deps.logger.error({ sink: sink.name, err: (err as Error).message }, 'event sink failed');
      }
    }
  }
}

function auditUnavailable(): GatewayError {
  return new GatewayError({ status: 503, kind: 'overloaded', code: 'audit_unavailable', message: AUDIT_UNAVAILABLE_MESSAGE });
}

/** The reply as one text for hashing and retention: text blocks, and tool calls as `[tool name] {args}`. */
function responseTextOf(response: CanonicalResponse): string {
  let text = '';
  for (const b of response.content) {
    if (b.type === 'text') text += b.text;
    else if (b.type === 'tool_use') text += `\n[tool ${b.name}] ${JSON.stringify(b.input)}`;
  }
  return text;
}
