/**
 * Gateway errors carry an HTTP status and a protocol-neutral kind; each protocol renders them in its own
 * wire format so a caller always gets errors its SDK understands.
 */
export type ErrorKind =
  | 'invalid_request' // 400
  | 'authentication' // 401
  | 'permission' // 403
  | 'not_found' // 404
  | 'payload_too_large' // 413
  | 'rate_limit' // 429
  | 'upstream' // 502
  | 'overloaded' // 503
  | 'timeout' // 504
  | 'internal'; // 500

export interface GatewayErrorInit {
  status: number;
  kind: ErrorKind;
  message: string;
  /** Machine-readable code, e.g. `model_not_found`, `directive_suspended`. */
  code: string;
  /** JSON path of the offending field, for validation errors. */
  param?: string | null;
  /** Extra machine-readable detail (rule/directive/licence refs, what would allow the request). */
  detail?: Record<string, unknown>;
  retryAfter?: number;
}

export class GatewayError extends Error {
  readonly status: number;
  readonly kind: ErrorKind;
  readonly code: string;
  readonly param: string | null;
  readonly detail: Record<string, unknown> | undefined;
  readonly retryAfter: number | undefined;
  constructor(init: GatewayErrorInit) {
    super(init.message);
    this.status = init.status;
    this.kind = init.kind;
    this.code = init.code;
    this.param = init.param ?? null;
    this.detail = init.detail;
    this.retryAfter = init.retryAfter;
  }
}

export const invalid = (message: string, param: string | null = null, code = 'invalid_request'): GatewayError =>
  new GatewayError({ status: 400, kind: 'invalid_request', message, code, param });

const KIND_BY_STATUS: Record<number, ErrorKind> = {
  400: 'invalid_request',
  401: 'authentication',
  403: 'permission',
  404: 'not_found',
  413: 'payload_too_large',
  429: 'rate_limit',
  502: 'upstream',
  503: 'overloaded',
  504: 'timeout',
};

export function kindForStatus(status: number): ErrorKind {
  return KIND_BY_STATUS[status] ?? (status >= 500 ? 'internal' : 'invalid_request');
}
