import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { AuditLog } from '../src/audit/log.ts';
import { adminRecord, auditRecordFromEvent } from '../src/audit/record.ts';
import { run } from '../src/audit/cli.ts';
import { registerAuditAdminRoutes } from '../src/audit/admin-routes.ts';
import { TextVault, retentionSchema } from '../src/audit/retention.ts';
import type { RequestEvent } from '../src/core/types.ts';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const privPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const pubB64 = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');

function event(i: number, over: Partial<RequestEvent> = {}): RequestEvent {
  return {
    requestId: `req_${i}`, time: 1_000 + i, keyId: `key_${i % 2}`, accountId: i % 2 ? 'acct_b' : 'acct_a', orgId: 'org_1', protocol: 'openai', stream: false,
    modelRequested: 'frontier-1', modelServed: 'frontier-1', outcome: 'ok', status: 200, inputTokens: 10, outputTokens: 20, usageEstimated: false,
    costUsd: 0.001, latencyMs: 12, promptHash: 'ab'.repeat(32), ...over,
  };
}

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  try {
    const code = await run(argv);
    return { code, out, err };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
}

async function makeLog() {
  const dir = mkdtempSync(join(tmpdir(), 'gh-audit-cli-'));
  const path = join(dir, 'audit.jsonl');
  let t = Date.parse('2026-03-01T00:00:00Z');
  const log = await AuditLog.open({ path, signingKey: privPem, textHashKey: 'secret' }, { clock: () => (t += 60_000), onProblem: () => {} });
  for (let i = 0; i < 6; i++) await log.append(auditRecordFromEvent(event(i)));
  await log.append(auditRecordFromEvent(event(6, { outcome: 'refused', status: 403, code: 'directive_suspended', ref: { directive: 'd-1' }, modelServed: null })));
  await log.append(adminRecord('key.revoked', 'admin:alice', 'key_1', { reason: 'leaked' }));
  assert.equal(log.hashText('hello')!.length, 64);
  await log.close();
  return { dir, path };
}

test('audit verify: exit 0 on an intact log, exit 1 naming the first bad record', async () => {
  const { dir, path } = await makeLog();
  let r = await capture(['audit', 'verify', '--file', path, '--public-key', pubB64]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /audit verify OK: 9 records/);
  assert.match(r.out, /signatures verified/);
  const lines = readFileSync(path, 'utf8').split('\n');
  lines[2] = lines[2].replace('"costUsd":0.001', '"costUsd":0');
  writeFileSync(path, lines.join('\n'));
  r = await capture(['audit', 'verify', '--file', path, '--public-key', pubB64]);
  assert.equal(r.code, 1);
  assert.match(r.err, /first bad record: .*record seq 3, line 3, byte offset \d+: .*edited/);
  r = await capture(['audit', 'verify', '--bogus']);
  assert.equal(r.code, 2);
  rmSync(dir, { recursive: true });
});

test('audit query and export filter by principal, model, action and time; csv is well-formed', async () => {
  const { dir, path } = await makeLog();
  let r = await capture(['audit', 'query', '--file', path, '--action', 'refuse']);
  assert.equal(r.code, 0, r.err);
  const recs = r.out.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(recs.length, 1);
  assert.equal(recs[0].code, 'directive_suspended');
  assert.equal(recs[0].ref.directive, 'd-1');
  assert.ok(!('prompt' in recs[0]));
  r = await capture(['audit', 'query', '--file', path, '--principal', 'acct_b']);
  assert.equal(r.out.trim().split('\n').length, 3); // req 1, 3, 5
  r = await capture(['audit', 'query', '--file', path, '--principal', 'key_1', '--action', 'key.revoked']);
  assert.equal(JSON.parse(r.out).actor, 'admin:alice');
  // Clock gives record n the time 2026-03-01T00:0n:00Z.
  r = await capture(['audit', 'export', '--file', path, '--from', '2026-03-01T00:02:00Z', '--to', '2026-03-01T00:04:00Z', '--format', 'csv']);
  const rows = r.out.trim().split('\n');
  assert.equal(rows[0].split(',')[0], 'seq');
  assert.equal(rows.length, 1 + 3);
  assert.equal(rows[1].split(',')[0], '2');
  r = await capture(['audit', 'export', '--file', path, '--from', 'yesterday']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--from: 'yesterday' is not a date/);
  r = await capture(['audit', 'export', '--file', path, '--format', 'xml']);
  assert.equal(r.code, 2);
  rmSync(dir, { recursive: true });
});

test('GET /admin/v1/audit filters and rejects bad parameters precisely', async () => {
  const { dir, path } = await makeLog();
  const app = Fastify();
  registerAuditAdminRoutes(app, { auditPath: path });
  let res = await app.inject({ method: 'GET', url: '/admin/v1/audit?account=acct_a&model=frontier-1&limit=2' });
  assert.equal(res.statusCode, 200);
  const body = res.json();
  assert.equal(body.records.length, 2);
  assert.equal(body.truncated, true);
  assert.ok(body.records.every((x: { principal: { accountId: string } }) => x.principal.accountId === 'acct_a'));
  res = await app.inject({ method: 'GET', url: '/admin/v1/audit?limit=0' });
  assert.equal(res.statusCode, 400);
  assert.match(res.json().error.message, /query.limit/);
  res = await app.inject({ method: 'GET', url: '/admin/v1/audit?from=notadate' });
  assert.equal(res.statusCode, 400);
  res = await app.inject({ method: 'GET', url: '/admin/v1/audit?colour=red' });
  assert.equal(res.statusCode, 400);
  assert.match(res.json().error.message, /query.colour: unknown/);
  await app.close();
  rmSync(dir, { recursive: true });
});

test('audit text decrypts one request\'s retained text; purge-text deletes expired days; both need retention on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-audit-text-'));
  const textDir = join(dir, 'text');
  const key = Buffer.alloc(32, 9).toString('hex');
  const cfg = join(dir, 'gatehouse.yaml');
  writeFileSync(cfg, `audit:\n  path: ${join(dir, 'a.jsonl')}\n  retention: { enabled: true, key: '${key}', days: 3, dir: ${textDir} }\n`);
  const vault = new TextVault(retentionSchema.parse({ enabled: true, key, days: 3, dir: textDir }));
  await vault.store('req_text', { prompt: 'what is a mutex', response: 'a lock' });
  await vault.store('req_old', { prompt: 'old' }, Date.now() - 10 * 86_400_000);
  await vault.close();

  const got = await capture(['audit', 'text', 'req_text', '--config', cfg]);
  assert.equal(got.code, 0, got.err);
  assert.deepEqual(JSON.parse(got.out), { requestId: 'req_text', prompt: 'what is a mutex', response: 'a lock' });
  const missing = await capture(['audit', 'text', 'req_nope', '--config', cfg]);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /no retained text for request req_nope/);
  assert.equal((await capture(['audit', 'text', '--config', cfg])).code, 2);
  assert.equal((await capture(['audit', 'text', 'a', 'b', '--config', cfg])).code, 2);

  const purged = await capture(['audit', 'purge-text', '--config', cfg]);
  assert.equal(purged.code, 0);
  assert.match(purged.out, /deleted 1 day file/);
  assert.match((await capture(['audit', 'purge-text', '--config', cfg])).out, /nothing older than 3 days/);

  const off = join(dir, 'off.yaml');
  writeFileSync(off, `audit:\n  path: ${join(dir, 'a.jsonl')}\n`);
  const refused = await capture(['audit', 'text', 'req_text', '--config', off]);
  assert.equal(refused.code, 2);
  assert.match(refused.err, /retention is off/);
  rmSync(dir, { recursive: true });
});
