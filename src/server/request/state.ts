/**
 * The per-request state every phase of the request path reads and fills, typed field by field, and the one
 * `RequestEvent` derived from it.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { CanonicalRequest } from '../../core/canonical.ts';
import type { Outcome, Principal, RequestEvent, SkippedModel } from '../../core/types.ts';
import type { RequestSpan } from '../../observability/tracing.ts';
import type { IngressProtocol } from '../protocols.ts';

export type StreamWriter = ReturnType<IngressProtocol['streamWriter']>;

export interface RequestState {
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
  failedOpen?: string[];
  promptHash?: string;
  promptSketch?: string;
  promptShape?: string;
  reasoningRequested?: boolean;
  netPrefix?: string;
  userAgent?: string;
  /** Scratch space the gates share across the decisions of one request (the `GateInput.memo` contract). */
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
  writer?: StreamWriter;
  /** Set once the request's event went to the sinks: it is never emitted twice. */
  emitted?: boolean;
  /** The trace this request belongs to, when tracing is on (W3C trace id, 32 hex digits). */
  traceId?: string;
  /** The request's span, only when tracing is on. */
  span?: RequestSpan;
}

export function newRequestState(protocol: IngressProtocol, raw: IncomingMessage): RequestState {
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

function netPrefixOf(ip: string | undefined): string | undefined {
  if (!ip) return undefined;
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(v4)) return v4.slice(0, v4.lastIndexOf('.')) + '.0/24';
  const parts = ip.split(':');
  return parts.slice(0, 3).join(':') + '::/48';
}

/** The request's event as it stands; optional fields are set only when present, so records stay small. */
export function toEvent(state: RequestState): RequestEvent {
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
  if (state.failedOpen) ev.failedOpen = state.failedOpen;
  if (state.promptHash) ev.promptHash = state.promptHash;
  if (state.promptSketch) ev.promptSketch = state.promptSketch;
  if (state.promptShape) ev.promptShape = state.promptShape;
  if (state.reasoningRequested !== undefined) ev.reasoningRequested = state.reasoningRequested;
  if (state.netPrefix) ev.netPrefix = state.netPrefix;
  if (state.userAgent) ev.userAgent = state.userAgent;
  if (state.traceId) ev.traceId = state.traceId;
  return ev;
}

/** Classifier scores (and stages that failed open) a gate left in the memo, for the event. */
export function collectLabels(state: RequestState): void {
  const labels = state.memo?.get('labels');
  if (labels && typeof labels === 'object') state.labels = labels as Record<string, number>;
  const failedOpen = state.memo?.get('classifier.failedOpen');
  if (Array.isArray(failedOpen) && failedOpen.length > 0) state.failedOpen = failedOpen as string[];
}
