/**
 * The `notifications:` config section: outbound webhooks and which events reach each. Absent (or no webhooks),
 * nothing is sent and nothing is queued.
 */
import { z } from 'zod';
import { NOTIFICATION_TYPES } from '../core/notify.ts';

/** An event filter entry: `*`, an exact type (`incident.opened`) or a family (`directive.*`). */
const FAMILIES = [...new Set(NOTIFICATION_TYPES.map((t) => `${t.split('.')[0]}.*`))];
const eventFilter = z.enum(['*', ...FAMILIES, ...NOTIFICATION_TYPES] as [string, ...string[]]);

/** Abuse actions in increasing order of severity: `ringLevel` names the lowest that is announced. */
export const RING_LEVELS = ['flag', 'require-kyc', 'degrade', 'suspend'] as const;

export const webhookSchema = z
  .object({
    /** Names the webhook in logs and metrics (letters, digits, `-`, `_`). */
    name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a name of letters, digits, - and _ (at most 64)'),
    url: z.string().url().refine((u) => /^https?:\/\//i.test(u), 'an http:// or https:// URL'),
    /** `json`: the generic signed event; `slack`: a Slack-compatible incoming-webhook message (text and blocks). */
    format: z.enum(['json', 'slack']).default('json'),
    /** Which events this webhook receives. */
    events: z.array(eventFilter).min(1).default(['*']),
    /** Environment variable holding the HMAC-SHA256 signing secret (the secret never goes in the file). */
    secretEnv: z.string().min(1).optional(),
    /** Per-attempt timeout: connect, send and response headers. */
    timeoutMs: z.number().int().min(100).max(120_000).default(5000),
    /** Attempts per event, the first included; after the last the event is given up (logged and counted). */
    maxAttempts: z.number().int().min(1).max(50).default(8),
    /** Retry delay: `initialBackoffMs × 2^(attempt−1)`, at most `maxBackoffMs`, with random jitter (50–100 %). */
    initialBackoffMs: z.number().int().min(1).max(3_600_000).default(1000),
    maxBackoffMs: z.number().int().min(1).max(86_400_000).default(300_000),
    /** Events waiting (or waiting for a retry) for this webhook; past it the oldest is dropped and counted. */
    queueSize: z.number().int().min(1).max(1_000_000).default(1000),
    /** Deliveries to this webhook in flight at once. */
    concurrency: z.number().int().min(1).max(64).default(2),
  })
  .strict();

export const configSchema = z
  .object({
    webhooks: z
      .array(webhookSchema)
      .default([])
      .superRefine((hooks, ctx) => {
        const seen = new Set<string>();
        hooks.forEach((h, i) => {
          if (seen.has(h.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate webhook name '${h.name}'` });
          seen.add(h.name);
        });
      }),
    /** `ring.detected` is sent when an account of a ring reaches this abuse action or a more severe one. */
    ringLevel: z.enum(RING_LEVELS).default('suspend'),
  })
  .strict()
  .prefault({});

export type NotificationsConfig = z.output<typeof configSchema>;
export type WebhookConfig = z.output<typeof webhookSchema>;
