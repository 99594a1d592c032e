/**
 * Single sign-on through an OpenID Connect provider: the authorisation-code flow with PKCE (S256), state and nonce,
 * by `openid-client`. The provider is discovered lazily (the first sign-in; a failed discovery is retried at the
 * next), so a gateway starts whether or not the provider is reachable.
 *
 *   begin()        a pending sign-in in the store (state, nonce, PKCE verifier), keyed by the SHA-256 of a random
 *                  cookie value the browser keeps; → the cookie value and the provider's authorisation URL
 *   finish(c, q)   consumes the pending sign-in (single use, 10 minutes), checks the returned state against it,
 *                  exchanges the code with the verifier, verifies the ID token (signature, issuer, audience, expiry,
 *                  nonce) and maps its claims to an operator name and role (roleFromClaims, a pure function)
 *
 * Every refusal names what failed (`type`, HTTP status, message) and why (`reason`, for the audit record).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import * as oidc from 'openid-client';
import type { Db } from '../store/db.ts';
import type { OidcConfig } from './config.ts';
import type { Role } from './operators.ts';

/** A sign-in must come back from the provider within this long. */
export const LOGIN_TTL_MS = 10 * 60_000;
/** Pending sign-ins older than this are deleted when a new one begins (long enough to tell a replay from an unknown one). */
const KEEP_MS = 3600_000;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/;

export type RoleMapping = { ok: true; role: Role; matched: string[] } | { ok: false; reason: 'no-claim' | 'no-role' | 'conflicting-roles'; values: string[] };

const PRECEDENCE: readonly Role[] = ['admin', 'operator', 'analyst', 'viewer'];

/**
 * The role a provider's claims give: the claim's value (a string or an array of strings) looked up in the mapping.
 * Several matches: the most privileged of admin > operator > analyst > viewer. `auditor` (external, read-only) is
 * only granted alone: an identity mapped to auditor and to another role is refused as conflicting.
 */
export function roleFromClaims(claims: Record<string, unknown>, claim: string, mapping: Readonly<Record<string, Role>>): RoleMapping {
  const raw = claims[claim];
  const values = (typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw.filter((v): v is string => typeof v === 'string') : []).slice(0, 1000);
  if (raw === undefined || raw === null) return { ok: false, reason: 'no-claim', values: [] };
  const matched = values.filter((v) => Object.prototype.hasOwnProperty.call(mapping, v));
  const roles = new Set(matched.map((v) => mapping[v]!));
  if (!roles.size) return { ok: false, reason: 'no-role', values };
  if (roles.has('auditor') && roles.size > 1) return { ok: false, reason: 'conflicting-roles', values: matched };
  const role = roles.has('auditor') ? 'auditor' : PRECEDENCE.find((r) => roles.has(r))!;
  return { ok: true, role, matched };
}

export interface OidcIdentity {
  name: string;
  role: Role;
  /** `<issuer>#<sub>`: the provider's stable identifier for the person. */
  subject: string;
  matched: string[];
}

export interface OidcRefusal {
  status: number;
  type: string;
  message: string;
  /** For the audit record. */
  reason: string;
  details?: Record<string, unknown>;
}

export type OidcOutcome = { ok: true; identity: OidcIdentity } | { ok: false; refusal: OidcRefusal };

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

function same(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

const refuse = (status: number, type: string, reason: string, message: string, details?: Record<string, unknown>): OidcOutcome => ({ ok: false, refusal: { status, type, reason, message, ...(details ? { details } : {}) } });

interface PendingRow {
  state: string;
  nonce: string;
  verifier: string;
  created_at: number | string;
}

export class OidcSignIn {
  private discovered: Promise<oidc.Configuration> | null = null;

  constructor(
    private readonly db: Db,
    readonly config: OidcConfig,
    private readonly clientSecret: () => string | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  private client(): Promise<oidc.Configuration> {
    if (!this.discovered) {
      const c = this.config;
      let auth: oidc.ClientAuth;
      if (c.clientSecretEnv) {
        const secret = this.clientSecret();
        if (!secret) return Promise.reject(new Error(`the client secret environment variable ${c.clientSecretEnv} is not set`));
        auth = oidc.ClientSecretPost(secret);
      } else auth = oidc.None();
      this.discovered = oidc
        .discovery(new URL(c.issuer), c.clientId, undefined, auth, { ...(c.allowInsecureHttp ? { execute: [oidc.allowInsecureRequests] } : {}), timeout: 10 })
        .catch((err: unknown) => {
          this.discovered = null;
          throw err;
        });
    }
    return this.discovered;
  }

  /** Starts a sign-in: → the value for the browser's login cookie, and where to send the browser. */
  async begin(): Promise<{ ok: true; cookie: string; url: string } | { ok: false; refusal: OidcRefusal }> {
    let config: oidc.Configuration;
    try {
      config = await this.client();
    } catch (err) {
      return { ok: false, refusal: unavailable(err) };
    }
    const cookie = randomBytes(32).toString('base64url');
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const verifier = oidc.randomPKCECodeVerifier();
    const challenge = await oidc.calculatePKCECodeChallenge(verifier);
    const now = this.now();
    await this.db.query('DELETE FROM oidc_logins WHERE created_at < $1', [now - KEEP_MS]);
    await this.db.query('INSERT INTO oidc_logins (id, state, nonce, verifier, created_at, used_at) VALUES ($1, $2, $3, $4, $5, NULL)', [sha256(cookie), state, nonce, verifier, now]);
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.config.redirectUrl,
      scope: this.config.scopes.join(' '),
      response_type: 'code',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { ok: true, cookie, url: url.href };
  }

  /** Finishes a sign-in from the provider's redirect (`search`: the callback's query string, with its `?`). */
  async finish(cookie: string | undefined, search: string): Promise<OidcOutcome> {
    const params = new URLSearchParams(search);
    if (!cookie || !/^[A-Za-z0-9_-]{43}$/.test(cookie)) {
      return refuse(400, 'sso_login_unknown', 'no-login-cookie', 'this sign-in was not started from this browser (no sign-in cookie); start again from the console');
    }
    // Single use: whatever happens next, this pending sign-in cannot be finished twice.
    const now = this.now();
    const rows = await this.db.query<PendingRow>('UPDATE oidc_logins SET used_at = $2 WHERE id = $1 AND used_at IS NULL RETURNING state, nonce, verifier, created_at', [sha256(cookie), now]);
    const pending = rows[0];
    if (!pending) {
      const seen = await this.db.query('SELECT used_at FROM oidc_logins WHERE id = $1', [sha256(cookie)]);
      if (seen.length) return refuse(400, 'sso_login_replayed', 'replayed', 'this sign-in has already been used; start again from the console');
      return refuse(400, 'sso_login_unknown', 'unknown-login', 'this sign-in is unknown (it may have been started on another gateway store); start again from the console');
    }
    if (now - Number(pending.created_at) > LOGIN_TTL_MS) return refuse(400, 'sso_login_expired', 'expired', `the sign-in took longer than ${LOGIN_TTL_MS / 60_000} minutes; start again from the console`);
    const state = params.get('state');
    if (state === null || !same(state, pending.state)) {
      return refuse(400, 'sso_state_mismatch', 'state-mismatch', 'the state returned by the identity provider does not match this sign-in (a forged or crossed redirect); start again from the console');
    }
    const idpError = params.get('error');
    if (idpError !== null) {
      return refuse(401, 'sso_refused_by_provider', 'provider-error', `the identity provider refused the sign-in: ${idpError.slice(0, 100)}${params.get('error_description') ? ` (${params.get('error_description')!.slice(0, 300)})` : ''}`, { error: idpError.slice(0, 100) });
    }
    let config: oidc.Configuration;
    try {
      config = await this.client();
    } catch (err) {
      return { ok: false, refusal: unavailable(err) };
    }
    const current = new URL(this.config.redirectUrl);
    current.search = params.toString();
    let claims: Record<string, unknown>;
    try {
      const tokens = await oidc.authorizationCodeGrant(config, current, { pkceCodeVerifier: pending.verifier, expectedState: pending.state, expectedNonce: pending.nonce, idTokenExpected: true });
      claims = (tokens.claims() ?? {}) as Record<string, unknown>;
    } catch (err) {
      return codeRefusal(err);
    }
    const sub = typeof claims.sub === 'string' ? claims.sub : '';
    const subject = `${String(claims.iss)}#${sub}`;
    const rawName = claims[this.config.nameClaim];
    if (typeof rawName !== 'string' || !NAME.test(rawName)) {
      return refuse(403, 'sso_no_name', 'no-name', `the ID token's ${this.config.nameClaim} claim is missing or not a usable operator name (1–100 letters, digits, . _ @ -)`, { subject });
    }
    const mapped = roleFromClaims(claims, this.config.roleClaim, this.config.roles);
    if (!mapped.ok) {
      const message =
        mapped.reason === 'no-claim'
          ? `the ID token has no ${this.config.roleClaim} claim, so no role can be given; ask for the claim to be released to this client`
          : mapped.reason === 'no-role'
            ? `no value of the ID token's ${this.config.roleClaim} claim (${mapped.values.slice(0, 10).join(', ') || 'none'}) maps to a Gatehouse role`
            : `the ${this.config.roleClaim} claim maps to auditor and to another role (${mapped.values.slice(0, 10).join(', ')}); an auditor identity must have no other role`;
      return refuse(403, 'sso_no_role', mapped.reason, message, { name: rawName, subject, values: mapped.values.slice(0, 50) });
    }
    return { ok: true, identity: { name: rawName, role: mapped.role, subject, matched: mapped.matched } };
  }
}

function unavailable(err: unknown): OidcRefusal {
  const message = err instanceof Error ? err.message : String(err);
  return { status: 503, type: 'sso_unavailable', reason: 'provider-unreachable', message: `single sign-on is unavailable: the identity provider could not be reached or configured (${message.slice(0, 300)})` };
}

/** A failed code exchange or ID-token check, in words: a replayed or forged code, a wrong nonce, a bad signature. */
function codeRefusal(err: unknown): OidcOutcome {
  const e = err as { error?: unknown; error_description?: unknown; code?: unknown; message?: unknown; cause?: unknown };
  if (err instanceof oidc.ResponseBodyError) {
    const description = typeof e.error_description === 'string' ? ` (${e.error_description.slice(0, 300)})` : '';
    return refuse(401, 'sso_code_rejected', 'code-rejected', `the identity provider rejected the authorisation code: ${String(e.error)}${description}; it may have been used already or not issued for this sign-in`, { error: String(e.error) });
  }
  if (err instanceof oidc.AuthorizationResponseError) {
    return refuse(401, 'sso_refused_by_provider', 'provider-error', `the identity provider refused the sign-in: ${String(e.error)}`, { error: String(e.error) });
  }
  // openid-client wraps the precise failure ("unexpected ID Token \"nonce\" claim value") as its cause.
  const cause = e.cause as { message?: unknown } | undefined;
  const message = `${typeof e.message === 'string' ? e.message : String(err)}${typeof cause?.message === 'string' ? `: ${cause.message}` : ''}`;
  if (err instanceof oidc.ClientError) {
    const code = typeof e.code === 'string' ? e.code : 'unknown';
    // A nonce, issuer, audience, signature or expiry check on the ID token failed.
    if (/nonce/i.test(message)) return refuse(401, 'sso_nonce_mismatch', 'nonce-mismatch', `the ID token's nonce does not match this sign-in (${message.slice(0, 200)})`, { code });
    return refuse(401, 'sso_id_token_invalid', 'id-token-invalid', `the identity provider's answer failed verification: ${message.slice(0, 300)}`, { code });
  }
  return { ok: false, refusal: unavailable(err) };
}
