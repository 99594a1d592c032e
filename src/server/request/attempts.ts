/**
 * Upstream attempts, non-streaming: the plan is walked in order (each fallback decided for this principal before
 * it is tried, within the routing deadline), the first answer is accounted, moderated and written.
 */
import type { CanonicalRequest, CanonicalResponse } from '../../core/canonical.ts';
import { charsCounter, countRequestTokens, type TokenCounter } from '../../meter/tokenizer.ts';
import { UpstreamFailure, type AttemptOptions } from '../../providers/types.ts';
import type { CatalogueModel } from '../catalogue.ts';
import type { StreamModerator } from './context.ts';
import type { Attempting, PathParts } from './phases.ts';
import { failureError } from './errors.ts';
import type { RequestState } from './state.ts';

/** One try of one model: 'done' when the request was answered, else the failure before anything was sent. */
export type Attempt = (target: CatalogueModel, remainingMs: number) => Promise<UpstreamFailure | 'done'>;

/**
 * Walks the attempt plan: the model itself, then each fallback the gates admit (never one already tried).
 * Resolves 'done', or the last failure (null when no attempt could be made) once the plan, the deadline or
 * the client is gone, or a failure is not retryable.
 */
export async function walkPlan(parts: PathParts, a: Attempting, attempt: Attempt): Promise<UpstreamFailure | null | 'done'> {
  let lastFailure: UpstreamFailure | null = null;
  const deadlineAt = a.state.started + parts.deps.catalogue().config.routing.deadlineMs;
  let tried: CatalogueModel[] | null = null; // only once a fallback is reached: the common path allocates nothing
  for (const planned of a.model.plan) {
    if (deadlineAt - performance.now() <= 0 || a.signal.aborted) break;
    let target: CatalogueModel | null = a.model;
    if (planned !== a.model) {
      tried ??= [a.model];
      target = await parts.decisions.admitFallback(a.state, a.req, planned, tried);
      if (!target) continue;
      tried.push(target);
    }
    const remaining = deadlineAt - performance.now();
    if (remaining <= 0 || a.signal.aborted) break;
    const r = await attempt(target, remaining);
    if (r === 'done') return r;
    lastFailure = r;
    if (!r.retryable) break;
  }
  return lastFailure;
}

/** A failure thrown by a provider, as the UpstreamFailure it should have been. */
export function asFailure(err: unknown): UpstreamFailure {
  return err instanceof UpstreamFailure ? err : new UpstreamFailure('bad_response', 'Unexpected upstream error.');
}

export function countFailure(parts: PathParts, target: CatalogueModel, f: UpstreamFailure): void {
  if (f.kind !== 'aborted') parts.deps.metrics.upstreamErrors.labels(target.provider.name, f.kind).inc();
}

export async function completeRequest(parts: PathParts, a: Attempting): Promise<void> {
  const r = await walkPlan(parts, a, (target, remaining) => completeOnce(parts, a, target, remaining));
  if (r === 'done') return;
  const { state, res } = a;
  if (a.signal.aborted && !res.writableEnded && res.destroyed) return parts.outcomes.clientClosed(state, res);
  state.outcome = 'upstream_error';
  return parts.outcomes.finishWithError(state, res, failureError(r, state.skipped));
}

async function completeOnce(parts: PathParts, a: Attempting, target: CatalogueModel, remaining: number): Promise<UpstreamFailure | 'done'> {
  const { state, req } = a;
  const t0 = performance.now();
  const span = state.span?.attempt(target.config.name, target.config.upstreamModel, target.provider.name);
  let response: CanonicalResponse;
  try {
    const opts: AttemptOptions = { upstreamModel: target.config.upstreamModel, signal: a.signal, timeoutMs: Math.min(target.config.timeoutMs, remaining) };
    if (span) opts.traceparent = span.traceparent();
    response = await target.provider.complete(req, opts);
  } catch (err) {
    state.upstreamMs += performance.now() - t0;
    const f = asFailure(err);
    countFailure(parts, target, f);
    span?.end(undefined, f.kind);
    return f;
  }
  state.upstreamMs += performance.now() - t0;
  span?.end({ 'gen_ai.response.model': response.model || target.config.upstreamModel, 'gen_ai.usage.input_tokens': response.usage.inputTokens, 'gen_ai.usage.output_tokens': response.usage.outputTokens });
  parts.children.get(parts.deps.metrics.upstreamDuration, `${target.provider.name}\0false`, () => [target.provider.name, 'false']).observe((performance.now() - t0) / 1000);
  if (target !== a.model) parts.deps.metrics.fallbacks.labels(a.model.config.name, target.config.name).inc();
  state.modelServed = target.config.name;
  const counting = account(parts, state, target, req, response.usage.inputTokens, response.usage.outputTokens, response);
  if (counting) await counting;
  response.usage.inputTokens = state.inputTokens;
  response.usage.outputTokens = state.outputTokens;
  if (state.responseText !== null) state.responseText = responseTextOf(response);
  if (a.moderator) moderateWhole(state, response, a.moderator);
  await parts.outcomes.finishWithBody(state, a.res, response, target);
  return 'done';
}

/**
 * Non-streaming output moderation: the whole text is checked before anything is sent. A violation withholds the
 * text and answers with the protocol's content-filter stop (OpenAI `finish_reason: content_filter`, Anthropic
 * `stop_reason: refusal`); the audit record carries the code.
 */
function moderateWhole(state: RequestState, response: CanonicalResponse, moderator: StreamModerator): void {
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

/**
 * Fills token counts (upstream-reported, or counted with the configured tokenizer and marked estimated) and cost.
 * A promise only when counting needs a tokenizer that is still loading.
 */
export function account(parts: PathParts, state: RequestState, target: CatalogueModel, req: CanonicalRequest, inputTokens: number, outputTokens: number, output: CanonicalResponse | string): void | Promise<void> {
  if (inputTokens >= 0 && outputTokens >= 0) return setUsage(state, target, inputTokens, outputTokens, false);
  const t = parts.deps.tokens ?? charsCounter;
  const tokens = 'get' in t ? t.get() : t;
  if (tokens instanceof Promise) return tokens.then((c) => estimate(c, state, target, req, inputTokens, outputTokens, output));
  return estimate(tokens, state, target, req, inputTokens, outputTokens, output);
}

function estimate(tokens: TokenCounter, state: RequestState, target: CatalogueModel, req: CanonicalRequest, inputTokens: number, outputTokens: number, output: CanonicalResponse | string): void {
  let estimated = false;
  if (inputTokens < 0) {
    estimated = true;
    inputTokens = Math.max(1, countRequestTokens(tokens, req));
  }
  if (outputTokens < 0) {
    estimated = true;
    outputTokens = tokens.count(typeof output === 'string' ? output : responseTextOf(output));
  }
  setUsage(state, target, inputTokens, outputTokens, estimated);
}

function setUsage(state: RequestState, target: CatalogueModel, inputTokens: number, outputTokens: number, estimated: boolean): void {
  state.inputTokens = inputTokens;
  state.outputTokens = outputTokens;
  state.usageEstimated = estimated;
  state.costUsd = inputTokens * target.inputPricePerToken + outputTokens * target.outputPricePerToken;
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
