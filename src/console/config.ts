/**
 * The `console:` config section: operator sessions, login throttling and two-person control.
 * Defaults keep the gateway as it was (no approval step) until an operator turns two-person control on.
 */
import { z } from 'zod';

export const configSchema = z
  .object({
    /** Serve the web console at /console and accept operator sessions on the admin API. */
    enabled: z.boolean().default(true),
    /** A session unused for this long ends (seconds). */
    idleTimeoutSeconds: z.number().int().min(60).max(86_400).default(1800),
    /** A session ends this long after sign-in, however active (seconds). */
    absoluteTimeoutSeconds: z.number().int().min(60).max(7 * 86_400).default(12 * 3600),
    /** Mark the session cookie Secure (browsers then send it only over HTTPS, and to localhost). */
    secureCookie: z.boolean().default(true),
    /** Failed sign-ins allowed per account and per client address within `loginWindowSeconds`. */
    maxFailedLogins: z.number().int().min(1).max(1000).default(5),
    loginWindowSeconds: z.number().int().min(1).max(86_400).default(900),
    /** Refused admin requests allowed per operator or client address per minute before answering 429. */
    maxDeniedPerMinute: z.number().int().min(1).max(10_000).default(30),
    twoPersonControl: z
      .object({
        /** Directives with effect `suspend` wait for a second operator's approval before they are issued. */
        suspend: z.boolean().default(false),
        /** Pending requests expire after this long unapproved (seconds). */
        expireSeconds: z.number().int().min(60).max(30 * 86_400).default(86_400),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

export type ConsoleConfig = z.output<typeof configSchema>;
