/**
 * Single sign-on through OpenID Connect, end to end over HTTP: a real provider (the `oidc-provider` library) on a
 * local port, a real gateway configured for it, and a cookie-keeping client walking the flow as a browser does.
 * Sign-in maps the `groups` claim to roles and gives a session like a local operator's; a wrong state, a replayed
 * callback, a replayed code, a tampered nonce, a claim mapping to no role, a name held by a local account, a
 * disabled account and a missing sign-in cookie are each refused with a clear error and audited.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ALL_MIGRATIONS } from '../src/server/migrations.ts';
import { OidcSignIn } from '../src/console/oidc.ts';
import { configSchema } from '../src/console/config.ts';
import { openTestDb } from '../src/store/testing.ts';
import { tempDir } from './support/config.ts';
import { ADMIN_TOKEN, addOperator, auditRecords, call, cli, passwordOf, type Session } from './support/console.ts';
import { BACKENDS, startHarness, type Harness } from './support/harness.ts';
import { CookieJar, freePort, hop, signInAtIdp, startTestIdp, type TestIdp } from './support/oidc.ts';

const USERS = {
  alice: { preferred_username: 'alice', groups: ['staff', 'trust-safety'] },
  vic: { preferred_username: 'vic', groups: ['dashboards'] },
  root: { preferred_username: 'root', groups: ['dashboards', 'gatehouse-admins', 'trust-safety'] },
  mallory: { preferred_username: 'mallory', groups: ['contractors'] },
  bob: { preferred_username: 'bob', groups: ['trust-safety'] },
  nogroups: { preferred_username: 'nogroups' },
};
const ROLES = { 'trust-safety': 'operator', dashboards: 'viewer', 'gatehouse-admins': 'admin', 'external-audit': 'auditor' };

/** The session a finished sign-in left in the jar, in the shape the admin-call helper takes. */
function sessionOf(jar: CookieJar, url: string): Session {
  const origin = new URL(url).origin;
  return { cookie: `gh_session=${jar.get(origin, 'gh_session')}; gh_csrf=${jar.get(origin, 'gh_csrf')}`, csrf: jar.get(origin, 'gh_csrf')!, setCookie: [] };
}

for (const backend of BACKENDS) describe(`console: single sign-on through a local OpenID Connect provider (${backend} store)`, () => {
  let h: Harness;
  let idp: TestIdp;
  before(async () => {
    const port = await freePort();
    const redirectUrl = `http://127.0.0.1:${port}/admin/v1/session/oidc/callback`;
    idp = await startTestIdp({ redirectUri: redirectUrl, users: USERS });
    h = await startHarness({
      backend,
      port,
      extra: {
        audit: { path: join(tempDir(), 'audit.jsonl') },
        console: {
          oidc: { issuer: idp.issuer, clientId: idp.clientId, clientSecretEnv: 'TEST_OIDC_SECRET', redirectUrl, scopes: ['openid', 'profile', 'groups'], roles: ROLES, allowInsecureHttp: true, label: 'Sign in with Test IdP' },
        },
      },
      env: { GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN, TEST_OIDC_SECRET: idp.clientSecret },
    });
    await addOperator(h.storeUrl, 'bob', 'viewer');
  });
  after(async () => {
    await h?.close();
    await idp?.close();
  });

  const deliver = (jar: CookieJar, url: string, accept = 'application/json') => hop(jar, url, { accept });

  test('the sign-in page learns that single sign-on is offered', async () => {
    const r = await call(h.url, 'GET', '/session/methods');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { password: true, sso: { label: 'Sign in with Test IdP', url: '/admin/v1/session/oidc' } });
  });

  test('sign-in end to end: PKCE, a session like a local one, the role from the groups claim, audited', async () => {
    const jar = new CookieJar();
    const { callbackUrl, authUrl } = await signInAtIdp(jar, h.url, 'alice');
    const auth = new URL(authUrl);
    assert.equal(auth.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(auth.searchParams.get('code_challenge') && auth.searchParams.get('state') && auth.searchParams.get('nonce'));
    assert.equal(auth.searchParams.get('scope'), 'openid profile groups');
    const loginCookie = jar.get(new URL(h.url).origin, 'gh_oidc')!;
    assert.ok(loginCookie);
    const done = await deliver(jar, callbackUrl);
    assert.equal(done.status, 303, done.body);
    assert.equal(done.location, `${h.url}/console/`);
    const session = done.setCookie.find((c) => c.startsWith('gh_session='))!;
    assert.match(session, /HttpOnly/);
    assert.match(session, /SameSite=Strict/);
    assert.match(session, /Secure/);
    assert.ok(done.setCookie.some((c) => /^gh_oidc=;.*Max-Age=0/.test(c)), 'the sign-in cookie is cleared');
    const s = sessionOf(jar, h.url);
    const me = await call(h.url, 'GET', '/session', { session: s });
    assert.deepEqual([me.body.name, me.body.role, me.body.via], ['alice', 'operator', 'session']);
    // The session is an ordinary one: CSRF is required on changes, and the role is enforced.
    const noCsrf = await call(h.url, 'POST', '/keys', { session: s, csrf: null, body: {} });
    assert.equal(noCsrf.status, 403);
    assert.equal(noCsrf.body.error.type, 'csrf_failed');
    const login = await auditRecords(h.url, (r) => r.action === 'console.sso_login' && r.actor === 'alice');
    assert.equal(login[0].details.role, 'operator');
    assert.deepEqual(login[0].details.matched, ['trust-safety']);
    assert.match(login[0].details.subject, /^http:\/\/127\.0\.0\.1:\d+#alice$/);

    // The account is listed (made by single sign-on) and cannot sign in with a password.
    const list = JSON.parse((await cli(['list', '--json', '--store', h.storeUrl])).out) as { name: string; source: string }[];
    assert.equal(list.find((o) => o.name === 'alice')?.source, 'oidc');
    const pw = await call(h.url, 'POST', '/session', { body: { name: 'alice', password: passwordOf('alice') } });
    assert.equal(pw.status, 401);
    assert.equal(pw.body.error.type, 'invalid_credentials');

    // Replaying the callback with its sign-in cookie (captured, say, from the browser) is refused: a sign-in
    // finishes once.
    const thief = new CookieJar();
    thief.set(new URL(h.url).origin, 'gh_oidc', loginCookie);
    const replay = await deliver(thief, callbackUrl);
    assert.equal(replay.status, 400);
    assert.equal(JSON.parse(replay.body).error.type, 'sso_login_replayed');
    assert.equal(replay.setCookie.filter((c) => c.startsWith('gh_session=')).length, 0);

    // Replaying the code in a new sign-in (right state, code already redeemed): the provider refuses it.
    const jar2 = new CookieJar();
    const fresh = await signInAtIdp(jar2, h.url, 'alice');
    const crossed = new URL(fresh.callbackUrl);
    crossed.searchParams.set('code', new URL(callbackUrl).searchParams.get('code')!);
    const reused = await deliver(jar2, crossed.href);
    assert.equal(reused.status, 401, reused.body);
    const err = JSON.parse(reused.body).error;
    assert.equal(err.type, 'sso_code_rejected');
    assert.match(err.message, /invalid_grant/);
    const failed = await auditRecords(h.url, (r) => r.action === 'console.sso_failed' && ['replayed', 'code-rejected'].includes(r.target), 2);
    assert.deepEqual(failed.map((r) => r.target).sort(), ['code-rejected', 'replayed']);
  });

  test('several groups: the most privileged role wins; a viewer gets a viewer session', async () => {
    const jar = new CookieJar();
    assert.equal((await deliver(jar, (await signInAtIdp(jar, h.url, 'root')).callbackUrl)).status, 303);
    assert.equal((await call(h.url, 'GET', '/session', { session: sessionOf(jar, h.url) })).body.role, 'admin');
    const vj = new CookieJar();
    assert.equal((await deliver(vj, (await signInAtIdp(vj, h.url, 'vic')).callbackUrl)).status, 303);
    const v = sessionOf(vj, h.url);
    assert.equal((await call(h.url, 'GET', '/session', { session: v })).body.role, 'viewer');
    const denied = await call(h.url, 'POST', '/directives', { session: v, body: { models: ['lite'], population: {}, effect: 'suspend', authority: 'A', reference: 'R', why: 'w' } });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error.type, 'forbidden');
  });

  test('a wrong state is refused, and the sign-in it belonged to cannot be finished afterwards', async () => {
    const jar = new CookieJar();
    const { callbackUrl } = await signInAtIdp(jar, h.url, 'alice');
    const forged = new URL(callbackUrl);
    forged.searchParams.set('state', 'attacker-chosen-state');
    const r = await deliver(jar, forged.href, 'text/html');
    assert.equal(r.status, 400);
    assert.match(r.body, /<code>sso_state_mismatch<\/code>: the state returned by the identity provider does not match this sign-in/);
    assert.equal((await deliver(jar, callbackUrl)).status, 400, 'the pending sign-in was spent by the forged redirect');
    const rec = await auditRecords(h.url, (x) => x.action === 'console.sso_failed' && x.target === 'state-mismatch');
    assert.equal(rec[0].details.type, 'sso_state_mismatch');

    // The provider sending the browser back with an error (the person cancelled): refused, naming the error.
    const jar2 = new CookieJar();
    const back = new URL((await signInAtIdp(jar2, h.url, 'alice')).callbackUrl);
    const cancelled = new URL(back.origin + back.pathname);
    cancelled.search = new URLSearchParams({ error: 'access_denied', error_description: 'the person cancelled', state: back.searchParams.get('state')!, iss: back.searchParams.get('iss')! }).toString();
    const denied = await deliver(jar2, cancelled.href);
    assert.equal(denied.status, 401);
    const e = JSON.parse(denied.body).error;
    assert.equal(e.type, 'sso_refused_by_provider');
    assert.match(e.message, /access_denied \(the person cancelled\)/);
  });

  test('a nonce tampered with in the authorisation request is caught in the ID token', async () => {
    const jar = new CookieJar();
    const { callbackUrl } = await signInAtIdp(jar, h.url, 'alice', (auth) => auth.searchParams.set('nonce', 'not-the-nonce-of-this-sign-in'));
    const r = await deliver(jar, callbackUrl);
    assert.equal(r.status, 401, r.body);
    const err = JSON.parse(r.body).error;
    assert.equal(err.type, 'sso_nonce_mismatch', r.body);
    assert.match(err.message, /nonce does not match/);
    assert.equal(r.setCookie.filter((c) => c.startsWith('gh_session=')).length, 0);
    assert.equal((await auditRecords(h.url, (x) => x.action === 'console.sso_failed' && x.target === 'nonce-mismatch')).length, 1);
  });

  test('claims mapping to no role, no groups claim, a local account\'s name: refused and audited', async () => {
    const jar = new CookieJar();
    const r = await deliver(jar, (await signInAtIdp(jar, h.url, 'mallory')).callbackUrl);
    assert.equal(r.status, 403);
    const err = JSON.parse(r.body).error;
    assert.equal(err.type, 'sso_no_role');
    assert.match(err.message, /no value of the ID token's groups claim \(contractors\) maps to a Gatehouse role/);
    const rec = await auditRecords(h.url, (x) => x.action === 'console.sso_failed' && x.target === 'no-role');
    assert.equal(rec[0].actor, 'mallory');
    assert.deepEqual(rec[0].details.values, ['contractors']);

    const nj = new CookieJar();
    const none = JSON.parse((await deliver(nj, (await signInAtIdp(nj, h.url, 'nogroups')).callbackUrl)).body).error;
    assert.equal(none.type, 'sso_no_role');
    assert.match(none.message, /has no groups claim/);

    const bj = new CookieJar();
    const taken = await deliver(bj, (await signInAtIdp(bj, h.url, 'bob')).callbackUrl);
    assert.equal(taken.status, 403);
    assert.equal(JSON.parse(taken.body).error.type, 'sso_name_taken');
    assert.equal((await call(h.url, 'POST', '/session', { body: { name: 'bob', password: passwordOf('bob') } })).body.role, 'viewer', 'the local account is untouched');
  });

  test('a callback without the browser\'s sign-in cookie, and a disabled account, are refused', async () => {
    const since = Date.now();
    const jar = new CookieJar();
    const { callbackUrl } = await signInAtIdp(jar, h.url, 'alice');
    const elsewhere = await deliver(new CookieJar(), callbackUrl);
    assert.equal(elsewhere.status, 400);
    assert.equal(JSON.parse(elsewhere.body).error.type, 'sso_login_unknown');

    assert.equal((await deliver(jar, callbackUrl)).status, 303);
    const s = sessionOf(jar, h.url);
    assert.equal((await cli(['disable', 'alice', '--store', h.storeUrl])).code, 0);
    assert.equal((await call(h.url, 'GET', '/session', { session: s })).body.error.type, 'session_expired');
    const again = new CookieJar();
    const r = await deliver(again, (await signInAtIdp(again, h.url, 'alice')).callbackUrl);
    assert.equal(r.status, 403);
    assert.equal(JSON.parse(r.body).error.type, 'sso_account_disabled');
    const recs = await auditRecords(h.url, (x) => x.action === 'console.sso_failed' && x.time >= since && ['no-login-cookie', 'disabled'].includes(x.target), 2);
    assert.deepEqual(recs.map((x) => x.target).sort(), ['disabled', 'no-login-cookie']);
  });
});

describe('console: single sign-on configuration and an unreachable provider', () => {
  test('the config section refuses a bad redirect URL, http without opting in, an empty role map', () => {
    const base = { issuer: 'https://idp.example.com', clientId: 'gh', redirectUrl: 'https://gw.example.com/admin/v1/session/oidc/callback', roles: { ops: 'operator' } };
    assert.equal(configSchema.safeParse({ oidc: base }).success, true);
    const issues = (oidc: unknown) => configSchema.safeParse({ oidc }).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    assert.deepEqual(issues({ ...base, redirectUrl: 'https://gw.example.com/callback' }), ['oidc.redirectUrl: must end with /admin/v1/session/oidc/callback']);
    assert.match(issues({ ...base, issuer: 'http://idp.example.com' })[0]!, /oidc.issuer: must be an https:\/\/ URL/);
    assert.match(issues({ ...base, roles: {} })[0]!, /map at least one claim value to a role/);
    assert.match(issues({ ...base, roles: { ops: 'root' } })[0]!, /oidc.roles.ops/);
    assert.match(issues({ ...base, scopes: ['profile'] })[0]!, /must include openid/);
  });

  test('an unreachable provider: 503 sso_unavailable, and the next sign-in tries discovery again', async () => {
    const store = await openTestDb('sqlite', ALL_MIGRATIONS);
    try {
      const port = await freePort();
      const config = configSchema.parse({ oidc: { issuer: `http://127.0.0.1:${port}`, clientId: 'gh', redirectUrl: 'http://127.0.0.1:1/admin/v1/session/oidc/callback', roles: { ops: 'operator' }, allowInsecureHttp: true } }).oidc!;
      const sso = new OidcSignIn(store.db, config, () => undefined);
      for (let i = 0; i < 2; i++) {
        const r = await sso.begin();
        assert.equal(r.ok, false);
        if (!r.ok) {
          assert.equal(r.refusal.status, 503);
          assert.equal(r.refusal.type, 'sso_unavailable');
          assert.match(r.refusal.message, /identity provider could not be reached/);
        }
      }
    } finally {
      await store.cleanup();
    }
  });
});
