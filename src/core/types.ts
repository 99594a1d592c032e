/**
 * Contracts shared by every capability. Kept free of I/O and of any library type so that the
 * decision core (policy, directives, classify, routing) can be tested as plain functions of data.
 */

export type KycLevel = 'none' | 'basic' | 'verified-identity' | 'verified-organisation';
export const KYC_LEVELS: readonly KycLevel[] = ['none', 'basic', 'verified-identity', 'verified-organisation'];

/** Who is asking. Built by identity/ from an API key; immutable for the life of a request. */
export interface Principal {
  /** Stable id of the API key (not the secret). */
  readonly keyId: string;
  readonly accountId: string;
  readonly orgId: string | null;
  /** ISO 3166-1 alpha-2, upper case. A list: dual nationals hold several. */
  readonly nationalities: readonly string[];
  /** ISO 3166-1 alpha-2 country of residence, or null when unknown. */
  readonly residence: string | null;
  readonly kyc: KycLevel;
  /** Trusted-access programmes, e.g. `critical-infrastructure-defenders`. */
  readonly programmes: readonly string[];
  /** Safeguard tier used by classifier actions, e.g. `general`, `verified`, `trusted-defender`, `internal`. */
  readonly tier: string;
  /** Member of the provider's own staff. Staff get no implicit exemption from directives. */
  readonly staff: boolean;
  /** Account metadata used by abuse detection (all optional). */
  readonly accountCreatedAt?: number;
  readonly paymentFingerprint?: string;
}

/** Machine-readable references to what decided a request. */
export interface DecisionRef {
  rule?: string;
  directive?: string;
  licence?: string;
  classifier?: string;
  limit?: string;
  ring?: string;
}

/**
 * What a gate (policy, directives, classifier, quota, abuse action) says about a request.
 * `allow` lets it proceed unchanged; `route` swaps the model; `refuse` ends it with `status`.
 */
export type Verdict =
  | { action: 'allow'; ref?: DecisionRef; reasons?: string[] }
  | { action: 'route'; model: string; code: string; ref?: DecisionRef; reasons?: string[] }
  | {
      action: 'refuse';
      /** HTTP status: 403 for policy/safeguards, 429 for limits, 503 for fail-closed states. */
      status: number;
      /** Stable machine-readable reason, e.g. `directive_suspended`, `licence_required`. */
      code: string;
      /** Human-readable message safe to show the caller (never contains secrets). */
      message: string;
      ref?: DecisionRef;
      /** What would allow it, e.g. `licence`, `programme:critical-infrastructure-defenders`, `kyc:verified-identity`. */
      requires?: string[];
      /** Seconds, for 429. */
      retryAfter?: number;
      reasons?: string[];
      /**
       * When set, the request is answered instead of refused: this text is returned as an ordinary assistant reply
       * in the caller's protocol (HTTP 200), and the model is not called. Used for supportive safe completions
       * (e.g. self-harm). A request path that does not support it returns `status` with `message` as before.
       */
      safeCompletion?: string;
    };

export type Outcome =
  | 'ok' // served to completion
  | 'refused' // a gate said no (403/429)
  | 'invalid' // bad input (4xx before any gate)
  | 'upstream_error' // every attempt failed (502/503/504)
  | 'client_closed' // caller went away mid-request
  | 'stream_error' // upstream broke after the first byte
  | 'moderated' // output moderation ended the response
  | 'internal_error'; // the gateway itself failed (a bug): 500, logged with the request id

/** A model of the attempt plan decided against for this request, so never tried. */
export interface SkippedModel {
  model: string;
  code: string;
}

/** One event per request, emitted once the request has ended. Consumed by meter/, audit/ and abuse/. */
export interface RequestEvent {
  requestId: string;
  /** Epoch milliseconds when the request arrived. */
  time: number;
  keyId: string | null;
  accountId: string | null;
  orgId: string | null;
  protocol: 'openai' | 'anthropic';
  stream: boolean;
  modelRequested: string;
  /** Public model name that produced the response (after routing and fallbacks), or null. */
  modelServed: string | null;
  outcome: Outcome;
  status: number;
  /** The refusal / route code, if any. */
  code?: string;
  ref?: DecisionRef;
  /**
   * Fallback models of the plan that the request was not allowed to reach (a directive, a policy rule or a
   * safeguard refused them for this principal), with the refusal code: they were skipped, never tried.
   */
  skipped?: SkippedModel[];
  /** Classifier label scores, when classification ran. */
  labels?: Record<string, number>;
  /**
   * Safeguard stages that failed (error, timeout, no valid score) while the request went on without them because
   * their labels fail open: `stage: message` each. Absent when every stage answered or the failure refused (fail closed).
   */
  failedOpen?: string[];
  inputTokens: number;
  outputTokens: number;
  /** True when token counts are a tokenizer estimate rather than upstream-reported usage. */
  usageEstimated: boolean;
  costUsd: number;
  latencyMs: number;
  /** Keyed hash (HMAC-SHA256, hex) of the prompt text; never the text itself. */
  promptHash?: string;
  /** Similarity sketch of the prompt (e.g. 64-bit SimHash as hex, or MinHash values); never the text. */
  promptSketch?: string;
  /** Client network prefix (/24 for IPv4, /48 for IPv6) and user agent, for abuse detection. */
  netPrefix?: string;
  userAgent?: string;
  /** Prompt shape (structure + item key, 16 hex chars, see abuse/sketch.ts promptShape); never the text. */
  promptShape?: string;
  /** The prompt asks for a reasoning trace / step-by-step working (a lexical test; abuse detection). */
  reasoningRequested?: boolean;
  /** The W3C trace id of the request's span, when tracing is on (joins audit records and logs to traces). */
  traceId?: string;
}

/** What the key registry answers for an API key header: the principal, or why there is none. */
export type KeyLookupResult = { ok: true; principal: Principal } | { ok: false; reason: 'missing' | 'unknown' | 'revoked' };

/**
 * The rough characters-per-token ratio used wherever tokens are estimated without a tokenizer: the limits gate's
 * admission estimate and the meter's `chars4` counter must agree, so both read it from here.
 */
export const CHARS_PER_TOKEN = 4;
