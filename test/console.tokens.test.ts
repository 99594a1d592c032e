/**
 * Per-operator and per-service admin tokens against a real gateway: made with the CLI and the admin API, stored
 * hashed, acting as their operator (named in the audit records) or as `service:<name>` within their role and
 * scopes; expired, revoked, owner-disabled, unknown and out-of-scope tokens refused with a clear error and audited;
 * the shared admin token still working, attributed as such.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Fastify from 'fastify';
import { callerOf, operatorAuthHook } from '../src/console/auth.ts';
import { run as tokensCli } from '../src/console/tokens-cli.ts';
import { OperatorRepository } from '../src/console/operators.ts';
import { scopeProblems, scopesCover } from '../src/console/scopes.ts';
import { AdminTokenRepository } from '../src/console/tokens.ts';
import { ALL_MIGRATIONS } from '../src/server/migrations.ts';
import { openDb } from '../src/store/open.ts';
import { openTestDb } from '../src/store/testing.ts';
import { tempDir } from './support/config.ts';
import { ADMIN_TOKEN, addOperator, auditRecords, call, cli as operatorsCli, signIn } from './support/console.ts';
import { BACKENDS, startHarness, type Harness } from './support/harness.ts';

async function tokens(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await tokensCli(['tokens', ...argv], { out: (s) => void (out += s), err: (s) => void (err += s), env: process.env });
  return { code, out, err };
}

const DIRECTIVE = { models: ['lite'], population: {}, effect: 'suspend', authority: 'Test authority', reference: 'Order 9', why: 'token test', by: 'someone-else' };

for (const backend of BACKENDS) describe(`console: admin tokens per operator and service, with scopes and expiry (${backend} store)`, () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ backend, extra: { audit: { path: join(tempDir(), 'audit.jsonl') }, console: { maxDeniedPerMinute: 100 } }, env: { GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN } });
    await addOperator(h.storeUrl, 'alice', 'operator');
    await addOperator(h.storeUrl, 'olga', 'operator');
    await addOperator(h.storeUrl, 'ada', 'admin');
  });
  after(async () => h?.close());

  test('an operator token from the CLI acts as the operator within its scopes; records name her', async () => {
    const made = await tokens(['create', 'alice-laptop', '--operator', 'alice', '--scopes', 'directives:write,audit:read', '--expires', '30d', '--json', '--store', h.storeUrl]);
    assert.equal(made.code, 0, made.err);
    const { token, secret } = JSON.parse(made.out) as { token: { id: string; expiresAt: number; scopes: string[] }; secret: string };
    assert.match(secret, /^ghadm_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(token.scopes, ['directives:write', 'audit:read']);
    assert.ok(Math.abs(token.expiresAt - (Date.now() + 30 * 86_400_000)) < 60_000);

    // Stored hashed: the secret is nowhere in the table.
    const db = await openDb(h.storeUrl);
    try {
      const rows = await db.query<Record<string, unknown>>('SELECT * FROM admin_tokens WHERE id = $1', [token.id]);
      assert.equal(rows.length, 1);
      assert.ok(!JSON.stringify(rows).includes(secret.slice(6)), 'no secret in the store');
      assert.match(String(rows[0]!.hash), /^[0-9a-f]{64}$/);
    } finally {
      await db.close();
    }

    const me = await call(h.url, 'GET', '/session', { token: secret });
    assert.deepEqual([me.body.name, me.body.role, me.body.via, me.body.token, me.body.scopes], ['alice', 'operator', 'token', token.id, ['directives:write', 'audit:read']]);
    const issued = await call(h.url, 'POST', '/directives', { token: secret, body: DIRECTIVE });
    assert.equal(issued.status, 201, JSON.stringify(issued.body));
    assert.equal(issued.body.directive.issuedBy, 'alice', 'the directive names the token\'s operator, whatever the body says');
    const rec = await auditRecords(h.url, (r) => r.action === 'admin.post' && r.target === '/admin/v1/directives' && r.details.credential === token.id);
    assert.equal(rec[0].actor, 'alice');
    // The directive's own record (written by its capability through the audit inbox) names the caller too.
    const own = await auditRecords(h.url, (r) => r.action === 'directive.issued' && r.target === issued.body.directive.id);
    assert.equal(own[0].details.caller, 'alice');
    assert.equal(own[0].details.credential, token.id);

    // Out of scope (her role may read keys; the token may not): 403 insufficient_scope, audited.
    const keys = await call(h.url, 'GET', '/keys', { token: secret });
    assert.equal(keys.status, 403);
    assert.equal(keys.body.error.type, 'insufficient_scope');
    assert.match(keys.body.error.message, new RegExp(`admin token ${token.id} has scopes directives:write audit:read; GET /admin/v1/keys needs keys:read`));
    const denied = await auditRecords(h.url, (r) => r.action === 'admin.denied' && r.actor === 'alice' && r.details.needed === 'keys:read');
    assert.equal(denied[0].details.token, token.id);
    assert.equal(denied[0].target, '/admin/v1/keys');

    // Beyond the operator's role (operators may not create tokens), whatever the scopes.
    const wide = JSON.parse((await tokens(['create', 'alice-wide', '--operator', 'alice', '--scopes', '*', '--json', '--store', h.storeUrl])).out).secret as string;
    const mint = await call(h.url, 'GET', '/tokens', { token: wide });
    assert.equal(mint.status, 403);
    assert.equal(mint.body.error.type, 'forbidden');
    assert.match(mint.body.error.message, /the operator role may not GET \/admin\/v1\/tokens/);
  });

  test('a service token made through the admin API: its own role, named service:<name>; tokens cannot mint tokens', async () => {
    const s = await signIn(h.url, 'ada');
    const made = await call(h.url, 'POST', '/tokens', { session: s, body: { name: 'grafana', service: 'dashboards', role: 'viewer', scopes: ['*:read'], expiresInDays: 7 } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(made.body.token.status, 'active');
    assert.equal(made.body.token.createdBy, 'ada');
    assert.equal(made.body.token.hash, undefined);
    const secret = made.body.secret as string;
    const usage = await call(h.url, 'GET', '/usage', { token: secret });
    assert.equal(usage.status, 200);
    const change = await call(h.url, 'POST', '/directives', { token: secret, body: DIRECTIVE });
    assert.equal(change.status, 403);
    assert.equal(change.body.error.type, 'forbidden');
    assert.match(change.body.error.message, /the viewer role may not POST \/admin\/v1\/directives/);
    assert.equal((await auditRecords(h.url, (r) => r.action === 'admin.denied' && r.actor === 'service:dashboards')).length, 1);
    const created = await auditRecords(h.url, (r) => r.action === 'token.created' && r.target === made.body.token.id);
    assert.equal(created[0].actor, 'ada');

    const adminSvc = await call(h.url, 'POST', '/tokens', { token: ADMIN_TOKEN, body: { name: 'rotator', service: 'rotator', role: 'admin', scopes: ['tokens:write'] } });
    assert.equal(adminSvc.status, 201);
    const listed = await call(h.url, 'GET', '/tokens?status=active', { token: adminSvc.body.secret });
    assert.equal(listed.status, 200);
    assert.ok(listed.body.tokens.some((t: { id: string }) => t.id === made.body.token.id));
    assert.ok(!JSON.stringify(listed.body).includes('ghadm_'), 'no secret is ever listed');
    const minted = await call(h.url, 'POST', '/tokens', { token: adminSvc.body.secret, body: { name: 'x', service: 'x', role: 'admin', scopes: ['*'] } });
    assert.equal(minted.status, 403);
    assert.match(minted.body.error.message, /an admin token cannot create admin tokens/);

    // The shared admin token still works, attributed as the shared token.
    const rec = await auditRecords(h.url, (r) => r.action === 'admin.post' && r.target === '/admin/v1/tokens' && r.details.credential === 'shared-token');
    assert.equal(rec[0].actor, 'admin-api');
    // Records a capability writes while handling a call name its caller: a key made in ada's session is hers.
    const key = await call(h.url, 'POST', '/keys', { session: s, body: { accountId: 'acct-ada' } });
    assert.equal(key.status, 201);
    const keyRec = await auditRecords(h.url, (r) => r.action === 'key.created' && r.target === key.body.key.id);
    assert.deepEqual([keyRec[0].actor, keyRec[0].details.caller, keyRec[0].details.credential], ['ada', 'ada', 'session']);
    // An operator's session may not manage tokens.
    const op = await call(h.url, 'POST', '/tokens', { session: await signIn(h.url, 'olga'), body: { name: 'mine', operator: 'olga', scopes: ['*'] } });
    assert.equal(op.status, 403);
    assert.equal(op.body.error.type, 'forbidden');
  });

  test('revoked, expired, owner-disabled and unknown tokens: 401 with a clear error, audited', async () => {
    const mk = async (name: string, operator: string) => {
      const r = await call(h.url, 'POST', '/tokens', { token: ADMIN_TOKEN, body: { name, operator, scopes: ['*:read'], expiresAt: new Date(Date.now() + 3600_000).toISOString() } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      return r.body as { token: { id: string }; secret: string };
    };
    const revoked = await mk('to-revoke', 'alice');
    assert.equal((await call(h.url, 'GET', '/directives', { token: revoked.secret })).status, 200);
    const del = await call(h.url, 'DELETE', `/tokens/${revoked.token.id}`, { token: ADMIN_TOKEN });
    assert.equal(del.status, 200);
    assert.equal(del.body.token.status, 'revoked');
    assert.equal((await call(h.url, 'DELETE', `/tokens/${revoked.token.id}`, { token: ADMIN_TOKEN })).status, 409);
    const r1 = await call(h.url, 'GET', '/directives', { token: revoked.secret });
    assert.equal(r1.status, 401);
    assert.equal(r1.body.error.type, 'token_revoked');
    assert.match(r1.body.error.message, new RegExp(`admin token ${revoked.token.id} \\('to-revoke'\\) is revoked`));

    const expired = await mk('to-expire', 'alice');
    const db = await openDb(h.storeUrl);
    try {
      await db.query('UPDATE admin_tokens SET expires_at = $2 WHERE id = $1', [expired.token.id, Date.now() - 1000]);
    } finally {
      await db.close();
    }
    const r2 = await call(h.url, 'GET', '/directives', { token: expired.secret });
    assert.equal(r2.status, 401);
    assert.equal(r2.body.error.type, 'token_expired');
    assert.match(r2.body.error.message, /is expired \(at \d{4}-\d\d-\d\dT/);
    assert.equal((await tokens(['list', '--status', 'expired', '--json', '--store', h.storeUrl])).out.includes(expired.token.id), true);

    const olgas = await mk('olga-token', 'olga');
    assert.equal((await operatorsCli(['disable', 'olga', '--store', h.storeUrl])).code, 0);
    const r3 = await call(h.url, 'GET', '/directives', { token: olgas.secret });
    assert.equal(r3.status, 401);
    assert.equal(r3.body.error.type, 'token_owner_disabled');

    const r4 = await call(h.url, 'GET', '/directives', { token: `ghadm_${'x'.repeat(43)}` });
    assert.equal(r4.status, 401);
    assert.equal(r4.body.error.message, 'invalid admin token');

    const refused = await auditRecords(h.url, (r) => r.action === 'admin.token_refused', 4);
    assert.deepEqual(new Set(refused.map((r) => r.details.reason)), new Set(['revoked', 'expired', 'owner-disabled', 'unknown']));
    assert.equal(refused.find((r) => r.details.reason === 'revoked').actor, 'alice');
  });

  test('bad input to token creation: each a 400 naming the problem; the CLI exits 2', async () => {
    const post = (body: unknown) => call(h.url, 'POST', '/tokens', { token: ADMIN_TOKEN, body });
    const cases: [unknown, number, RegExp][] = [
      [{ name: 't', operator: 'alice', scopes: ['keys:delete'] }, 400, /scope 'keys:delete' is not <area>:read/],
      [{ name: 't', operator: 'alice', scopes: [] }, 400, /non-empty list/],
      [{ name: 't', operator: 'alice', service: 's', role: 'viewer', scopes: ['*'] }, 400, /exactly one of operator .* or service/],
      [{ name: 't', service: 's', scopes: ['*'] }, 400, /a service token needs a role/],
      [{ name: 't', operator: 'alice', role: 'admin', scopes: ['*'] }, 400, /an operator token has its operator's role/],
      [{ name: 't', operator: 'nobody', scopes: ['*'] }, 404, /no operator named 'nobody'/],
      [{ name: 't', operator: 'alice', scopes: ['*'], expiresAt: '2020-01-01T00:00:00Z' }, 400, /must be in the future/],
      [{ name: 't', operator: 'alice', scopes: ['*'], expiresInDays: 400 }, 400, /expiresInDays/],
      [{ name: 't', operator: 'alice', scopes: ['*'], colour: 'red' }, 400, /colour/],
      [{ name: 'bad name!', operator: 'alice', scopes: ['*'] }, 400, /name: 1–100 letters/],
    ];
    for (const [body, status, message] of cases) {
      const r = await post(body);
      assert.equal(r.status, status, JSON.stringify(body));
      assert.match(r.body.error.message, message, JSON.stringify(body));
    }
    const cli = await tokens(['create', 't', '--operator', 'alice', '--scopes', 'everything', '--store', h.storeUrl]);
    assert.equal(cli.code, 2);
    assert.match(cli.err, /scope 'everything'/);
    const missing = await tokens(['revoke', 'tok_nope', '--store', h.storeUrl]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /no admin token 'tok_nope'/);
    assert.equal((await call(h.url, 'GET', '/tokens?status=lost', { token: ADMIN_TOKEN })).status, 400);
    assert.equal((await call(h.url, 'GET', '/tokens/tok_nope', { token: ADMIN_TOKEN })).status, 404);
  });
});

describe('console: admin token parts', () => {
  test('scopes: read within write, areas, wildcards', () => {
    const cases: [string[], string, string, boolean][] = [
      [['keys:read'], 'GET', '/keys/k1', true],
      [['keys:read'], 'DELETE', '/keys/k1', false],
      [['keys:write'], 'GET', '/keys', true],
      [['keys:write'], 'GET', '/licences', false],
      [['*:read'], 'GET', '/audit', true],
      [['*:read'], 'POST', '/replay', false],
      [['*'], 'POST', '/directives/d1/lift', true],
      [['export-control:read'], 'GET', '/export-control/report', true],
    ];
    for (const [scopes, method, path, expected] of cases) assert.equal(scopesCover(scopes, method, path), expected, `${scopes.join(',')} ${method} ${path}`);
    assert.deepEqual(scopeProblems(['keys:read', '*:write', '*']), []);
    assert.equal(scopeProblems(['keys']).length, 1);
    assert.equal(scopeProblems('keys:read').length, 1);
  });

  test('with no shared admin token configured, a store token still opens the admin API', async () => {
    const t = await openTestDb('sqlite', ALL_MIGRATIONS);
    const app = Fastify();
    try {
      await new OperatorRepository(t.db).add({ name: 'vera', role: 'viewer', password: 'a long password 3', by: 'test' });
      const repo = new AdminTokenRepository(t.db);
      const { secret } = await repo.create({ name: 'v', operator: 'vera', scopes: ['usage:read'], by: 'test' });
      const records: string[] = [];
      app.addHook('onRequest', operatorAuthHook({ adminToken: () => undefined, sessions: null, tokens: repo, recordAdmin: (action) => void records.push(action), maxDeniedPerMinute: 10 }));
      app.get('/admin/v1/usage', async (request) => ({ who: callerOf(request)!.name }));
      assert.deepEqual((await app.inject({ url: '/admin/v1/usage', headers: { authorization: `Bearer ${secret}` } })).json(), { who: 'vera' });
      assert.equal((await app.inject({ url: '/admin/v1/usage' })).json().error.type, 'admin_disabled');
      assert.deepEqual(records, []);
    } finally {
      await app.close();
      await t.cleanup();
    }
  });
});
