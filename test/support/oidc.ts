/**
 * A real OpenID Connect provider for the tests: the `oidc-provider` library (certified OpenID Connect server) on an
 * ephemeral port, with one confidential client (the gateway), PKCE required, RS256-signed ID tokens that carry the
 * `groups` claim, and a labelled sign-in form at /interaction/:uid (any listed user, no password). Consent is
 * granted to the gateway client without asking (a first-party client).
 *
 * Also: a cookie-keeping HTTP client that walks the whole sign-in flow as a browser would (gateway → provider
 * → sign-in form → provider → gateway callback), stopping where a test wants to tamper with it.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export interface TestUser {
  preferred_username?: string;
  email?: string;
  groups?: string[] | string;
}

export interface TestIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  users: Record<string, TestUser>;
  close(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (the gateway's redirect URL must be known before it starts). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((res) => s.close(() => res()));
  return port;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function formBody(req: IncomingMessage): Promise<URLSearchParams> {
  let data = '';
  for await (const chunk of req) data += chunk;
  return new URLSearchParams(data);
}

export async function startTestIdp(opts: { redirectUri: string; users: Record<string, TestUser> }): Promise<TestIdp> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'test-key', alg: 'RS256', use: 'sig' };
  const clientId = 'gatehouse-console';
  const clientSecret = 'test-client-secret-0123456789abcdef';
  const server: Server = createServer();
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const users = opts.users;
  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: [opts.redirectUri], grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_post' }],
    jwks: { keys: [jwk] },
    cookies: { keys: ['test-cookie-signing-key'] },
    claims: { openid: ['sub'], profile: ['preferred_username'], email: ['email'], groups: ['groups'] },
    scopes: ['openid', 'profile', 'email', 'groups'],
    // Scope-requested claims go into the ID token itself (as most enterprise providers configure groups).
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 3600, IdToken: 600, Interaction: 600, Session: 3600 },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    findAccount: async (_ctx: unknown, sub: string) => (users[sub] ? { accountId: sub, claims: async () => ({ sub, ...users[sub] }) } : undefined),
    async loadExistingGrant(ctx: any) {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope('openid profile email groups');
      await grant.save();
      return grant;
    },
  });
  const callback = provider.callback();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', issuer);
    const m = /^\/interaction\/([^/]+)(\/login)?$/.exec(url.pathname);
    if (!m) return void callback(req, res);
    void (async () => {
      try {
        const details = await provider.interactionDetails(req, res);
        if (req.method === 'GET') {
          res.setHeader('content-type', 'text/html; charset=utf-8');
          res.end(`<!doctype html><html lang="en"><head><title>Test identity provider</title></head><body><main><h1>Test identity provider</h1>
<form method="post" action="/interaction/${esc(details.uid)}/login"><label for="u">Username</label><input id="u" name="login" autocomplete="username"><button type="submit">Continue</button></form></main></body></html>`);
          return;
        }
        const login = (await formBody(req)).get('login') ?? '';
        if (!users[login]) {
          res.statusCode = 400;
          res.setHeader('content-type', 'text/plain; charset=utf-8');
          res.end(`unknown test user '${login}'`);
          return;
        }
        await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
      } catch (err) {
        res.statusCode = 500;
        res.end(String((err as Error).message));
      }
    })();
  });
  return {
    issuer,
    clientId,
    clientSecret,
    users,
    close: () => new Promise<void>((res) => {
      server.closeAllConnections();
      server.close(() => res());
    }),
  };
}

/** Cookies by name, as a browser keeps them per site (paths ignored: one test client per browser). */
export class CookieJar {
  private readonly byOrigin = new Map<string, Map<string, string>>();

  take(origin: string, setCookie: string[]): void {
    const jar = this.byOrigin.get(origin) ?? new Map<string, string>();
    this.byOrigin.set(origin, jar);
    for (const c of setCookie) {
      const [pair, ...attrs] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const gone = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]!) < Date.now()));
      if (gone || value === '') jar.delete(name);
      else jar.set(name, value);
    }
  }

  header(origin: string): string {
    return [...(this.byOrigin.get(origin) ?? new Map()).entries()].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  set(origin: string, name: string, value: string): void {
    const jar = this.byOrigin.get(origin) ?? new Map<string, string>();
    this.byOrigin.set(origin, jar);
    jar.set(name, value);
  }

  get(origin: string, name: string): string | undefined {
    return this.byOrigin.get(origin)?.get(name);
  }
}

export interface Hop {
  status: number;
  location: string | null;
  url: string;
  body: string;
  setCookie: string[];
}

/** One request with the jar's cookies, no redirect following. */
export async function hop(jar: CookieJar, url: string, init: { method?: string; form?: Record<string, string>; accept?: string } = {}): Promise<Hop> {
  const u = new URL(url);
  const headers: Record<string, string> = { accept: init.accept ?? 'application/json' };
  const cookies = jar.header(u.origin);
  if (cookies) headers.cookie = cookies;
  let body: string | undefined;
  if (init.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(init.form).toString();
  }
  const r = await fetch(url, { method: init.method ?? (body ? 'POST' : 'GET'), headers, redirect: 'manual', ...(body !== undefined ? { body } : {}) });
  const setCookie = r.headers.getSetCookie();
  jar.take(u.origin, setCookie);
  const location = r.headers.get('location');
  return { status: r.status, location: location ? new URL(location, url).href : null, url, body: await r.text(), setCookie };
}

/**
 * Walks a sign-in as a browser would: the gateway's /admin/v1/session/oidc, the provider's authorisation endpoint
 * (optionally rewritten by `tamper`), its sign-in form as `user`, back to the provider, and stops at the gateway
 * callback URL (not yet requested), so the test decides how to deliver it.
 */
export async function signInAtIdp(jar: CookieJar, gatewayUrl: string, user: string, tamper?: (authUrl: URL) => void): Promise<{ callbackUrl: string; authUrl: string }> {
  const start = await hop(jar, `${gatewayUrl}/admin/v1/session/oidc`);
  if (start.status !== 303 || !start.location) throw new Error(`sign-in start: ${start.status} ${start.body}`);
  const auth = new URL(start.location);
  tamper?.(auth);
  let next = await hop(jar, auth.href);
  for (let i = 0; i < 10; i++) {
    if (!next.location) throw new Error(`provider answered ${next.status} at ${next.url}: ${next.body.slice(0, 500)}`);
    if (next.location.startsWith(gatewayUrl)) return { callbackUrl: next.location, authUrl: auth.href };
    const loc = new URL(next.location);
    if (/^\/interaction\/[^/]+$/.test(loc.pathname)) {
      const form = await hop(jar, loc.href, { accept: 'text/html' });
      if (form.status !== 200) throw new Error(`interaction page: ${form.status} ${form.body}`);
      next = await hop(jar, `${loc.href}/login`, { form: { login: user } });
    } else next = await hop(jar, loc.href);
  }
  throw new Error('too many redirects at the identity provider');
}
