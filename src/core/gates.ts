import type { CanonicalRequest } from './canonical.ts';
import type { Principal, RequestEvent, Verdict } from './types.ts';

/** Everything a gate may look at. Gates are pure functions of this plus their own compiled snapshot. */
export interface GateInput {
  readonly requestId: string;
  readonly principal: Principal;
  /** Public model name currently targeted (after earlier routes). */
  readonly model: string;
  readonly request: CanonicalRequest;
  readonly now: number;
  /** Scratch space gates can use to share work across re-checks of the same request (e.g. classifier scores). */
  readonly memo: Map<string, unknown>;
}

/**
 * A decision stage on the request path: directives/policy, classifiers, quotas, abuse actions. Returning a
 * plain Verdict (not a Promise) keeps the hot path allocation-free for synchronous gates.
 */
export interface RequestGate {
  readonly name: string;
  /**
   * True for gates that admit or charge (quotas, rate limits) rather than only decide. They are skipped when a
   * decision is only being explained (e.g. which fallbacks a refused request could have reached).
   */
  readonly admits?: boolean;
  check(input: GateInput): Verdict | Promise<Verdict>;
}

/** Consumers of the one-per-request event (meter, abuse). Must not block: buffer and process asynchronously. */
export interface EventSink {
  readonly name: string;
  onEvent(event: RequestEvent): void;
}

/**
 * The audit durability point: the response must not complete before `append` resolves. `healthy` false
 * means records cannot be made durable; the gateway then refuses new requests (503) when configured to.
 */
export interface DurableSink {
  readonly healthy: boolean;
  /**
   * True when `append` wants the request's text (keyed response hash, encrypted retention). The request path
   * then collects the reply's text as it passes; otherwise it collects nothing.
   */
  readonly wantsText: boolean;
  append(event: RequestEvent, text?: RequestText): Promise<void>;
}

/** A request and the reply the model produced (before output moderation withheld any of it). Never logged. */
export interface RequestText {
  readonly request: CanonicalRequest;
  /** Text blocks and tool calls (as `name(args)`) of the reply, in order. */
  readonly response: string;
}

/** Contributes a line to /readyz. */
export interface ReadinessCheck {
  readonly name: string;
  check(): { ok: boolean; detail?: string };
}

/**
 * Which models a principal may use, for listings (`GET /v1/models`). Only the access decision (directives, policy,
 * licences): a listing says what the caller may ask for, and every request is still decided on its own.
 */
export interface ModelAccess {
  /** False when the access decision for this principal and model at `now` is a refusal. */
  allows(principal: Principal, model: string, now: number): boolean;
  /** A value that changes whenever decisions may change (a new policy, directive or licence snapshot). */
  version(): unknown;
}
