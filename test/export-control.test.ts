/**
 * The export-control report: a real gateway with a policy requiring a licence for one model; requests refused
 * before a licence is granted, served under it, refused again after it is revoked. The report must attribute exactly
 * the served requests to the licence (revoked since, but valid when they were served) and list exactly the refusals.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run as exportControl } from '../src/export-control/cli.ts';
import { startHarness, type Harness } from './support/harness.ts';
import { tempDir } from './support/config.ts';

const ADMIN_TOKEN = 'export-control-admin';

describe('export-control report', () => {
  let h: Harness;
  const ids = { refused: [] as string[], licensed: [] as string[], other: [] as string[] };
  let licenceId = '';
  let auditPath = '';

  before(async () => {
    const dir = tempDir('gatehouse-exportctl-');
    const policy = join(dir, 'policy.yaml');
    writeFileSync(policy, 'version: 1\ndefault: allow\nrules:\n  - id: lite-licensed\n    models: [lite]\n    action: require\n    require: { licence: true }\n');
    h = await startHarness({ backend: 'sqlite', env: { GATEHOUSE_ADMIN_TOKEN: ADMIN_TOKEN }, extra: { audit: { path: (auditPath = join(dir, 'audit.jsonl')) }, policy: { file: policy } } });
    const call = async (model: string, expect: number) => {
      const r = await fetch(`${h.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${h.keys.valid}`, 'content-type': 'application/json' }, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Hello' }] }) });
      assert.equal(r.status, expect, await r.text());
      return r.headers.get('x-request-id')!;
    };
    const admin = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
    ids.refused.push(await call('lite', 403));
    const now = Date.now();
    const grant = await fetch(`${h.url}/admin/v1/licences`, { method: 'POST', headers: admin, body: JSON.stringify({ licensee: { org: 'org-test' }, models: ['lite'], nationalities: ['US'], destinations: ['US'], validFrom: now - 3_600_000, validTo: now + 86_400_000, reference: 'EAR-2026-117', authority: 'BIS', by: 'officer' }) });
    assert.equal(grant.status, 201, await grant.clone().text());
    licenceId = ((await grant.json()) as any).licence.id;
    ids.licensed.push(await call('lite', 200), await call('lite', 200));
    ids.other.push(await call('frontier', 200));
    const revoke = await fetch(`${h.url}/admin/v1/licences/${licenceId}`, { method: 'DELETE', headers: admin, body: JSON.stringify({ by: 'officer', why: 'export ended' }) });
    assert.equal(revoke.status, 200);
    ids.refused.push(await call('lite', 403));
  });
  after(async () => {
    await h?.close();
  });

  test('the audit record of a request served under a licence names it', () => {
    const recs = readFileSync(auditPath, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l)).filter((r) => ids.licensed.includes(r.requestId));
    assert.deepEqual(recs.map((r) => r.ref?.licence), [licenceId, licenceId]);
    assert.deepEqual(recs.map((r) => r.ref?.rule), ['lite-licensed', 'lite-licensed']);
  });

  test('every request served under the licence, and every refusal for lack of one', async () => {
    let out = '';
    let err = '';
    const code = await exportControl(['export-control', 'report', '--config', h.configPath, '--store', h.storeUrl, '--json'], { out: (s) => (out += s), err: (s) => (err += s), env: {} });
    assert.equal(code, 0, err);
    const r = JSON.parse(out);
    const section = r.licences.find((s: any) => s.licence.id === licenceId);
    assert.ok(section, 'the revoked licence is in the report for the period it was valid');
    assert.equal(section.served.count, 2);
    assert.deepEqual(section.served.requests.map((q: any) => q.requestId).sort(), [...ids.licensed].sort());
    assert.deepEqual(section.served.byResidence, { US: 2 });
    assert.deepEqual(section.served.byModel, { lite: 2 });
    assert.equal(section.served.requests[0].orgId, 'org-test');
    assert.equal(r.refusedForLackOfLicence.count, 2);
    assert.deepEqual(r.refusedForLackOfLicence.requests.map((q: any) => q.requestId).sort(), [...ids.refused].sort());
    assert.deepEqual(r.refusedForLackOfLicence.byRequiredBy, { 'rule:lite-licensed': 2 });
    assert.ok(!JSON.stringify(r.licences).includes(ids.other[0]!), 'a request that needed no licence is not attributed to one');

    out = '';
    assert.equal(await exportControl(['export-control', 'report', '--config', h.configPath, '--store', h.storeUrl, '--requests', '--licence', licenceId], { out: (s) => (out += s), err: (s) => (err += s), env: {} }), 0, err);
    assert.match(out, new RegExp(`licence ${licenceId} \\(EAR-2026-117, BIS\\): org org-test; models lite; nationalities US; destinations US; .*revoked`));
    assert.match(out, /served 2: by model lite 2; by residence US 2/);
    for (const id of ids.licensed) assert.ok(out.includes(id));
    assert.match(out, /refused for lack of a licence: 2; by model lite 2; required by rule:lite-licensed 2/);

    // A window after the revocation holds only the last refusal.
    out = '';
    const code2 = await exportControl(['export-control', 'report', '--config', h.configPath, '--store', h.storeUrl, '--json', '--from', String(Date.now() + 60_000)], { out: (s) => (out += s), err: (s) => (err += s), env: {} });
    assert.equal(code2, 0);
    assert.equal(JSON.parse(out).refusedForLackOfLicence.count, 0);
    // The admin API gives the same record.
    const api = await fetch(`${h.url}/admin/v1/export-control/report?licence=${licenceId}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(api.status, 200);
    const body = (await api.json()) as any;
    assert.deepEqual(body.licences.map((x: any) => [x.licence.id, x.served.count]), [[licenceId, 2]]);
    assert.equal(body.refusedForLackOfLicence.count, 2);
    assert.equal((await fetch(`${h.url}/admin/v1/export-control/report?from=soon`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status, 400);
    err = '';
    assert.equal(await exportControl(['export-control', 'report', '--from', 'yesterday-ish'], { out: () => {}, err: (s) => (err += s), env: {} }), 2);
    assert.match(err, /--from: 'yesterday-ish' is not a date/);
  });
});
