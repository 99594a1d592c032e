/**
 * Data shapes of the abuse capability. The detector consumes the gateway's RequestEvent (never prompt text —
 * only `promptSketch`) plus account metadata, and produces rings and per-account actions.
 */
import type { RequestEvent } from '../core/types.ts';

/**
 * A RequestEvent as the detector reads it. `reasoningRequested` is an optional extension the gateway can set
 * from `promptSignals()` (was a reasoning trace / step-by-step explanation asked for?). It is not part of the
 * shared contract; absent means "unknown" and counts as false.
 */
export interface AbuseEvent extends RequestEvent {
  reasoningRequested?: boolean;
}

/** Account metadata (from identity/billing). Any field may be absent. */
export interface AccountMeta {
  accountId: string;
  orgId?: string | null;
  /** Epoch ms. */
  createdAt?: number;
  paymentFingerprint?: string;
  /** Network prefix seen at sign-up. */
  netPrefix?: string;
  /** Client/device fingerprint seen at sign-up. */
  clientFingerprint?: string;
  /** KYC level, as in Principal.kyc. Verified accounts are never auto-actioned above the configured cap. */
  kyc?: string;
}

export type SignalName =
  | 'shared_payment'
  | 'shared_client_fingerprint'
  | 'shared_network_prefix'
  | 'shared_prompt_template'
  | 'reasoning_trace_requests'
  | 'high_output_input_ratio'
  | 'templated_task_coverage'
  | 'machine_timing'
  | 'round_the_clock_activity'
  | 'signup_burst'
  | 'synchronised_activity'
  | 'high_volume'
  | 'collective_coverage'
  | 'proxy_rotation'
  | 'public_items'
  | 'shared_organisation'
  | 'shared_prompt_structure'
  | 'shared_user_agent';

/** One pairwise linking channel and its mean weight over the pairs that joined the ring (after key purity). */
export interface RingLink {
  signal: string;
  weight: number;
}

/** Per UTC day: members that signed up, made their first request, made their last request. */
export interface RingTimelineDay {
  day: string;
  signedUp: number;
  started: number;
  lastActive: number;
}

export interface RingEvidence {
  signal: SignalName;
  /** Strength in [0,1] (fraction of members showing it, or a normalised statistic). */
  strength: number;
  detail: string;
  exampleRequestIds: string[];
}

export interface Ring {
  /** Stable id: derived from the lexically smallest member id, so re-analysis keeps the name. */
  id: string;
  members: string[];
  score: number;
  evidence: RingEvidence[];
  firstSeen: number;
  lastSeen: number;
  /** All members belong to one KYC-verified organisation: a lower prior (score damped), never a cap. */
  explainedByOrg: string | null;
  /** Linking channels with their weights (what joined the members). */
  links?: RingLink[];
  timeline?: RingTimelineDay[];
  /** One verified organisation behaving like a ring: goes to human review even when below the flag band. */
  review?: boolean;
}

export type AbuseActionKind = 'none' | 'flag' | 'require-kyc' | 'degrade' | 'suspend';
export const ACTION_ORDER: readonly AbuseActionKind[] = ['none', 'flag', 'require-kyc', 'degrade', 'suspend'];

/** Audit record emitted whenever an account's action changes. The lead passes these to the audit log. */
export interface AbuseActionRecord {
  kind: 'admin';
  action: 'abuse.action';
  time: number;
  accountId: string;
  ringId: string | null;
  previous: AbuseActionKind;
  next: AbuseActionKind;
  score: number;
  reasons: string[];
}

/** Why an input record was skipped. */
export type SkipReason =
  | 'not_an_object'
  | 'bad_json'
  | 'missing_field'
  | 'malformed_field'
  | 'no_account'
  | 'clock_skew'
  | 'duplicate'
  | 'replay'
  | 'unknown_kind'
  | 'stream_gap';

/** A ring worth a human look, handed to whoever runs incidents (the lead decides where it goes). */
export interface IncidentCandidate {
  kind: 'incident.candidate';
  source: 'abuse';
  ringId: string;
  /** The action band the ring's score reached. */
  severity: AbuseActionKind;
  score: number;
  members: number;
  firstSeen: number;
  lastSeen: number;
  summary: string;
  evidence: RingEvidence[];
}
