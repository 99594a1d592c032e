/**
 * The admin API as documented: every body field of keys, directives, licences, licence exports and policy explain is in the README,
 * time fields take the CLI's `now`, and errors use one vocabulary of `type` values across capabilities.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { amendSchema, issueSchema, liftSchema } from '../src/directives/model.ts';
import { createKeySchema, updateKeySchema } from '../src/identity/attributes.ts';
import { explainSchema } from '../src/policy/admin-routes.ts';
import { licenceGrantSchema } from '../src/policy/licences.ts';
import { exportRecordSchema } from '../src/policy/licence-exports.ts';
import { composeGateway } from '../src/server/compose.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const adminDocs = readme.slice(readme.indexOf('### Admin API'), readme.indexOf('## Observability'));

const ERROR_TYPES = new Set(['invalid_request', 'unauthorized', 'not_found', 'admin_disabled', 'conflict', 'request_too_large', 'unavailable', 'internal']);

test('the README documents every field of every admin request body', () => {
  assert.ok(adminDocs.length > 1000, 'README has an Admin API section');
  const schemas = { createKeySchema, updateKeySchema, issueSchema, amendSchema, liftSchema, licenceGrantSchema, exportRecordSchema, explainSchema } as Record<string, { shape?: Record<string, unknown> }>;
  const missing: string[] = [];
  for (const [name, schema] of Object.entries(schemas)) {
    assert.ok(schema.shape, `${name} is an object schema`);
    for (const field of Object.keys(schema.shape)) if (!adminDocs.includes(`\`${field}\``)) missing.push(`${name}.${field}`);
  }
  assert.deepEqual(missing, []);
  for (const type of ERROR_TYPES) assert.ok(adminDocs.includes(`\`${type}\``), `error type ${type} is documented`);
});

test('admin time fields take "now" like the CLI, and every admin error uses the documented types', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-admin-'));
  const config = join(dir, 'gw.yaml');
  writeFileSync(config, [
    'server: { logLevel: silent }',
    'store: { url: "sqlite:gatehouse.db" }',
    'providers: { sim: { type: simulator } }',
    'models: [{ name: m, provider: sim, upstreamModel: m }, { name: lite, provider: sim, upstreamModel: l }]',
    'audit: { path: audit/audit.jsonl }',
    'abuse: { degradedModel: lite }',
    '',
  ].join('\n'));
  const composed = await composeGateway({ configPath: config, port: 0, env: { GATEHOUSE_ADMIN_TOKEN: 'admin-test-token' } });
  const url = composed.gateway.url;
  const call = async (method: string, path: string, body?: unknown, token: string | null = 'admin-test-token') => {
    const headers: Record<string, string> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const r = await fetch(`${url}/admin/v1${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    return { status: r.status, body: (await r.json()) as { error?: { type: string }; licence?: { validFrom: number }; directive?: { effectiveAt: number } } };
  };
  try {
    const before = Date.now();
    const licence = await call('POST', '/licences', {
      licensee: { org: 'acme' }, models: ['m'], nationalities: ['*'], validFrom: 'now', validTo: '2099-01-01T00:00:00Z',
      reference: 'L-1', authority: 'export office', by: 'test',
    });
    assert.equal(licence.status, 201, JSON.stringify(licence.body));
    assert.ok(licence.body.licence!.validFrom >= before && licence.body.licence!.validFrom <= Date.now());
    const directive = await call('POST', '/directives', { models: ['m'], effect: 'suspend', effectiveAt: 'now', authority: 'board', reference: 'D-1', by: 'test', why: 'drill' });
    assert.equal(directive.status, 201, JSON.stringify(directive.body));
    assert.ok(directive.body.directive!.effectiveAt >= before);

    const cases: [string, string, unknown, number, string | null][] = [
      ['POST', '/keys', {}, 400, 'admin-test-token'],
      ['GET', '/keys/key_nope', undefined, 404, 'admin-test-token'],
      ['GET', '/keys', undefined, 401, 'wrong-token'],
      ['POST', '/directives', { models: [] }, 400, 'admin-test-token'],
      ['GET', '/directives/dir_nope', undefined, 404, 'admin-test-token'],
      ['POST', '/licences', { validFrom: 'yesterday' }, 400, 'admin-test-token'],
      ['GET', '/licences/lic_nope', undefined, 404, 'admin-test-token'],
      ['POST', '/policy/explain', { model: 'm' }, 400, 'admin-test-token'],
      ['GET', '/usage?from=not-a-day', undefined, 400, 'admin-test-token'],
      ['GET', '/audit?from=not-a-time', undefined, 400, 'admin-test-token'],
      ['GET', '/audit/text/req_nope', undefined, 404, 'admin-test-token'],
      ['GET', '/abuse/rings/ring_nope', undefined, 404, 'admin-test-token'],
      ['GET', '/no-such-route', undefined, 404, 'admin-test-token'],
    ];
    const wrong: string[] = [];
    for (const [method, path, body, status, token] of cases) {
      const r = await call(method, path, body, token);
      if (r.status !== status || !r.body.error || !ERROR_TYPES.has(r.body.error.type)) wrong.push(`${method} ${path}: ${r.status} ${JSON.stringify(r.body).slice(0, 160)}`);
    }
    assert.deepEqual(wrong, []);
  } finally {
    await composed.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
