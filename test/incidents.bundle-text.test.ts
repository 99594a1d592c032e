/**
 * Prompt text in evidence bundles, by role: a gateway with encrypted retention serves requests; an incident links
 * two of them. Over the admin API an admin (the service token, or a signed-in admin operator) gets the bundle with
 * the retained text of the linked requests, each inclusion audited as `retention.read` naming who and which
 * incident; an analyst or an auditor gets the bundle without text, and asking for text is refused 403 (audited as
 * `retention.denied`). The CLI includes text with --include-text only given a config with retention
 * on. The bundle with text still verifies offline. A gateway without retention says so in the bundle.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyBundle } from '../src/audit/bundle.ts';
import { run as incidentsCli } from '../src/incidents/cli.ts';
import { run as tokensCli } from '../src/console/tokens-cli.ts';
import { startHarness, type Harness } from './support/harness.ts';
import { tempDir } from './support/config.ts';
import { ADMIN_TOKEN, addOperator, auditRecords, call, signIn } from './support/console.ts';

function io() {
  let out = '';
  return { io: { out: (s: string) => void (out += s), err: (s: string) => void (out += s), env: {} }, out: () => out };
}

describe('prompt text in incident bundles, by role', () => {
  let h: Harness;
  let dir: string;
  const requestIds: string[] = [];
  let incidentId = '';

  before(async () => {
    dir = tempDir('gatehouse-bundle-text-');
    h = await startHarness({
      backend: 'sqlite',
      env: { GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN },
      extra: {
        audit: { path: join(dir, 'audit.jsonl'), checkpointEvery: 2, checkpointIntervalMs: 100, retention: { enabled: true, key: randomBytes(32).toString('base64'), dir: join(dir, 'text') } },
        console: { secureCookie: false },
      },
    });
    for (let i = 0; i < 4; i++) {
      const r = await fetch(`${h.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${h.keys.valid}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'frontier', messages: [{ role: 'user', content: `Secret prompt number ${i}` }] }) });
      assert.equal(r.status, 200);
      await r.arrayBuffer();
      requestIds.push(r.headers.get('x-request-id')!);
    }
    const opened = await call(h.url, 'POST', '/incidents', { token: ADMIN_TOKEN, body: { title: 'Extraction attempt', severity: 'high', by: 'alice', requestIds: [requestIds[1], requestIds[2]] } });
    assert.equal(opened.status, 201, JSON.stringify(opened.body));
    incidentId = opened.body.incident.id;
    await addOperator(h.storeUrl, 'ana', 'analyst');
    await addOperator(h.storeUrl, 'aud', 'auditor', ['--expires', new Date(Date.now() + 3600_000).toISOString()]);
    await addOperator(h.storeUrl, 'root', 'admin');
  });
  after(async () => {
    await h?.close();
  });

  test('the admin token gets the linked requests’ text, each inclusion audited; the bundle still verifies', async () => {
    const r = await call(h.url, 'GET', `/incidents/${incidentId}/bundle?text=true`, { token: ADMIN_TOKEN });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const b = r.body;
    assert.deepEqual(Object.keys(b.context.texts).sort(), [requestIds[1], requestIds[2]].sort());
    assert.equal(b.context.texts[requestIds[1]!].prompt.trim(), 'Secret prompt number 1');
    assert.equal(typeof b.context.texts[requestIds[2]!].response, 'string');
    assert.equal(b.context.promptText.included, 2);
    assert.equal(b.context.promptText.role, 'admin');
    assert.ok(!JSON.stringify(b).includes('Secret prompt number 0'), 'only linked requests');
    assert.equal(verifyBundle(b).ok, true);
    const reads = await auditRecords(h.url, (x) => x.action === 'retention.read' && x.details?.incident === incidentId, 2);
    assert.deepEqual(reads.map((x) => x.target).sort(), [requestIds[1], requestIds[2]].sort());
    assert.equal(reads[0].details.by, 'admin-api');
    assert.equal(reads[0].details.role, 'admin');
    const exported = await auditRecords(h.url, (x) => x.action === 'incident.exported' && x.target === incidentId && x.details?.texts === 2);
    assert.equal(exported.length, 1);
  });

  test('an admin operator may include text; an analyst or an auditor may export only without it (403 asking for it)', async () => {
    const root = await signIn(h.url, 'root');
    const rootBundle = await call(h.url, 'GET', `/incidents/${incidentId}/bundle?text=1`, { session: root });
    assert.equal(rootBundle.status, 200, JSON.stringify(rootBundle.body));
    assert.equal(Object.keys(rootBundle.body.context.texts).length, 2);
    const reads = await auditRecords(h.url, (x) => x.action === 'retention.read' && x.details?.by === 'root', 2);
    assert.equal(reads.length, 2);

    for (const name of ['ana', 'aud']) {
      const s = await signIn(h.url, name);
      const refused = await call(h.url, 'GET', `/incidents/${incidentId}/bundle?text=true`, { session: s });
      assert.equal(refused.status, 403, JSON.stringify(refused.body));
      assert.equal(refused.body.error.type, 'forbidden');
      assert.match(refused.body.error.message, /may not read retained prompt text/);
      const plain = await call(h.url, 'GET', `/incidents/${incidentId}/bundle`, { session: s });
      assert.equal(plain.status, 200, JSON.stringify(plain.body));
      assert.equal(plain.body.context.promptText, 'not included');
      assert.equal(plain.body.context.texts, undefined);
      assert.ok(!JSON.stringify(plain.body).includes('Secret prompt'));
      assert.equal(verifyBundle(plain.body).ok, true);
    }
    const denied = await auditRecords(h.url, (x) => x.action === 'retention.denied' && x.target === incidentId, 2);
    assert.deepEqual(denied.map((x) => `${x.actor}:${x.details.role}`).sort(), ['ana:analyst', 'aud:auditor']);
    const anaReads = await auditRecords(h.url, (x) => x.action === 'retention.read' && (x.details?.by === 'ana' || x.details?.by === 'aud'), 0);
    assert.equal(anaReads.length, 0);
  });

  test('a scoped admin token needs a scope covering retained text (audit:read) to include it', async () => {
    const make = async (name: string, scopes: string) => {
      let out = '';
      const code = await tokensCli(['tokens', 'create', name, '--operator', 'root', '--scopes', scopes, '--json', '--store', h.storeUrl], { out: (s) => void (out += s), err: (s) => void (out += s), env: process.env });
      assert.equal(code, 0, out);
      return (JSON.parse(out) as { secret: string }).secret;
    };
    const narrow = await make('incidents-only', 'incidents:read');
    const refused = await call(h.url, 'GET', `/incidents/${incidentId}/bundle?text=true`, { token: narrow });
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.equal((await call(h.url, 'GET', `/incidents/${incidentId}/bundle`, { token: narrow })).status, 200);
    const wide = await make('incidents-and-audit', 'incidents:read,audit:read');
    const ok = await call(h.url, 'GET', `/incidents/${incidentId}/bundle?text=true`, { token: wide });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(Object.keys(ok.body.context.texts).length, 2);
  });

  test('bad input: unknown query parameter, bad text value, unknown incident', async () => {
    const extra = await call(h.url, 'GET', `/incidents/${incidentId}/bundle?txt=1`, { token: ADMIN_TOKEN });
    assert.equal(extra.status, 400);
    const bad = await call(h.url, 'GET', `/incidents/${incidentId}/bundle?text=yes`, { token: ADMIN_TOKEN });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /query\.text/);
    const missing = await call(h.url, 'GET', '/incidents/inc_nope/bundle', { token: ADMIN_TOKEN });
    assert.equal(missing.status, 404);
  });

  test('CLI: --include-text reads retention through the config; without a retention config it is refused', async () => {
    const out = join(dir, 'cli-bundle.json');
    const a = io();
    assert.equal(await incidentsCli(['incidents', 'export', incidentId, '--store', h.storeUrl, '--config', h.configPath, '--out', out, '--by', 'carol', '--include-text'], a.io), 0, a.out());
    assert.match(a.out(), /retained text of 2 request\(s\)/);
    const b = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(b.context.texts[requestIds[2]!].prompt.trim(), 'Secret prompt number 2');
    assert.equal(b.context.promptText.role, 'cli');
    const reads = await auditRecords(h.url, (x) => x.action === 'retention.read' && x.details?.by === 'carol', 2);
    assert.equal(reads.length, 2);
    const c = io();
    assert.equal(await incidentsCli(['incidents', 'export', incidentId, '--store', h.storeUrl, '--audit-file', join(dir, 'audit.jsonl'), '--out', out, '--by', 'carol', '--include-text'], c.io), 2, c.out());
    assert.match(c.out(), /--include-text needs --config/);
  });
});

test('a gateway without retention says so in a bundle asked for text', async () => {
  const dir = tempDir('gatehouse-bundle-notext-');
  const h = await startHarness({ backend: 'sqlite', env: { GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN }, extra: { audit: { path: join(dir, 'audit.jsonl') } } });
  try {
    const opened = await call(h.url, 'POST', '/incidents', { token: ADMIN_TOKEN, body: { title: 'x', severity: 'low', by: 'alice' } });
    const r = await call(h.url, 'GET', `/incidents/${opened.body.incident.id}/bundle?text=true`, { token: ADMIN_TOKEN });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.match(r.body.context.promptText, /text retention is off/);
  } finally {
    await h.close();
  }
});
