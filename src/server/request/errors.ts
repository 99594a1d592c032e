/** The gateway errors the request path answers with, built from verdicts and upstream failures. */
import type { SkippedModel, Verdict } from '../../core/types.ts';
import { GatewayError, kindForStatus } from '../../protocol/errors.ts';
import type { UpstreamFailure } from '../../providers/types.ts';

export type Refusal = Extract<Verdict, { action: 'refuse' }>;

export function verdictError(v: Refusal): GatewayError {
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
export function failureError(f: UpstreamFailure | null, skipped?: SkippedModel[]): GatewayError {
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

const AUDIT_UNAVAILABLE_MESSAGE = 'The gateway could not record this request and refuses to serve unaudited ones. Try again later.';

export function auditUnavailable(): GatewayError {
  return new GatewayError({ status: 503, kind: 'overloaded', code: 'audit_unavailable', message: AUDIT_UNAVAILABLE_MESSAGE });
}

export function overloaded(retryAfterSeconds: number): GatewayError {
  // Shed at once rather than queue: every queued request would wait behind the backlog and time out anyway.
  return new GatewayError({ status: 503, kind: 'overloaded', code: 'overloaded', message: 'The gateway is handling too many requests right now. Retry shortly.', retryAfter: retryAfterSeconds });
}

export function internalError(requestId: string): GatewayError {
  return new GatewayError({ status: 500, kind: 'internal', code: 'internal_error', message: `The gateway failed to handle this request (request id ${requestId}).` });
}
