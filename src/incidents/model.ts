/**
 * Incidents, the pure part: the record, the triage workflow and input validation.
 *
 *   open → investigating → reportable → reported → closed
 *                        ↘ not-reportable → closed
 *
 * Every change bumps `version`; a change names the version it was made from, so two concurrent changes cannot
 * both win (compare-and-set in the repository).
 */
import { z } from 'zod';

export const STATES = ['open', 'investigating', 'reportable', 'not-reportable', 'reported', 'closed'] as const;
export type IncidentState = (typeof STATES)[number];

/** Allowed next states. */
export const NEXT: Readonly<Record<IncidentState, readonly IncidentState[]>> = {
  open: ['investigating'],
  investigating: ['reportable', 'not-reportable'],
  reportable: ['reported'],
  'not-reportable': ['closed'],
  reported: ['closed'],
  closed: [],
};

export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Facts that change reporting deadlines (see the regimes file). */
export const FACTS = ['death', 'serious-harm', 'widespread', 'critical-infrastructure', 'imminent-risk'] as const;
export type Fact = (typeof FACTS)[number];

export interface Incident {
  id: string;
  title: string;
  summary: string | null;
  severity: Severity;
  state: IncidentState;
  version: number;
  /** What opened it: `manual`, `refusal-burst`, `moderation-stop`. */
  trigger: string;
  /** Automatic triggers link further evidence to the same incident while it is open or investigating. */
  dedupeKey: string | null;
  models: string[];
  /** `account:ID`, `org:ID`, `key:ID`. */
  principals: string[];
  /** Linked audit records (request ids), at most MAX_LINKED kept; `linkedCount` counts them all. */
  requestIds: string[];
  linkedCount: number;
  rings: string[];
  directives: string[];
  facts: Fact[];
  /** Regimes the incident is reportable under (set on `reportable`). */
  regimes: string[];
  /** When the provider became aware: reporting clocks run from here (default: when it was opened). */
  awareAt: number;
  openedAt: number;
  openedBy: string;
  updatedAt: number;
  reportedAt: number | null;
  reportRefs: string[];
  closedAt: number | null;
}

export interface TimelineEntry {
  incidentId: string;
  version: number;
  at: number;
  /** Who did it (a person named with `by`, or a trigger). */
  by: string;
  action: 'opened' | 'transition' | 'linked';
  from: IncidentState | null;
  to: IncidentState | null;
  why: string | null;
  details: Record<string, unknown> | null;
}

export const MAX_LINKED = 1000;

const text = (what: string, max = 2000) =>
  z.string().trim().min(1, `${what} must not be empty`).max(max, `${what} is longer than ${max} characters`).regex(/^[^\u0000-\u0008\u000b-\u001f\u007f]*$/, `${what} must not contain control characters`);
const ref = (what: string) => z.string().trim().min(1, `${what} must not be empty`).max(200).regex(/^[^\s\u0000-\u001f\u007f]+$/, `${what} must be one word without spaces or control characters`);
const principalRef = z.string().regex(/^(account|org|key):[^\s\u0000-\u001f\u007f]{1,200}$/, "expected 'account:ID', 'org:ID' or 'key:ID'");
const epoch = z.union([z.number().int().nonnegative(), z.string().min(1)]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (Number.isNaN(t)) {
    ctx.addIssue({ code: 'custom', message: `'${v}' is not a time (ISO 8601 or epoch ms)` });
    return z.NEVER;
  }
  return t;
});

export const openSchema = z.strictObject({
  title: text('title', 300),
  summary: text('summary', 20_000).optional(),
  severity: z.enum(SEVERITIES),
  models: z.array(ref('model')).max(1000).default([]),
  principals: z.array(principalRef).max(1000).default([]),
  requestIds: z.array(ref('request id')).max(MAX_LINKED).default([]),
  rings: z.array(ref('ring id')).max(1000).default([]),
  directives: z.array(ref('directive id')).max(1000).default([]),
  facts: z.array(z.enum(FACTS)).max(FACTS.length).default([]),
  awareAt: epoch.optional(),
  by: text('by', 200),
});
export type OpenInput = z.output<typeof openSchema>;

export const transitionSchema = z.strictObject({
  to: z.enum(STATES),
  by: text('by', 200),
  why: text('why'),
  /** The version the change is made from; omitted = the current one (the change still loses to a concurrent one). */
  version: z.number().int().positive().optional(),
  /** On `reportable`: the regimes it is reportable under (at least one). */
  regimes: z.array(ref('regime id')).max(50).optional(),
  /** Facts established during triage (added to those known). */
  facts: z.array(z.enum(FACTS)).max(FACTS.length).optional(),
  /** On `reported`: the regulator's or the report's reference. */
  reportRef: text('reportRef', 500).optional(),
});
export type TransitionInput = z.output<typeof transitionSchema>;

/** Why a transition is not allowed (null: allowed). */
export function transitionProblem(from: IncidentState, input: TransitionInput): string | null {
  if (!NEXT[from].includes(input.to)) {
    const next = NEXT[from];
    return `cannot go from '${from}' to '${input.to}'${next.length ? ` (next: ${next.join(' or ')})` : ' (closed incidents do not change)'}`;
  }
  if (input.to === 'reportable' && (!input.regimes || input.regimes.length === 0)) return "'reportable' needs the regimes it is reportable under (regimes)";
  if (input.regimes && input.to !== 'reportable') return "regimes are given on the transition to 'reportable'";
  if (input.reportRef && input.to !== 'reported') return "reportRef is given on the transition to 'reported'";
  return null;
}
