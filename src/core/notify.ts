/**
 * The notification contract: what any part of the gateway may announce to operators (webhooks, chat channels).
 * Producers build a `NotificationEvent` and hand it to a `Notify` port given to them by the composition root; they
 * never know how (or whether) it is delivered. `notify/` owns delivery.
 */

/** Every event type a notification can carry, in a stable order (filters, docs and metrics use these names). */
export const NOTIFICATION_TYPES = [
  'directive.issued',
  'directive.amended',
  'directive.lifted',
  'approval.waiting',
  'ring.detected',
  'incident.opened',
  'incident.overdue',
  'programme.expiring',
  'audit.failure',
  'store.failure',
] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

export type NotificationSeverity = 'info' | 'warning' | 'critical';

export interface NotificationEvent {
  type: NotificationType;
  /** Epoch milliseconds when it happened. */
  time: number;
  severity: NotificationSeverity;
  /** One line for a human (chat message, e-mail subject). */
  summary: string;
  /** Structured facts (ids, models, who, why); no prompt text, no secrets. */
  details: Record<string, unknown>;
  /**
   * Names the happening itself (e.g. `directive:D-1:v2`): replicas that observe the same change announce it once,
   * cluster-wide. Absent, each announcement is delivered.
   */
  dedupeKey?: string;
}

/** Announces an event; returns at once (delivery is asynchronous and never blocks the caller). */
export type Notify = (event: NotificationEvent) => void;
