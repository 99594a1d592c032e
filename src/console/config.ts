/**
 * The `console:` config section: operator sessions, login throttling and two-person control.
 * Defaults keep the gateway as it was (no approval step) until an operator turns two-person control on.
 */
import { z } from 'zod';
import { ROLES } from './operators.ts';

/** The path the gateway answers the identity provider's redirect on; `oidc.redirectUrl` must end with it. */
export const OIDC_CALLBACK_PATH = '/admin/v1/session/oidc/callback';

/**
 * `console.oidc`: single sign-on through an OpenID Connect provider (authorisation-code flow with PKCE). Absent:
 * no single sign-on. The client secret is read from the environment (never from the file).
 */
export const oidcSchema = z
  .object({
    /** The provider's issuer identifier; its discovery document is at `<issuer>/.well-known/openid-configuration`. */
    issuer: z.string().url(),
    clientId: z.string().min(1).max(500),
    /** Environment variable holding the client secret; absent: a public client (PKCE only, no client authentication). */
    clientSecretEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name').optional(),
    /** Where the provider sends the browser back: this gateway's public URL followed by OIDC_CALLBACK_PATH. */
    redirectUrl: z
      .string()
      .url()
      .refine((u) => new URL(u).pathname.endsWith(OIDC_CALLBACK_PATH), `must end with ${OIDC_CALLBACK_PATH}`),
    scopes: z.array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'a scope token')).min(1).default(['openid', 'profile', 'email']).refine((s) => s.includes('openid'), 'must include openid'),
    /** The ID-token claim naming the operator (audit records carry it); it must fit an operator name. */
    nameClaim: z.string().min(1).default('preferred_username'),
    /** The ID-token claim whose value (a string or an array of strings) is mapped to a role. */
    roleClaim: z.string().min(1).default('groups'),
    /** Claim value → Gatehouse role. A sign-in whose claim maps to no role is refused. */
    roles: z.record(z.string().min(1), z.enum(ROLES)).refine((m) => Object.keys(m).length > 0, 'map at least one claim value to a role'),
    /** Accept an http:// issuer (a provider on the local machine, for trials and tests); never for production. */
    allowInsecureHttp: z.boolean().default(false),
    /** The sign-in button's text on the console. */
    label: z.string().min(1).max(80).default('Sign in with single sign-on'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (!c.allowInsecureHttp) {
      for (const [k, v] of [['issuer', c.issuer], ['redirectUrl', c.redirectUrl]] as const) {
        if (new URL(v).protocol !== 'https:') ctx.addIssue({ code: 'custom', path: [k], message: 'must be an https:// URL (allowInsecureHttp: true permits http:// for a local trial)' });
      }
    }
  });

export type OidcConfig = z.output<typeof oidcSchema>;

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
        /** Lifting a directive whose effect is `suspend` (lifting an embargo) waits for a second operator's approval. */
        liftSuspension: z.boolean().default(false),
        /**
         * An operator may revoke this many API keys within `revokeWindowSeconds`; the revocation that would exceed it
         * waits for a second operator's approval. Absent: revocations are never held.
         */
        revokeKeysAbove: z.number().int().min(0).max(1_000_000).optional(),
        revokeWindowSeconds: z.number().int().min(60).max(30 * 86_400).default(3600),
        /**
         * The requester of a held change may apply it at once by declaring an emergency with a reason; the change is
         * then on the after-the-fact review list (`review-required`) until a second operator acknowledges it.
         */
        emergencyApply: z.boolean().default(false),
        /** Pending requests expire after this long unapproved (seconds). */
        expireSeconds: z.number().int().min(60).max(30 * 86_400).default(86_400),
      })
      .strict()
      .prefault({}),
    oidc: oidcSchema.optional(),
  })
  .strict()
  .prefault({});

export type ConsoleConfig = z.output<typeof configSchema>;
